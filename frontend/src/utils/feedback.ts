/** Toasts and dialogs used after API calls (explicit imports keep the styles in the chunk). */
import { ElMessage, ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import { i18n } from '@/i18n'
import { isApiError } from '@/api/errors'

export function errorMessage(e: unknown): string {
  if (isApiError(e)) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}

export function toastError(e: unknown): void {
  ElMessage({ type: 'error', message: errorMessage(e), showClose: true })
}

export function toastSuccess(message: string): void {
  ElMessage({ type: 'success', message })
}

/** 412: someone else changed the record. Offers a reload; resolves after the user chose. */
export async function showConflict(reload: () => unknown): Promise<void> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(t('errors.conflict'), t('errors.conflictTitle'), {
      confirmButtonText: t('common.reload'),
      cancelButtonText: t('common.cancel'),
      type: 'warning',
    })
    await reload()
  } catch {
    /* cancelled */
  }
}
