/**
 * Delete a record after a confirmation. Deletes are soft (the record goes to the recycle bin),
 * so the success message offers "Undo", which calls `POST /{records}/{id}/restore`.
 */
import { h } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import { api, ok } from '@/api/http'
import { i18n } from '@/i18n'
import { toastError, toastSuccess } from './feedback'

export type RecycledModule = 'opportunities' | 'contracts'

export interface DeleteOptions {
  module: RecycledModule
  id: number
  name: string
  /** After the delete succeeded (usually: go back to the list). */
  onDeleted?: () => unknown
  /** After "Undo" restored it (usually: open the record again). */
  onRestored?: () => unknown
}

/** Resolves true when the record was deleted, false when the user cancelled or the API refused. */
export async function confirmAndDelete(o: DeleteOptions): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(t('records.deleteConfirm', { name: o.name }), t('records.deleteTitle'), {
      type: 'warning',
      confirmButtonText: t('common.delete'),
      cancelButtonText: t('common.cancel'),
      confirmButtonClass: 'el-button--danger',
    })
  } catch {
    return false
  }
  const path = { params: { path: { record_id: o.id } } }
  try {
    if (o.module === 'opportunities') await ok(api.DELETE('/api/v1/opportunities/{record_id}', path))
    else await ok(api.DELETE('/api/v1/contracts/{record_id}', path))
  } catch (e) {
    toastError(e)
    return false
  }
  const msg = ElMessage({
    type: 'success',
    duration: 8000,
    showClose: true,
    message: h('span', { class: 'deleted-toast' }, [
      t('records.deleted'),
      ' ',
      h(
        'button',
        {
          type: 'button',
          class: 'el-button el-button--primary is-link',
          'data-test': 'undo-delete',
          onClick: async () => {
            msg.close()
            try {
              if (o.module === 'opportunities') await ok(api.POST('/api/v1/opportunities/{record_id}/restore', path))
              else await ok(api.POST('/api/v1/contracts/{record_id}/restore', path))
              toastSuccess(t('records.restored'))
              await o.onRestored?.()
            } catch (e) {
              toastError(e)
            }
          },
        },
        t('records.undo'),
      ),
    ]),
  })
  await o.onDeleted?.()
  return true
}
