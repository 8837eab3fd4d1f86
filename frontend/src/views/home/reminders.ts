/** My reminders (home page) and snoozing one with a reason. */
import { api, ok } from '@/api/http'

export interface Reminder {
  id: number
  rule_id: number
  kind: string
  entity_type: string
  entity_id: number
  customer_id: number | null
  text: string
  copied: boolean
  fired_at: string
  link: string | null
}

export async function fetchReminders(limit = 20): Promise<Reminder[]> {
  const res = (await ok(api.GET('/api/v1/reminders', { params: { query: { limit } } }))) as unknown as { items: Reminder[] }
  return res.items ?? []
}

export async function snooze(reminderId: number, days: number, reason: string): Promise<void> {
  await ok(api.POST('/api/v1/reminders/snooze', { body: { reminder_id: reminderId, days, reason } }))
}

/** Where a reminder opens inside the SPA (the server sends an app path; anything else is ignored). */
export function reminderTarget(r: Reminder): string | null {
  if (r.link && r.link.startsWith('/') && !r.link.startsWith('//')) return r.link
  if (r.customer_id) return `/customers/${r.customer_id}`
  return null
}

export const SNOOZE_DAYS = [1, 3, 7, 14, 30] as const
