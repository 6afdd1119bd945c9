// Products (M2): product lines and models (with production batches and
// components: 位号, key parts), service items (服务料号) with a price per
// provider grade, and warranty policies (三包政策). Everyone with
// product.read sees the catalogue; product.write / pricelist.write edit it.
import { Box, Goods, PriceTag, Medal } from '@element-plus/icons-vue'
import messages from './messages.js'

export default {
  key: 'products',
  messages,
  menuGroups: [{ key: 'catalogue', titleKey: 'menu.catalogue', icon: Box, order: 60 }],
  routes: [
    { path: 'products', name: 'products', component: () => import('./ProductsPage.vue'), meta: { permission: 'product.read', titleKey: 'menu.products' } },
    { path: 'products/models/:id(\\d+)', name: 'model', component: () => import('./ModelPage.vue'), meta: { permission: 'product.read', titleKey: 'prod.modelPage' } },
    { path: 'service-items', name: 'service-items', component: () => import('./ServiceItemsPage.vue'), meta: { permission: 'product.read', titleKey: 'menu.serviceItems' } },
    { path: 'warranty-policies', name: 'warranty-policies', component: () => import('./PoliciesPage.vue'), meta: { permission: 'product.read', titleKey: 'menu.warrantyPolicies' } },
  ],
  menu: [
    { key: 'products', titleKey: 'menu.products', icon: Goods, to: '/products', permission: 'product.read', group: 'catalogue', order: 10 },
    { key: 'service-items', titleKey: 'menu.serviceItems', icon: PriceTag, to: '/service-items', permission: 'product.read', group: 'catalogue', order: 20 },
    { key: 'warranty-policies', titleKey: 'menu.warrantyPolicies', icon: Medal, to: '/warranty-policies', permission: 'product.read', group: 'catalogue', order: 30 },
  ],
}
