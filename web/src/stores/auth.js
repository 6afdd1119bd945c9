import { defineStore } from 'pinia'
import { api, setCsrfToken } from '../api.js'
import { setLocale, storedLocale } from '../i18n/index.js'
import { useOrgUnitsStore } from './orgUnits.js'

export const useAuthStore = defineStore('auth', {
  state: () => ({
    user: null, // the /me document
    csrfToken: '',
    loaded: false, // /me has been asked at least once since page load
  }),
  getters: {
    loggedIn: (s) => !!s.user,
    permissions: (s) => new Set((s.user && s.user.permissions) || []),
    roles: (s) => (s.user && s.user.roles) || [],
  },
  actions: {
    setUser(user, csrf) {
      this.user = user || null
      this.csrfToken = csrf || (user && user.csrf_token) || ''
      setCsrfToken(this.csrfToken)
      // The user's own language applies unless this browser chose one.
      if (user && user.locale && !storedLocale()) setLocale(user.locale, { persist: false })
    },
    clear() {
      this.user = null
      this.csrfToken = ''
      setCsrfToken('')
      // Cached data belongs to the user who is gone.
      useOrgUnitsStore().reset()
    },
    // Ask the server who we are (cookie session); refreshes the CSRF token.
    async load() {
      try {
        const me = await api.get('/me', undefined, { noAuthRedirect: true })
        this.setUser(me, me && me.csrf_token)
      } catch (e) {
        if (e.status === 401) this.clear()
        else if (!this.loaded) {
          this.loaded = true
          throw e
        }
      }
      this.loaded = true
      return this.user
    },
    async login(username, password) {
      const res = await api.post('/auth/login', { username, password }, { noAuthRedirect: true })
      this.setUser(res.user, res.csrf_token)
      this.loaded = true
      // /me is the full document (permissions etc.); login may return less.
      if (!res.user || !res.user.permissions) await this.load()
      return this.user
    },
    async logout() {
      try {
        await api.post('/auth/logout', undefined, { noAuthRedirect: true })
      } catch {
        /* the session is gone either way */
      }
      this.clear()
    },
    // can('org.read') or can(['a', 'b']) (any of). Empty / undefined: everyone.
    can(perm) {
      if (!perm || (Array.isArray(perm) && perm.length === 0)) return true
      const p = this.permissions
      return Array.isArray(perm) ? perm.some((x) => p.has(x)) : p.has(perm)
    },
  },
})
