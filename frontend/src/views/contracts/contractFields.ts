import type { EditFieldSpec } from '@/components/recordEdit'

export const CONTRACT_STATUSES = ['draft', 'active', 'completed', 'terminated', 'cancelled'] as const
/** What a PATCH may set (the API refuses `cancelled` there). */
export const CONTRACT_EDIT_STATUSES = ['draft', 'active', 'completed', 'terminated'] as const
export const CONTRACT_EDIT_SPECS: readonly EditFieldSpec[] = [
  { name: 'title', kind: 'text', required: true, wide: true },
  { name: 'status', kind: 'select', required: true, options: CONTRACT_EDIT_STATUSES },
  { name: 'amount', kind: 'money' },
  { name: 'currency', kind: 'text', maxlength: 3 },
  { name: 'sign_date', kind: 'date' },
  { name: 'start_date', kind: 'date' },
  { name: 'end_date', kind: 'date' },
  { name: 'description', kind: 'textarea' },
]
export const CONTRACT_LIST_FIELDS = [
  'number',
  'title',
  'customer_name',
  'amount',
  'received_total',
  'status',
  'sign_date',
  'end_date',
  'owner',
] as const
export const CONTRACT_DETAIL_FIELDS = [
  'number',
  'title',
  'customer_name',
  'amount',
  'received_total',
  'currency',
  'status',
  'sign_date',
  'start_date',
  'end_date',
  'owner',
  'description',
  'created_at',
  'updated_at',
] as const

export interface PaymentPlan {
  id: number
  due_date: string
  amount?: string
  received?: string
  note?: string | null
  version?: number
}
export interface Payment {
  id: number
  plan_id?: number | null
  received_on: string
  amount?: string
  method?: string | null
  note?: string | null
}
export interface PaymentsView {
  plans: PaymentPlan[]
  payments: Payment[]
  planned_total?: string
  received_total?: string
}

/** Share of the contract received, 0–100 (null when amounts are hidden or the total is zero). */
export function receivedPercent(amount: string | undefined, received: string | undefined): number | null {
  if (amount === undefined || received === undefined) return null
  const a = Number(amount)
  const r = Number(received)
  if (!Number.isFinite(a) || !Number.isFinite(r) || a <= 0) return null
  return Math.max(0, Math.min(100, Math.round((r / a) * 1000) / 10))
}

/** Plan status: paid when its received sum covers the amount, overdue when due and not paid. */
export function planStatus(plan: PaymentPlan, today: string): 'paid' | 'partial' | 'overdue' | 'pending' | 'unknown' {
  if (plan.amount === undefined || plan.received === undefined) return 'unknown'
  const a = Number(plan.amount)
  const r = Number(plan.received)
  if (r >= a && a > 0) return 'paid'
  if (plan.due_date < today) return 'overdue'
  if (r > 0) return 'partial'
  return 'pending'
}
