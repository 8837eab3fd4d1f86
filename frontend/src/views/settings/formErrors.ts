import type { Ref } from 'vue'
import { isApiError } from '@/api/errors'
import { errorMessage, showConflict } from '@/utils/feedback'

/**
 * Route a failed save: 412 → "someone else changed it, reload"; field errors next to the
 * fields (keyed by the last path segment, and by the full dotted path for nested ones);
 * anything else as the form-level message.
 */
export function handleSaveError(
  e: unknown,
  fieldErrors: Ref<Record<string, string>>,
  formError: Ref<string>,
  reload: () => unknown,
): void {
  if (isApiError(e) && e.status === 412) {
    void showConflict(reload)
    return
  }
  if (isApiError(e) && e.fields.length) {
    const map: Record<string, string> = { ...e.fieldMap }
    for (const f of e.fields) {
      const full = f.field.replace(/^body\./, '')
      if (!(full in map)) map[full] = f.message
    }
    fieldErrors.value = map
    formError.value = e.message
    return
  }
  formError.value = errorMessage(e)
}
