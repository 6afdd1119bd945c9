// Thin wrapper around fetch for the Shouhou JSON API (/api/v1).
//
//   import { api } from '@/api'
//   const me = await api.get('/me')
//   const u  = await api.post('/users', { username: 'x', ... })
//   const page = await api.get('/users', { q: 'li', limit: 50, cursor })
//
// - cookies are sent (credentials 'same-origin');
// - unsafe methods (POST/PUT/PATCH/DELETE) carry the X-CSRF-Token header;
// - non-2xx answers throw an ApiError with {status, code, message, field};
// - a 401 calls the handler set with onUnauthorized() (the app sends the user
//   to the login page) unless the call passed { noAuthRedirect: true }.

export const API_BASE = '/api/v1'

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

let csrfToken = ''
let unauthorizedHandler = null

export function setCsrfToken(token) {
  csrfToken = token || ''
}

export function getCsrfToken() {
  return csrfToken
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler
}

export class ApiError extends Error {
  constructor({ status, code, message, field, details }) {
    super(message || code || `HTTP ${status}`)
    this.name = 'ApiError'
    this.status = status
    this.code = code || statusCode(status)
    this.field = field || null
    this.details = details || null
  }
}

function statusCode(status) {
  switch (status) {
    case 0: return 'network'
    case 400: return 'invalid'
    case 401: return 'unauthorized'
    case 403: return 'forbidden'
    case 404: return 'not_found'
    case 409: return 'conflict'
    case 422: return 'invalid'
    case 429: return 'rate_limited'
    default: return status >= 500 ? 'internal' : 'error'
  }
}

// Build "?a=1&b=2", leaving out null / undefined / '' values.
export function queryString(params) {
  if (!params) return ''
  const sp = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue
    if (Array.isArray(v)) v.forEach((x) => sp.append(k, String(x)))
    else sp.append(k, String(v))
  }
  const s = sp.toString()
  return s ? `?${s}` : ''
}

export async function request(method, path, { body, query, headers, noAuthRedirect = false, signal } = {}) {
  method = method.toUpperCase()
  const url = (path.startsWith('/api/') ? path : API_BASE + path) + queryString(query)
  const h = { Accept: 'application/json', ...(headers || {}) }
  if (body !== undefined) h['Content-Type'] = 'application/json'
  if (UNSAFE.has(method) && csrfToken) h['X-CSRF-Token'] = csrfToken

  let res
  try {
    res = await fetch(url, {
      method,
      headers: h,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    })
  } catch (e) {
    if (e && e.name === 'AbortError') throw e
    throw new ApiError({ status: 0, code: 'network', message: e && e.message })
  }

  let data = null
  if (res.status !== 204) {
    const text = await res.text()
    if (text) {
      try {
        data = JSON.parse(text)
      } catch {
        data = null
      }
    }
  }

  if (!res.ok) {
    const e = (data && data.error) || {}
    const err = new ApiError({
      status: res.status,
      code: e.code,
      message: e.message,
      field: e.field,
      details: e.details,
    })
    if (res.status === 401 && !noAuthRedirect && unauthorizedHandler) {
      unauthorizedHandler(err)
    }
    throw err
  }
  return data
}

export const api = {
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, body, opts) => request('POST', path, { ...opts, body }),
  put: (path, body, opts) => request('PUT', path, { ...opts, body }),
  patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
  delete: (path, opts) => request('DELETE', path, opts),
}

// Fetch every page of a cursor-paginated list ({items, next_cursor}).
// maxPages guards against a runaway loop.
export async function fetchAll(path, query = {}, { limit = 200, maxPages = 100 } = {}) {
  const all = []
  let cursor = null
  for (let i = 0; i < maxPages; i++) {
    const page = await api.get(path, { ...query, limit, cursor })
    all.push(...((page && page.items) || []))
    cursor = page && page.next_cursor
    if (!cursor) break
  }
  return all
}

export default api
