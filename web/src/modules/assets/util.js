// Helpers shared by the install-base pages (and the contracts module).
import { i18n } from '../../i18n/index.js'

export const STATUSES = ['in_stock', 'sold', 'installed', 'scrapped', 'replaced']
export const STATUS_TAG = { in_stock: 'info', sold: 'primary', installed: 'success', scrapped: 'danger', replaced: 'warning' }
export const DECISION_TAG = {
  unknown_serial: 'info', not_sold: 'info', inactive: 'danger', under_contract: 'success', in_warranty: 'success', out_of_warranty: 'danger',
}

const t = (k, a) => i18n.global.t(k, a)
const te = (k) => i18n.global.te(k)
export const statusLabel = (s) => (s ? (te('ib.statuses.' + s) ? t('ib.statuses.' + s) : s) : '')
export const eventLabel = (k) => (te('ib.events.' + k) ? t('ib.events.' + k) : k)
export const decisionLabel = (s) => (te('ib.decision.' + s) ? t('ib.decision.' + s) : s)

// "KFR-35GW 分体空调" or "Maker / model text" for a third-party asset.
export function modelText(a) {
  if (!a) return ''
  if (a.third_party) return [a.maker, a.model_text].filter(Boolean).join(' / ') + ' (' + t('ib.thirdParty') + ')'
  return [a.model_code, a.model_name].filter(Boolean).join(' ')
}

// A warranty reason ({code, args, text: {en, 'zh-CN'}}) in the UI language.
export function reasonText(r) {
  if (!r) return ''
  const texts = r.text || {}
  return texts[i18n.global.locale.value] || texts.en || r.code
}
const NOT_APPLIED = new Set(['contract_inactive', 'contract_not_started', 'contract_expired'])
export const notAppliedReasons = (w) => ((w && w.reasons) || []).filter((r) => NOT_APPLIED.has(r.code))

// Today in China (UTC+8), the business calendar: "YYYY-MM-DD".
export const todayCn = () => new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10)

// Basis points as a discount: 1000 -> "10%".
export const pct = (bp) => (bp == null ? '' : (bp / 100).toFixed(bp % 100 ? 2 : 0) + '%')
