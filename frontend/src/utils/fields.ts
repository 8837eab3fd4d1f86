import type { FieldRight } from '@/api/types'

export type RightOf = (module: string, field: string) => FieldRight

/**
 * Fields to show: those the caller's field rights do not hide and, once rows have
 * arrived, that at least one row actually carries (hidden fields are absent from
 * API payloads, never null).
 */
export function visibleFields<F extends string>(
  candidates: readonly F[],
  module: string,
  rightOf: RightOf,
  rows?: readonly object[] | null,
): F[] {
  return candidates.filter((f) => {
    if (rightOf(module, f) === 'hidden') return false
    if (rows && rows.length > 0) return rows.some((r) => f in r)
    return true
  })
}

/** Fields present in a single record (and not hidden). */
export function presentFields<F extends string>(
  candidates: readonly F[],
  module: string,
  rightOf: RightOf,
  record: object | null | undefined,
): F[] {
  if (!record) return []
  return candidates.filter((f) => f in record && rightOf(module, f) !== 'hidden')
}

export function fieldValue(record: object, field: string): unknown {
  return (record as Record<string, unknown>)[field]
}
