// All org units visible to the user, loaded once and shared by the pages that
// need the tree (org admin, user admin selects, later: dispatch, reports...).
import { defineStore } from 'pinia'
import { fetchAll } from '../api.js'

export function buildTree(units, { disabledIds } = {}) {
  const nodes = new Map()
  for (const u of units) {
    nodes.set(u.id, {
      id: u.id,
      label: u.name,
      code: u.code,
      type: u.type,
      active: u.active !== false,
      disabled: disabledIds ? disabledIds.has(u.id) : false,
      children: [],
    })
  }
  const roots = []
  for (const u of units) {
    const n = nodes.get(u.id)
    const p = u.parent_id != null ? nodes.get(u.parent_id) : null
    if (p && p !== n) p.children.push(n)
    else roots.push(n) // top of what this user can see
  }
  const sort = (list) => {
    list.sort((a, b) => String(a.code || '').localeCompare(String(b.code || '')) || a.id - b.id)
    list.forEach((c) => sort(c.children))
  }
  sort(roots)
  return roots
}

// Ids of `id` and everything below it.
export function subtreeIds(units, id) {
  const kids = new Map()
  for (const u of units) {
    if (u.parent_id == null) continue
    if (!kids.has(u.parent_id)) kids.set(u.parent_id, [])
    kids.get(u.parent_id).push(u.id)
  }
  const out = new Set()
  const stack = [id]
  while (stack.length) {
    const x = stack.pop()
    if (out.has(x)) continue
    out.add(x)
    stack.push(...(kids.get(x) || []))
  }
  return out
}

export const useOrgUnitsStore = defineStore('orgUnits', {
  state: () => ({ items: [], loaded: false, loading: false }),
  getters: {
    byId: (s) => new Map(s.items.map((u) => [u.id, u])),
    tree: (s) => buildTree(s.items),
  },
  actions: {
    async load(force = false) {
      if (this.loaded && !force) return this.items
      this.loading = true
      try {
        this.items = await fetchAll('/org-units')
        this.loaded = true
      } finally {
        this.loading = false
      }
      return this.items
    },
    upsert(unit) {
      const i = this.items.findIndex((u) => u.id === unit.id)
      if (i >= 0) this.items.splice(i, 1, unit)
      else this.items.push(unit)
    },
    reset() {
      this.items = []
      this.loaded = false
    },
  },
})
