/** The public pool (公海): API calls and how a refused claim is worded. */
import { api, ok } from '@/api/http'
import { isApiError } from '@/api/errors'
import { errorMessage } from '@/utils/feedback'

export interface PoolItem {
  id: number
  name?: string
  industry?: string | null
  source?: string | null
  level?: string | null
  status?: string | null
  province?: string | null
  city?: string | null
  district?: string | null
  address?: string | null
  phone?: string | null
  email?: string | null
  website?: string | null
  last_followup_at?: string | null
  created_at?: string | null
  pool_entered_at?: string | null
  pool_reason?: string | null
  pool_rule_id?: number | null
}
export interface PoolPage {
  items: PoolItem[]
  total: number
  next_cursor: string | null
}

export async function fetchPool(query: { q?: string; level?: string; cursor?: string | null; limit?: number }): Promise<PoolPage> {
  const q: Record<string, string | number> = { limit: query.limit ?? 50 }
  if (query.q) q.q = query.q
  if (query.level) q.level = query.level
  if (query.cursor) q.cursor = query.cursor
  return (await ok(api.GET('/api/v1/pool', { params: { query: q } }))) as unknown as PoolPage
}

export async function claim(id: number): Promise<{ id: number; owner_id: number }> {
  return (await ok(api.POST('/api/v1/pool/{record_id}/claim', { params: { path: { record_id: id } } }))) as unknown as {
    id: number
    owner_id: number
  }
}

export async function assign(id: number, ownerId: number): Promise<void> {
  await ok(api.POST('/api/v1/pool/{record_id}/assign', { params: { path: { record_id: id } }, body: { owner_id: ownerId } }))
}

export async function release(id: number, reason: string): Promise<void> {
  await ok(api.POST('/api/v1/customers/{record_id}/release', { params: { path: { record_id: id } }, body: { reason } }))
}

/** A refused claim: the cap / cool-down message from the server (already localized), with its kind. */
export function claimError(e: unknown): { kind: 'cap' | 'cooldown' | 'gone' | 'other'; message: string } {
  const message = errorMessage(e)
  if (isApiError(e)) {
    if (e.code === 'pool_claim_cap') return { kind: 'cap', message }
    if (e.code === 'pool_cooldown') return { kind: 'cooldown', message }
    if (e.status === 404 || e.code === 'pool_not_in_pool') return { kind: 'gone', message }
  }
  return { kind: 'other', message }
}

/** City line: province / city / district, whatever the pool rule shows. */
export function region(c: PoolItem): string {
  return [c.province, c.city, c.district].filter(Boolean).join(' ')
}
