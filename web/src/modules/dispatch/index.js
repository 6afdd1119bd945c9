// Service network and dispatch (M5): the live dispatch board (engineers'
// status and today's jobs, unassigned and at-risk orders, manual and bulk
// dispatch with every candidate's figures), the capacity view, the outlet
// list, and the engineer's phone-sized status page.
import { Van, Odometer, OfficeBuilding, Iphone } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'dispatch',
  messages,
  menuGroups: [{ key: 'dispatch', titleKey: 'menu.dispatchGroup', icon: Van, order: 120 }],
  routes: [
    {
      path: 'dispatch/board',
      name: 'dispatch-board',
      component: () => import('./BoardPage.vue'),
      meta: { permission: 'order.dispatch', titleKey: 'menu.dispatchBoard' },
    },
    {
      path: 'dispatch/capacity',
      name: 'dispatch-capacity',
      component: () => import('./CapacityPage.vue'),
      meta: { permission: 'network.read', titleKey: 'menu.dispatchCapacity' },
    },
    {
      path: 'network/outlets',
      name: 'outlets',
      component: () => import('./OutletsPage.vue'),
      meta: { permission: 'network.read', titleKey: 'menu.outlets' },
    },
    {
      path: 'engineer/status',
      name: 'engineer-status',
      component: () => import('./MyStatusPage.vue'),
      meta: { permission: 'engineer.status', titleKey: 'menu.myStatus' },
    },
  ],
  menu: [
    { key: 'dispatch-board', titleKey: 'menu.dispatchBoard', icon: Van, to: '/dispatch/board', permission: 'order.dispatch', group: 'dispatch', order: 10 },
    { key: 'dispatch-capacity', titleKey: 'menu.dispatchCapacity', icon: Odometer, to: '/dispatch/capacity', permission: 'network.read', group: 'dispatch', order: 20 },
    { key: 'outlets', titleKey: 'menu.outlets', icon: OfficeBuilding, to: '/network/outlets', permission: 'network.read', group: 'dispatch', order: 30 },
    { key: 'my-status', titleKey: 'menu.myStatus', icon: Iphone, to: '/engineer/status', permission: 'engineer.status', order: 15 },
  ],
}
