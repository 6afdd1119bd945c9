import { createRouter, createWebHistory } from 'vue-router'
import AppLayout from './layout/AppLayout.vue'
import { bareRoutes, layoutRoutes } from './modules.js'
import { useAuthStore } from './stores/auth.js'
import { onUnauthorized } from './api.js'
import { i18n } from './i18n/index.js'

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    ...bareRoutes(),
    {
      path: '/',
      component: AppLayout,
      children: [
        ...layoutRoutes(),
        {
          path: ':pathMatch(.*)*',
          name: 'not-found',
          component: () => import('./modules/core/NotFoundPage.vue'),
          meta: { titleKey: 'page.notFoundTitle' },
        },
      ],
    },
  ],
  scrollBehavior: () => ({ top: 0 }),
})

function safeRedirect(r) {
  // Only same-site paths; never "//host" or absolute URLs.
  return typeof r === 'string' && r.startsWith('/') && !r.startsWith('//') && !r.startsWith('/login') ? r : '/'
}
export { safeRedirect }

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (!auth.loaded) {
    try {
      await auth.load()
    } catch {
      /* server unreachable: treated as logged out; the login page says so */
    }
  }
  if (to.meta.public) {
    if (to.name === 'login' && auth.loggedIn) return safeRedirect(to.query.redirect)
    return true
  }
  if (!auth.loggedIn) {
    return { name: 'login', query: to.fullPath && to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  // The innermost matched route with a permission decides.
  const perm = [...to.matched].reverse().find((r) => r.meta && r.meta.permission)
  if (perm && !auth.can(perm.meta.permission)) {
    return { name: 'forbidden', query: { from: to.fullPath } }
  }
  return true
})

function updateTitle(route) {
  const t = i18n.global.t
  const key = route.meta && route.meta.titleKey
  document.title = key ? `${t(key)} · ${t('app.name')}` : t('app.name')
}
router.afterEach((to) => updateTitle(to))
export function refreshTitle() {
  updateTitle(router.currentRoute.value)
}

// Any API call answered 401 (session expired, logged out elsewhere): back to login.
let redirecting = false
onUnauthorized(() => {
  const auth = useAuthStore()
  auth.clear()
  const cur = router.currentRoute.value
  if (redirecting || cur.name === 'login') return
  redirecting = true
  router
    .push({ name: 'login', query: { redirect: cur.fullPath, expired: '1' } })
    .finally(() => (redirecting = false))
})

export default router
