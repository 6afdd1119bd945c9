// Service orders (M4): the call-centre intake (from a caller number or a
// serial, with the warranty status before saving), the order list with SLA
// colouring, the order page (timeline, actions, tasks, notes, attachments,
// completion, charges, revisit, leads), the printable service request
// report, the workflow editor and the sales leads list. Phone width works
// for providers and engineers.
import { Tickets, EditPen, List, Share, Promotion } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'orders',
  messages,
  menuGroups: [{ key: 'orders', titleKey: 'menu.ordersGroup', icon: Tickets, order: 30 }],
  routes: [
    { path: 'orders', name: 'orders', component: () => import('./OrdersPage.vue'),
      meta: { permission: 'order.read', titleKey: 'menu.orders' } },
    { path: 'orders/new', name: 'order-intake', component: () => import('./IntakePage.vue'),
      meta: { permission: 'order.create', titleKey: 'menu.orderIntake' } },
    { path: 'orders/:id(\\d+)', name: 'order', component: () => import('./OrderPage.vue'),
      meta: { permission: 'order.read', titleKey: 'ord.list' } },
    { path: 'orders/:id(\\d+)/report', name: 'order-report', component: () => import('./ReportPage.vue'),
      meta: { permission: 'order.read', titleKey: 'ord.report' } },
    { path: 'workflows', name: 'workflows', component: () => import('./WorkflowsPage.vue'),
      meta: { permission: 'workflow.write', titleKey: 'menu.workflows' } },
    { path: 'leads', name: 'leads', component: () => import('./LeadsPage.vue'),
      meta: { permission: 'lead.read', titleKey: 'menu.leads' } },
  ],
  menu: [
    { key: 'order-intake', titleKey: 'menu.orderIntake', icon: EditPen, to: '/orders/new', permission: 'order.create', group: 'orders', order: 10 },
    { key: 'orders', titleKey: 'menu.orders', icon: List, to: '/orders', permission: 'order.read', group: 'orders', order: 20 },
    { key: 'workflows', titleKey: 'menu.workflows', icon: Share, to: '/workflows', permission: 'workflow.write', group: 'orders', order: 30 },
    { key: 'leads', titleKey: 'menu.leads', icon: Promotion, to: '/leads', permission: 'lead.read', group: 'orders', order: 40 },
  ],
}
