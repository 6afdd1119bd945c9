import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN.js'
import en from './en.js'
import { moduleMessages } from '../modules.js'

export const LOCALES = ['zh-CN', 'en']
export const DEFAULT_LOCALE = 'zh-CN'
const STORAGE_KEY = 'shouhou.locale'

function isObject(v) {
  return v && typeof v === 'object' && !Array.isArray(v)
}

export function deepMerge(target, src) {
  for (const [k, v] of Object.entries(src || {})) {
    if (isObject(v) && isObject(target[k])) deepMerge(target[k], v)
    else if (isObject(v)) target[k] = deepMerge({}, v)
    else target[k] = v
  }
  return target
}

function buildMessages() {
  const messages = { 'zh-CN': deepMerge({}, zhCN), en: deepMerge({}, en) }
  for (const m of moduleMessages()) {
    for (const loc of LOCALES) if (m[loc]) deepMerge(messages[loc], m[loc])
  }
  return messages
}

export function normalizeLocale(l) {
  if (!l) return null
  const s = String(l).toLowerCase()
  if (s.startsWith('zh')) return 'zh-CN'
  if (s.startsWith('en')) return 'en'
  return null
}

export function storedLocale() {
  try {
    return normalizeLocale(localStorage.getItem(STORAGE_KEY))
  } catch {
    return null
  }
}

export const i18n = createI18n({
  legacy: false,
  globalInjection: true,
  locale: storedLocale() || DEFAULT_LOCALE,
  fallbackLocale: DEFAULT_LOCALE,
  messages: buildMessages(),
  missingWarn: false,
  fallbackWarn: false,
})

document.documentElement.lang = i18n.global.locale.value

// Switch the UI language. persist=true remembers the choice in localStorage.
export function setLocale(locale, { persist = true } = {}) {
  const l = normalizeLocale(locale) || DEFAULT_LOCALE
  i18n.global.locale.value = l
  document.documentElement.lang = l
  if (persist) {
    try {
      localStorage.setItem(STORAGE_KEY, l)
    } catch {
      /* private mode: ignore */
    }
  }
}

export function currentLocale() {
  return i18n.global.locale.value
}

export default i18n
