/** The duplicate finder's API (/duplicates, /{kind}s/{id}/merge, /merges) and its pure helpers. */
import { kithFetch } from '@/api/http'
import type { Resp } from '@/api/types'

export type DupKind = 'customer' | 'contact'
/** The fields a merge lets the caller choose (kith.dedup.merge.CUSTOMER_FIELDS / CONTACT_FIELDS). */
export const MERGE_FIELDS: Record<DupKind, readonly string[]> = {
  customer: ['name', 'industry', 'source', 'level', 'status', 'province', 'city', 'district', 'address', 'phone', 'email', 'website', 'description'],
  contact: ['name', 'title', 'mobile', 'phone', 'email', 'wechat'],
}

export type Rec = Record<string, unknown> & { id: number; name?: string; version?: number }
export interface DupPair {
  a: Rec
  b: Rec
  score: number
  matched: Record<string, number>
}
export interface MergeResult {
  merge_id: number
  survivor: Rec
  other_id: number
  fields: string[]
  moved: Record<string, number>
}
/** One merge as GET /merges and GET /merges/{id} answer it (who, when, both names, undoable and if not why). */
export type MergeInfo = Resp<'/api/v1/merges/{merge_id}', 'get'>
export type MergePage = Resp<'/api/v1/merges', 'get'>
export type MergeState = 'undoable' | 'undone' | 'blocked'

const url = (p: string) => `${window.location.origin}/api/v1${p}`
async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (typeof init.body === 'string') headers.set('Content-Type', 'application/json')
  const res = await kithFetch(new Request(url(path), { ...init, headers }))
  return (await res.json()) as T
}

export function listDuplicates(kind: DupKind, minScore?: number | null, limit = 100) {
  const qs = new URLSearchParams({ kind, limit: String(limit) })
  if (minScore) qs.set('min_score', String(minScore))
  return json<{ items: DupPair[]; total: number }>(`/duplicates?${qs}`)
}
export const getRecord = (kind: DupKind, id: number) => json<Rec>(`/${kind}s/${id}`)
export function mergeRecords(kind: DupKind, survivorId: number, otherId: number, fields: Record<string, 'survivor' | 'other'>, version: number) {
  return json<MergeResult>(`/${kind}s/${survivorId}/merge`, {
    method: 'POST',
    body: JSON.stringify({ other_id: otherId, fields, version }),
  })
}
export const getMerge = (id: number) => json<MergeInfo>(`/merges/${id}`)
/** The shared merge history: merges of records the caller can read (everyone's, not only this browser's), newest first. */
export function listMerges(kind: DupKind | null, cursor?: string | null, limit = 20) {
  const qs = new URLSearchParams({ limit: String(limit) })
  if (kind) qs.set('entity_type', kind)
  if (cursor) qs.set('cursor', cursor)
  return json<MergePage>(`/merges?${qs}`)
}
export const undoMerge = (id: number) => json<MergeInfo>(`/merges/${id}/undo`, { method: 'POST' })

const empty = (v: unknown) => v === null || v === undefined || v === ''
/** Like the server's default: the survivor's non-empty value, else the other's. Returns 'a' or 'b' per field. */
export function defaultChoices(fields: readonly string[], survivor: Rec, other: Rec, survivorSide: 'a' | 'b'): Record<string, 'a' | 'b'> {
  const otherSide = survivorSide === 'a' ? 'b' : 'a'
  const out: Record<string, 'a' | 'b'> = {}
  for (const f of fields) out[f] = empty(survivor[f]) && !empty(other[f]) ? otherSide : survivorSide
  return out
}
/** The request's `fields`: per differing field whether the survivor's or the other's value stays. */
export function mergeFields(
  fields: readonly string[],
  a: Rec,
  b: Rec,
  choices: Record<string, 'a' | 'b'>,
  survivorSide: 'a' | 'b',
): Record<string, 'survivor' | 'other'> {
  const out: Record<string, 'survivor' | 'other'> = {}
  for (const f of fields) {
    if (sameValue(a[f], b[f])) continue
    out[f] = choices[f] === survivorSide ? 'survivor' : 'other'
  }
  return out
}
export function sameValue(x: unknown, y: unknown): boolean {
  return (empty(x) && empty(y)) || JSON.stringify(x) === JSON.stringify(y)
}

export function mergeState(m: Pick<MergeInfo, 'undone_at' | 'undoable'>): MergeState {
  return m.undone_at ? 'undone' : m.undoable ? 'undoable' : 'blocked'
}
/** Put a refreshed merge (after an undo, or its 409) in place in the history list. */
export function replaceMerge(list: MergeInfo[], m: MergeInfo): MergeInfo[] {
  return list.map((x) => (x.id === m.id ? m : x))
}
