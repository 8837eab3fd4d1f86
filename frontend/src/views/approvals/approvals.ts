export interface Approval {
  id: number
  kind: string
  status: string
  applicant: { id?: number; display_name?: string | null; username?: string } | null
  subject_type: string
  subject_id: number
  subject_name?: string | null
  reason: string
  can_decide: boolean
  actions: string[]
  created_at: string
  decided_at?: string | null
  payload?: Record<string, unknown>
  version: number
}

export type Decision = 'approve' | 'reject' | 'withdraw'

/** The buttons to offer: what the API lists in `actions`, in a fixed order. */
export function availableActions(a: Pick<Approval, 'actions' | 'can_decide' | 'status'>): Decision[] {
  if (a.status !== 'pending') return []
  const acts = new Set(a.actions ?? [])
  const out: Decision[] = []
  if (acts.has('approve') || (a.can_decide && !a.actions?.length)) out.push('approve')
  if (acts.has('reject') || (a.can_decide && !a.actions?.length)) out.push('reject')
  if (acts.has('withdraw')) out.push('withdraw')
  return out
}

export function statusType(status: string): 'warning' | 'success' | 'danger' | 'info' {
  return status === 'pending' ? 'warning' : status === 'approved' ? 'success' : status === 'rejected' ? 'danger' : 'info'
}
