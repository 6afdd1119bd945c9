// Helpers shared by the products pages.
export { money } from '../customers/util.js'

// [{grade, price_fen}] <-> [{grade, yuan}] for the price editor (the API
// speaks integer fen; people type yuan with two decimals).
export const fromFenRows = (rows) => (rows || []).map((p) => ({ grade: p.grade, yuan: p.price_fen / 100 }))
export const toFenRows = (rows) =>
  (rows || []).filter((p) => p.grade).map((p) => ({ grade: String(p.grade).trim().toUpperCase(), price_fen: Math.round(Number(p.yuan || 0) * 100) }))
