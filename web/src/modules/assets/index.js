// Install base (安装点, M2): the asset list with search, and the asset page
// with its warranty status (unit and each key part, deciding rule, covering
// contract) and the full change history.
import { Cpu } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'assets',
  messages,
  routes: [
    { path: 'install-base', name: 'assets', component: () => import('./AssetsPage.vue'), meta: { permission: 'asset.read', titleKey: 'menu.assets' } },
    { path: 'install-base/:id(\\d+)', name: 'asset', component: () => import('./AssetPage.vue'), meta: { permission: 'asset.read', titleKey: 'ib.asset' } },
  ],
  menu: [{ key: 'assets', titleKey: 'menu.assets', icon: Cpu, to: '/install-base', permission: 'asset.read', order: 30 }],
}
