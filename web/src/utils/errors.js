import { reactive } from 'vue'
import { ElMessage } from 'element-plus'
import { i18n } from '../i18n/index.js'

const CODE_KEYS = {
  conflict: 'errors.conflict',
  forbidden: 'errors.forbidden',
  not_found: 'errors.notFound',
  network: 'errors.network',
  rate_limited: 'errors.rateLimited',
  invalid: 'errors.invalid',
  internal: 'errors.internal',
}

// A message for the user from an ApiError (or any Error).
export function errorMessage(err) {
  const t = i18n.global.t
  if (!err) return t('errors.unknown')
  const code = err.code
  // Our own wording for these: the server's text is not meant for end users.
  if (code === 'conflict' || code === 'network' || code === 'rate_limited') return t(CODE_KEYS[code])
  if (err.status && err.message && !/^HTTP \d+$/.test(err.message)) return err.message
  return t(CODE_KEYS[code] || 'errors.unknown')
}

export function showError(err) {
  // 401: the api wrapper already sends the user to the login page.
  if (err && err.status === 401) return
  if (err && err.name === 'AbortError') return
  ElMessage({ type: 'error', message: errorMessage(err), showClose: true, duration: 5000 })
}

// Per-field server errors for a form:
//   const fe = useFieldErrors()
//   <el-form-item :error="fe.errors.username">
//   catch (e) { if (!fe.apply(e)) showError(e) }
export function useFieldErrors() {
  const errors = reactive({})
  function clear() {
    for (const k of Object.keys(errors)) delete errors[k]
  }
  // Returns true when the error was attached to a field of the form.
  function apply(err, knownFields) {
    clear()
    if (!err || !err.field) return false
    // The server may name nested fields ("roles[0]", "address.city"): use the head.
    const head = String(err.field).split(/[.[]/)[0]
    if (knownFields && !knownFields.includes(head)) return false
    errors[head] = err.message || i18n.global.t('errors.invalid')
    return true
  }
  return { errors, clear, apply }
}
