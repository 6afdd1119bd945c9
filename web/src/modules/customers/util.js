// Helpers shared by the customers pages.
import { i18n } from '../../i18n/index.js'
import { api, getCsrfToken, ApiError } from '../../api.js'

export const KINDS = ['individual', 'organisation']
export const TYPES = ['direct', 'indirect', 'dealer', 'agent']
export const TIERS = ['vip', 'key', 'small']
export const TIER_TAG = { vip: 'danger', key: 'warning', small: 'info' }

const t = (k) => i18n.global.t(k)
export const kindLabel = (k) => (k ? t('cust.kinds.' + k) : '')
export const typeLabel = (k) => (k ? t('cust.types.' + k) : '')
export const tierLabel = (k) => (k ? t('cust.tiers.' + k) : '')

// 12345600 fen -> "¥123,456.00"
export function money(fen) {
  if (fen == null) return ''
  const yuan = Number(fen) / 100
  return '¥' + yuan.toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })
}

export function mainPhone(c) {
  if (!c) return ''
  const p = (c.phones && c.phones[0]) || (c.contacts || []).flatMap((x) => x.phones || [])[0]
  return p ? p.number : ''
}
export function mainAddress(c) {
  if (!c || !c.addresses || !c.addresses.length) return ''
  const a = c.addresses.find((x) => x.is_default) || c.addresses[0]
  return a.full_address
}

// POST /customers, keeping the "duplicates" list of a 409 answer (the
// generic api wrapper keeps only the error object).
export async function createCustomer(body) {
  const res = await fetch('/api/v1/customers', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRF-Token': getCsrfToken() },
    body: JSON.stringify(body),
  })
  let data = null
  try {
    data = await res.json()
  } catch {
    data = null
  }
  if (res.ok) return { customer: data }
  if (res.status === 409 && data && Array.isArray(data.duplicates)) return { duplicates: data.duplicates }
  const e = (data && data.error) || {}
  throw new ApiError({ status: res.status, code: e.code, message: e.message, field: e.field })
}

export { api }
