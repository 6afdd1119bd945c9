// Core shell module: login, home, error pages.
import { HomeFilled } from '@element-plus/icons-vue'

export default {
  key: 'core',
  messages: {},
  routes: [
    {
      path: '/login',
      name: 'login',
      component: () => import('./LoginPage.vue'),
      meta: { public: true, bare: true, titleKey: 'auth.login' },
    },
    {
      path: '',
      name: 'home',
      component: () => import('./HomePage.vue'),
      meta: { titleKey: 'menu.home' },
    },
    {
      path: 'forbidden',
      name: 'forbidden',
      component: () => import('./ForbiddenPage.vue'),
      meta: { titleKey: 'page.forbiddenTitle' },
    },
  ],
  menu: [{ key: 'home', titleKey: 'menu.home', icon: HomeFilled, to: '/', order: 0 }],
}
