/** Pure helpers of RecordEditForm.vue (unit-tested without a DOM). */

export interface EditFieldSpec {
  name: string
  kind: 'text' | 'textarea' | 'money' | 'date' | 'datetime' | 'select'
  required?: boolean
  options?: readonly string[]
  maxlength?: number
  /** Takes the whole row of the two-column form. */
  wide?: boolean
}

/** The record's values as form strings ('' for null or absent). */
export function formValues(record: Record<string, unknown>, specs: readonly EditFieldSpec[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of specs) {
    const v = record[s.name]
    out[s.name] = v === null || v === undefined ? '' : String(v)
  }
  return out
}

/** Only what changed, trimmed; a cleared field is sent as null. */
export function changedFields(
  form: Record<string, string>,
  original: Record<string, string>,
  specs: readonly EditFieldSpec[],
): Record<string, string | null> {
  const body: Record<string, string | null> = {}
  for (const s of specs) {
    const v = (form[s.name] ?? '').trim()
    if (v === (original[s.name] ?? '').trim()) continue
    body[s.name] = v === '' ? null : v
  }
  return body
}
