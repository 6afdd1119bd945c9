// Customers (M1): list and search, customer 360, create/edit with the
// division cascader, tier thresholds, and the CTI screen pop page
// (/customers/pop?phone=..., for a telephony integration to open).
import { UserFilled } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'customers',
  messages,
  routes: [
    {
      path: 'customers',
      name: 'customers',
      component: () => import('./CustomersPage.vue'),
      meta: { permission: 'customer.read', titleKey: 'menu.customers' },
    },
    {
      path: 'customers/pop',
      name: 'customer-pop',
      component: () => import('./ScreenPopPage.vue'),
      meta: { permission: 'customer.read', titleKey: 'cust.pop.title' },
    },
    {
      path: 'customers/:id(\\d+)',
      name: 'customer-360',
      component: () => import('./Customer360Page.vue'),
      meta: { permission: 'customer.read', titleKey: 'cust.view360' },
    },
  ],
  menu: [
    { key: 'customers', titleKey: 'menu.customers', icon: UserFilled, to: '/customers', permission: 'customer.read', order: 20 },
  ],
}
