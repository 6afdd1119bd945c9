// Warranty claim audit (三包鉴定) and SLA administration (时效):
// the manual audit queue of flagged claims with every reason and the
// approve / reject decision (claim.audit), and the SLA policies, business
// calendars (7x24, 8x5 with Chinese holidays and swapped working days) and
// settings (workflow.write).
import { Checked, Timer } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'claims',
  messages,
  routes: [
    { path: 'claims', name: 'claims-queue', component: () => import('./ClaimQueuePage.vue'), meta: { permission: 'claim.audit', titleKey: 'menu.claims' } },
    { path: 'sla', name: 'sla-admin', component: () => import('./SlaAdminPage.vue'), meta: { permission: 'workflow.write', titleKey: 'menu.sla' } },
  ],
  menu: [
    { key: 'claims', titleKey: 'menu.claims', icon: Checked, to: '/claims', permission: 'claim.audit', order: 55 },
    { key: 'sla', titleKey: 'menu.sla', icon: Timer, to: '/sla', permission: 'workflow.write', order: 85 },
  ],
}
