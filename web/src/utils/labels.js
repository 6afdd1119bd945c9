// Labels for codes that come from the server (role, org type, permission...).
// Unknown codes are shown as they are.
import { i18n } from '../i18n/index.js'

function label(prefix, code) {
  if (code === null || code === undefined || code === '') return ''
  const key = `${prefix}.${code}`
  return i18n.global.te(key) ? i18n.global.t(key) : String(code)
}

export const roleLabel = (code) => label('role', code)
export const orgTypeLabel = (code) => label('orgType', code)
export const permLabel = (code) => label('perm', code)
export const auditEntityLabel = (code) => label('audit.entities', code)
export const auditActionLabel = (code) => label('audit.actions', code)

export const ORG_TYPES = ['hq', 'region', 'branch', 'provider', 'dealer']
export const ORG_TYPE_TAG = { hq: 'primary', region: 'success', branch: 'warning', provider: 'info', dealer: 'info' }
