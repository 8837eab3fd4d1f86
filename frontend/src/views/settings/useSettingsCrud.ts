/**
 * The logic every settings list shares: load the rows, a create/edit dialog with field errors
 * (412 → reload offer, see formErrors.ts), and delete after a confirmation. The matching
 * template shell is SettingsList.vue.
 */
import { reactive, ref, type Ref } from 'vue'
import { ElMessageBox } from 'element-plus'
import { i18n } from '@/i18n'
import { errorMessage, toastError, toastSuccess } from '@/utils/feedback'
import { handleSaveError } from './formErrors'

export function useSettingsRows<T>(fetch: () => Promise<T[]>) {
  const rows = ref([]) as Ref<T[]>
  const loading = ref(false)
  const loadError = ref('')
  async function load() {
    loading.value = true
    loadError.value = ''
    try {
      rows.value = await fetch()
    } catch (e) {
      loadError.value = errorMessage(e)
    } finally {
      loading.value = false
    }
  }
  return { rows, loading, loadError, load }
}

export interface DialogOptions<T, F> {
  /** The form of a new record. */
  blank: () => F
  /** The form of an existing record (absent: the dialog only creates). */
  fromRow?: (row: T) => F
  /** Where a fresh copy of the edited row is looked up after a 412 reload. */
  rows?: Ref<T[]>
  load: () => Promise<unknown>
}

export function useSettingsDialog<T extends { id: number }, F extends object>(opts: DialogOptions<T, F>) {
  const t = i18n.global.t
  const form = reactive(opts.blank()) as F
  const dialogOpen = ref(false)
  const editing = ref(null) as Ref<T | null>
  const fieldErrors = ref<Record<string, string>>({})
  const formError = ref('')
  const saving = ref(false)

  function show(values: F, row: T | null) {
    editing.value = row
    Object.assign(form, values)
    fieldErrors.value = {}
    formError.value = ''
    dialogOpen.value = true
  }
  const openCreate = (over: Partial<F> = {}) => show({ ...opts.blank(), ...over }, null)
  const openEdit = (row: T) => show(opts.fromRow ? opts.fromRow(row) : opts.blank(), row)

  /** After a 412: reload and reopen the dialog with the fresh record (or close it when gone). */
  async function reloadEditing() {
    await opts.load()
    const id = editing.value?.id
    const fresh = opts.rows?.value.find((r) => r.id === id)
    if (fresh && opts.fromRow) openEdit(fresh)
    else dialogOpen.value = false
  }

  /**
   * Save: `missing` (field → message) stops before any request; otherwise `call` runs, and on
   * success the dialog closes and the list reloads (unless `reload: false`). Resolves to what
   * `call` returned, or undefined when nothing was saved.
   */
  async function submit<R>(
    missing: Record<string, string>,
    call: (row: T | null) => Promise<R>,
    options: { reload?: boolean } = {},
  ): Promise<R | undefined> {
    fieldErrors.value = {}
    formError.value = ''
    if (Object.keys(missing).length) {
      fieldErrors.value = missing
      return undefined
    }
    saving.value = true
    try {
      const out = await call(editing.value)
      toastSuccess(t('common.saved'))
      dialogOpen.value = false
      if (options.reload !== false) await opts.load()
      return out
    } catch (e) {
      handleSaveError(e, fieldErrors, formError, reloadEditing)
      return undefined
    } finally {
      saving.value = false
    }
  }

  return { form, dialogOpen, editing, fieldErrors, formError, saving, openCreate, openEdit, reloadEditing, submit }
}

/** Confirm, run the delete, say `done` and reload; `onError` may word a refusal (e.g. 409 in use). */
export async function confirmRemove(opts: {
  message: string
  title?: string
  done?: string
  call: () => Promise<unknown>
  reload: () => Promise<unknown>
  onError?: (e: unknown) => void
}): Promise<boolean> {
  const t = i18n.global.t
  try {
    await ElMessageBox.confirm(opts.message, opts.title ?? t('common.delete'), {
      type: 'warning',
      confirmButtonText: t('common.confirm'),
      cancelButtonText: t('common.cancel'),
    })
  } catch {
    return false
  }
  try {
    await opts.call()
    toastSuccess(opts.done ?? t('settings.deleted'))
    await opts.reload()
    return true
  } catch (e) {
    if (opts.onError) opts.onError(e)
    else toastError(e)
    return false
  }
}
