// Service contracts (服务合约, M3): list and contract page (covered assets,
// response terms, discounts), create and edit for contract.write holders.
import { Tickets } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'contracts',
  messages,
  routes: [
    { path: 'contracts', name: 'contracts', component: () => import('./ContractsPage.vue'), meta: { permission: 'contract.read', titleKey: 'menu.contracts' } },
    { path: 'contracts/:id(\\d+)', name: 'contract', component: () => import('./ContractPage.vue'), meta: { permission: 'contract.read', titleKey: 'ctr.contract' } },
  ],
  menu: [{ key: 'contracts', titleKey: 'menu.contracts', icon: Tickets, to: '/contracts', permission: 'contract.read', order: 40 }],
}
