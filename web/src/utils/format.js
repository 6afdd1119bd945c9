// Display helpers. The API speaks UTC ISO-8601; people read Asia/Shanghai time.
import { i18n } from '../i18n/index.js'

export const DISPLAY_TZ = 'Asia/Shanghai'

const fmtCache = new Map()
function formatter(locale, withSeconds) {
  const key = `${locale}|${withSeconds}`
  if (!fmtCache.has(key)) {
    fmtCache.set(
      key,
      new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', {
        timeZone: DISPLAY_TZ,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: withSeconds ? '2-digit' : undefined,
        hour12: false,
      }),
    )
  }
  return fmtCache.get(key)
}

// "2026-11-22T10:00:00Z" -> "2026-11-22 18:00" (Asia/Shanghai).
export function formatTime(iso, { seconds = false } = {}) {
  if (!iso) return ''
  const d = iso instanceof Date ? iso : new Date(iso)
  if (Number.isNaN(d.getTime())) return String(iso)
  const parts = {}
  for (const p of formatter(i18n.global.locale.value, seconds).formatToParts(d)) parts[p.type] = p.value
  const hour = parts.hour === '24' ? '00' : parts.hour
  let s = `${parts.year}-${parts.month}-${parts.day} ${hour}:${parts.minute}`
  if (seconds) s += `:${parts.second}`
  return s
}

export function prettyJson(v) {
  if (v === null || v === undefined) return ''
  try {
    return JSON.stringify(v, null, 2)
  } catch {
    return String(v)
  }
}
