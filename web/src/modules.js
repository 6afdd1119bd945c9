// The module registry: the one place a feature module plugs into the shell.
//
// A module is a plain object (see src/modules/admin/index.js for a full one):
//
//   export default {
//     key: 'orders',                       // unique
//     messages: {                          // merged into the i18n messages
//       'zh-CN': { menu: { orders: '工单' }, orders: { ... } },
//       en:      { menu: { orders: 'Service orders' }, orders: { ... } },
//     },
//     menuGroups: [                        // optional side-menu groups (sub-menus)
//       { key: 'service', titleKey: 'menu.service', icon: Tickets, order: 100 },
//     ],
//     routes: [                            // children of the logged-in layout
//       { path: 'orders', name: 'orders', component: () => import('./OrdersPage.vue'),
//         meta: { permission: 'order.read', titleKey: 'menu.orders' } },
//     ],
//     menu: [                              // side-menu entries
//       { key: 'orders', titleKey: 'menu.orders', icon: Tickets, to: '/orders',
//         permission: 'order.read', group: 'service', order: 10 },
//     ],
//     homeCards: [                         // optional cards on the home page
//       { key: 'my-orders', component: () => import('./MyOrdersCard.vue'), permission: 'order.read', order: 10 },
//     ],
//   }
//
// `permission` (route meta, menu entry, home card) is a permission code or an
// array of codes (any one suffices); leave it out for "every logged-in user".
// A route with meta.public is reachable without logging in.
// Each menu entry renders with data-testid="menu-<key>".
//
// To add a module: create src/modules/<name>/index.js and list it below.

import core from './modules/core/index.js'
import admin from './modules/admin/index.js'
import customers from './modules/customers/index.js'
import products from './modules/products/index.js'
import assets from './modules/assets/index.js'
import contracts from './modules/contracts/index.js'
import imports from './modules/imports/index.js'
import dispatch from './modules/dispatch/index.js'
import orders from './modules/orders/index.js'
import claims from './modules/claims/index.js'

export const modules = [core, admin, customers, products, assets, contracts, imports, dispatch, claims, orders]

function byOrder(a, b) {
  return (a.order ?? 500) - (b.order ?? 500)
}

export function moduleMessages() {
  return modules.map((m) => m.messages || {})
}

// Routes rendered inside the main layout (require login unless meta.public).
export function layoutRoutes() {
  return modules.flatMap((m) => (m.routes || []).filter((r) => !r.meta || !r.meta.bare))
}

// Routes rendered without the layout (e.g. the login page): meta.bare.
export function bareRoutes() {
  return modules.flatMap((m) => (m.routes || []).filter((r) => r.meta && r.meta.bare))
}

// Menu tree for a user: [{key, titleKey, icon, to, children?}], filtered by `can`.
// Groups with no visible entry are left out.
export function menuFor(can) {
  const groups = new Map()
  for (const m of modules) for (const g of m.menuGroups || []) groups.set(g.key, { ...g, children: [] })
  const top = []
  const items = modules.flatMap((m) => m.menu || []).filter((i) => can(i.permission))
  items.sort(byOrder)
  for (const item of items) {
    const g = item.group && groups.get(item.group)
    if (g) g.children.push(item)
    else top.push(item)
  }
  for (const g of groups.values()) if (g.children.length) top.push(g)
  top.sort(byOrder)
  return top
}

export function homeCardsFor(can) {
  return modules
    .flatMap((m) => m.homeCards || [])
    .filter((c) => can(c.permission))
    .sort(byOrder)
}
