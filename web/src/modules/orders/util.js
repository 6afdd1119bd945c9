import { i18n } from '../../i18n/index.js'
import { api } from '../../api.js'

const t = (k, p) => i18n.global.t(k, p)
export const TYPES = ['repair', 'installation', 'delivery', 'return_exchange', 'maintenance', 'inspection', 'startup', 'complaint', 'consultation']
export const PRIORITIES = ['low', 'medium', 'high', 'urgent']
export const SEVERITIES = ['critical', 'serious', 'normal', 'minor']
export const SLA_TAG = { ok: 'success', warning: 'warning', breached: 'danger', paused: 'info', met: 'success' }
export const typeLabel = (k) => (k ? t('ord.types.' + k) : '')
export const prioLabel = (k) => (k ? t('ord.priorities.' + k) : '')
export const sevLabel = (k) => (k ? t('ord.severities.' + k) : '')
export const slaLabel = (k) => (k ? t('ord.slas.' + k) : '')
export const warrantyLabel = (k) => (k ? t('ord.warranties.' + k) : '')
export function yuan(fen) {
  if (fen === null || fen === undefined) return ''
  const neg = fen < 0
  const a = Math.abs(fen)
  const s = Math.floor(a / 100).toLocaleString('en-US') + '.' + String(a % 100).padStart(2, '0')
  return '¥' + (neg ? '-' : '') + s
}
// A state's display name from the order's workflow (falls back to the code).
export function stateName(order, code, locale) {
  const st = order && order.workflow && order.workflow.states.find((s) => s.code === code)
  if (!st) return code
  return locale === 'en' ? st.name_en : st.name
}
export { api }
