/** Reminder rules: the kinds and the parameters each kind uses. */
export const REMINDER_KINDS = ['no_followup', 'next_action_overdue', 'task_due', 'contract_expiring', 'payment_due'] as const
export interface RuleParams {
  days?: number | null
  levels?: string[] | null
  amount_threshold?: string | null
  copy_manager?: boolean | null
  lead_minutes?: number | null
  lead_days?: number | null
}
export interface ReminderRule {
  id: number
  name: string
  kind: string
  params: RuleParams
  active: boolean
  department_id: number | null
  position: number
  version: number
}
export interface ReminderForm {
  name: string
  kind: string
  days: number | null
  levels: string[]
  amount_threshold: string
  copy_manager: boolean
  lead_minutes: number | null
  lead_days: number | null
  active: boolean
  department_id: number | null
  position: number
}

/** Only the parameters the kind uses. */
export function paramsFor(f: ReminderForm): RuleParams {
  if (f.kind === 'no_followup') {
    const p: RuleParams = { days: f.days || null, copy_manager: f.copy_manager }
    if (f.levels.length) p.levels = f.levels
    if (String(f.amount_threshold).trim()) p.amount_threshold = String(f.amount_threshold).trim()
    return p
  }
  if (f.kind === 'task_due') return { lead_minutes: f.lead_minutes ?? 0 }
  if (f.kind === 'contract_expiring' || f.kind === 'payment_due') return { lead_days: f.lead_days ?? 0 }
  return {}
}

