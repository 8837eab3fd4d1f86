/** The import wizard's API (/api/v1/imports, /api/v1/import-templates) and the pure helpers its screens share. */
import { kithFetch } from '@/api/http'

export const IMPORT_KINDS = ['customer', 'contact', 'opportunity', 'followup'] as const
export type ImportKind = (typeof IMPORT_KINDS)[number]
/** The upload limit enforced by the server (422 `file_too_large`). */
export const MAX_UPLOAD_MB = 50
export const ACCEPT = '.xlsx,.xls,.csv'

export interface MappingEntry {
  column: number
  header: string
  field: string | null
  confidence: number
}
export interface TargetField {
  field: string
  label: string
  required: boolean
}
export interface Rules {
  existing: 'skip' | 'merge' | 'create'
  min_score: number
  in_file: 'skip' | 'create'
}
export interface ImportCounts {
  total?: number
  valid?: number
  rejected?: number
  duplicates?: number
  created?: number
  updated?: number
  merged?: number
  skipped?: number
  [k: string]: number | undefined
}
export interface ImportBatch {
  id: number
  kind: ImportKind
  file_name: string
  file_size: number
  encoding: string | null
  sheets: string[]
  sheet: string | null
  header_row: number | null
  headers: string[]
  mapping: MappingEntry[]
  fields: TargetField[]
  rules: Rules
  status: 'uploaded' | 'previewed' | 'running' | 'done' | 'failed' | 'rolled_back'
  total_rows: number
  processed_rows: number
  progress: number
  counts: ImportCounts
  error: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
  rolled_back_at: string | null
  rollback?: { deleted: number; restored: number }
}
export interface CellValue {
  raw: unknown
  value: unknown
  changed: boolean
  hint?: string
}
export interface Candidate {
  source: 'existing' | 'file'
  id?: number
  row?: number
  name?: string
  score: number
  matched: string[]
}
export interface PreviewRow {
  row: number
  status: 'pending' | 'rejected' | 'created' | 'updated' | 'merged' | 'skipped'
  action: string | null
  decision: string | null
  errors: { field: string; code: string; message: string }[]
  values: Record<string, CellValue>
  candidates: Candidate[]
  record_id: number | null
  reason: string | null
}
export interface PreviewPage {
  items: PreviewRow[]
  next_cursor: string | null
  counts: ImportCounts
  status: ImportBatch['status']
}
export interface ImportTemplate {
  id: number
  name: string
  kind: ImportKind
  mapping: Record<string, string | null>
  created_at: string
}
export interface Blocker {
  row?: number
  entity_type?: string
  id?: number
  why?: string
  by?: unknown
}
export type PreviewFilter = '' | 'pending' | 'rejected' | 'duplicates' | 'created' | 'updated' | 'merged' | 'skipped'

const BASE = '/api/v1'
const url = (path: string) => `${window.location.origin}${BASE}${path}`

async function json<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers)
  if (init.body && typeof init.body === 'string') headers.set('Content-Type', 'application/json')
  const res = await kithFetch(new Request(url(path), { ...init, headers }))
  if (res.status === 204) return undefined as T
  return (await res.json()) as T
}

export function uploadFile(file: File, kind: ImportKind, templateId?: number | null): Promise<ImportBatch> {
  const form = new FormData()
  form.append('file', file, file.name)
  form.append('kind', kind)
  if (templateId) form.append('template_id', String(templateId))
  return json<ImportBatch>('/imports', { method: 'POST', body: form })
}
export const getBatch = (id: number) => json<ImportBatch>(`/imports/${id}`)
export const listBatches = (limit = 20) => json<{ items: ImportBatch[] }>(`/imports?limit=${limit}`)
export function setMapping(
  id: number,
  body: { sheet?: string; header_row?: number; template_id?: number; mapping?: Record<string, string | null>; save_as?: string },
) {
  return json<ImportBatch>(`/imports/${id}/mapping`, { method: 'PUT', body: JSON.stringify(body) })
}
export function getPreview(id: number, opts: { cursor?: string | null; status?: PreviewFilter; limit?: number } = {}) {
  const qs = new URLSearchParams({ limit: String(opts.limit ?? 50) })
  if (opts.cursor) qs.set('cursor', opts.cursor)
  if (opts.status) qs.set('status', opts.status)
  return json<PreviewPage>(`/imports/${id}/preview?${qs}`)
}
export function setDecisions(id: number, body: { rows?: Record<string, string | null>; rules?: Partial<Rules> }) {
  return json<ImportBatch>(`/imports/${id}/decisions`, { method: 'PUT', body: JSON.stringify(body) })
}
export function runBatch(id: number, key: string) {
  return json<ImportBatch>(`/imports/${id}/run`, { method: 'POST', headers: { 'Idempotency-Key': key } })
}
export const resumeBatch = (id: number) => json<ImportBatch>(`/imports/${id}/resume`, { method: 'POST' })
export const rollbackBatch = (id: number) => json<ImportBatch>(`/imports/${id}/rollback`, { method: 'POST' })
export const listTemplates = (kind: ImportKind) => json<{ items: ImportTemplate[] }>(`/import-templates?kind=${kind}`)
export const deleteTemplate = (id: number) => json<void>(`/import-templates/${id}`, { method: 'DELETE' })

/** Save a response body as a file (authenticated fetch, then a temporary object URL). */
export async function downloadFrom(path: string, fallbackName: string): Promise<void> {
  const res = await kithFetch(new Request(url(path)))
  const blob = await res.blob()
  const cd = res.headers.get('Content-Disposition') ?? ''
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd)
  const name = m?.[1] ? decodeURIComponent(m[1]) : fallbackName
  const href = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = href
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(href), 1000)
}
export const downloadReport = (id: number) => downloadFrom(`/imports/${id}/report.xlsx`, `import-${id}.xlsx`)

// ------------------------------------------------------------------------------ pure helpers

/** Confidence of an automatic mapping: high (≥ 0.9), medium (≥ 0.6), low, or none (ignored column). */
export function confidenceLevel(e: Pick<MappingEntry, 'field' | 'confidence'>): 'high' | 'medium' | 'low' | 'none' {
  if (!e.field) return 'none'
  if (e.confidence >= 0.9) return 'high'
  if (e.confidence >= 0.6) return 'medium'
  return 'low'
}

/** Required target fields no column maps to. */
export function missingRequired(mapping: MappingEntry[], fields: TargetField[]): TargetField[] {
  const mapped = new Set(mapping.map((m) => m.field).filter(Boolean))
  return fields.filter((f) => f.required && !mapped.has(f.field))
}

/** Fields mapped by more than one column (the server answers 422 `duplicate_mapping`). */
export function duplicateTargets(mapping: MappingEntry[]): Set<string> {
  const seen = new Map<string, number>()
  for (const m of mapping) if (m.field) seen.set(m.field, (seen.get(m.field) ?? 0) + 1)
  return new Set([...seen].filter(([, n]) => n > 1).map(([f]) => f))
}

/** The mapped fields in column order (the preview's columns). */
export function mappedFields(mapping: MappingEntry[]): string[] {
  return mapping.filter((m) => m.field).map((m) => m.field as string)
}

/** Text of a raw or cleaned cell. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

/** The final counts of a run, in display order; `total` is the rows in the file. */
export const RESULT_KEYS = ['created', 'updated', 'merged', 'skipped', 'rejected'] as const
export function resultCounts(c: ImportCounts): { key: (typeof RESULT_KEYS)[number]; n: number }[] {
  return RESULT_KEYS.map((key) => ({ key, n: Number(c[key] ?? 0) }))
}
export function countsAddUp(c: ImportCounts, total: number): boolean {
  return resultCounts(c).reduce((s, x) => s + x.n, 0) === total
}

/** What a row will do: 'create' | 'skip' | 'merge' | 'update' (from action `merge:12`), or '' for a rejected row. */
export function actionVerb(action: string | null): string {
  return action ? (action.split(':')[0] ?? '') : ''
}
export function actionTarget(action: string | null): number | null {
  const id = action?.split(':')[1]
  return id ? Number(id) : null
}

export function isFinished(status: ImportBatch['status']): boolean {
  return status === 'done' || status === 'failed' || status === 'rolled_back'
}

export function statusTagType(status: string): 'success' | 'info' | 'warning' | 'danger' | 'primary' {
  switch (status) {
    case 'done':
    case 'created':
    case 'merged':
    case 'updated':
      return 'success'
    case 'rejected':
    case 'failed':
      return 'danger'
    case 'running':
    case 'previewed':
      return 'primary'
    case 'skipped':
    case 'rolled_back':
      return 'info'
    default:
      return 'warning'
  }
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
