export interface QuoteLine {
  id: number
  product_id?: number | null
  description?: string | null
  quantity?: string
  unit_price?: string
  discount_percent?: string | null
  line_total?: string
  note?: string | null
  version?: number
}

/** quantity × unit price × (1 − discount %), rounded to cents; null when a price is hidden or not a number. */
export function lineTotal(quantity: string | number, unitPrice: string | number | undefined, discountPercent?: string | number | null): number | null {
  if (unitPrice === undefined || unitPrice === '') return null
  const q = Number(quantity)
  const p = Number(unitPrice)
  const d = discountPercent === null || discountPercent === undefined || discountPercent === '' ? 0 : Number(discountPercent)
  if (![q, p, d].every(Number.isFinite) || d < 0 || d > 100) return null
  return Math.round(q * p * (100 - d)) / 100
}

export const CONTACT_ROLES = ['decision_maker', 'buyer', 'technical', 'influencer', 'user', 'finance', 'other'] as const

/** Index of the current stage in the sorted stage list, or -1. */
export function stageIndex(stages: readonly { id: number }[], stageId: number | null | undefined): number {
  return stages.findIndex((s) => s.id === stageId)
}
