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
export function availableActions(a: Pick<Approval, 'actions' | 'can_decide' | 'status' | 'applicant'>, meId?: number | null): Decision[] {
  if (a.status !== 'pending') return []
  const acts = new Set(a.actions ?? [])
  // When the API leaves `actions` empty, derive them: deciders decide, the applicant may withdraw.
  const derive = acts.size === 0
  const out: Decision[] = []
  if (acts.has('approve') || (derive && a.can_decide)) out.push('approve')
  if (acts.has('reject') || (derive && a.can_decide)) out.push('reject')
  if (acts.has('withdraw') || (derive && meId != null && a.applicant?.id === meId)) out.push('withdraw')
  return out
}

export function statusType(status: string): 'warning' | 'success' | 'danger' | 'info' {
  return status === 'pending' ? 'warning' : status === 'approved' ? 'success' : status === 'rejected' ? 'danger' : 'info'
}
