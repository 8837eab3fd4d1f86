/** The duplicate finder's API (/duplicates, /{kind}s/{id}/merge, /merges/{id}) and its pure helpers. */
import { kithFetch } from '@/api/http'

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
export interface MergeInfo {
  id: number
  entity_type: DupKind
  survivor_id: number
  other_id: number
  created_at: string
  undone_at: string | null
  moved: Record<string, number>
  undoable: boolean
}
/** A merge done from this browser (the API has no list of merges; GET /merges/{id} tells whether it can be undone). */
export interface MergeNote {
  id: number
  kind: DupKind
  survivor_id: number
  survivor_name: string
  other_id: number
  other_name: string
  at: string
}

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

const NOTES = 'kith.merges'
export function loadNotes(uid: number): MergeNote[] {
  try {
    const v = JSON.parse(localStorage.getItem(`${NOTES}.${uid}`) ?? '[]') as unknown
    return Array.isArray(v) ? (v as MergeNote[]) : []
  } catch {
    return []
  }
}
export function addNote(uid: number, n: MergeNote): MergeNote[] {
  const list = [n, ...loadNotes(uid).filter((x) => x.id !== n.id)].slice(0, 30)
  try {
    localStorage.setItem(`${NOTES}.${uid}`, JSON.stringify(list))
  } catch {
    /* private mode */
  }
  return list
}
