import { useI18n } from 'vue-i18n'
import { useAuthStore } from '@/stores/auth'
import { formatDate, formatDateTime, formatMoney } from '@/utils/format'

const TIME_FIELDS = /(_at|_due)$/
const DATE_FIELDS = /(_date)$/

/** Turns any record field into display text: times in the user's zone, money, enums, owners. */
export function useDisplay() {
  const { t, te, locale } = useI18n()
  const auth = useAuthStore()

  function label(module: string, field: string): string {
    const key = `fields.${module}.${field}`
    return te(key) ? t(key) : field
  }

  function enumLabel(module: string, field: string, value: unknown): string {
    const key = `enums.${module}.${field}.${String(value)}`
    return te(key) ? t(key) : String(value)
  }

  function display(module: string, field: string, record: object): string {
    const r = record as Record<string, unknown>
    const v = r[field]
    if (v === null || v === undefined || v === '') {
      if (field === 'owner' && r.owner_name) return String(r.owner_name)
      return ''
    }
    // Phone numbers come normalised ("13812341234") with a display form ("138-1234-1234").
    const shown = r[`${field}_display`]
    if (typeof shown === 'string' && shown) return shown
    if (field === 'stage' && typeof v === 'object') {
      const s = v as { name?: string; name_en?: string }
      return String((locale.value === 'en' && s.name_en) || s.name || '')
    }
    if (field === 'owner' || field === 'actor') {
      if (typeof v === 'object') {
        const o = v as Record<string, unknown>
        return String(o.display_name ?? o.name ?? o.username ?? o.id ?? '')
      }
      return String(v)
    }
    if (field === 'amount' || field.endsWith('_amount') || field.endsWith('_total')) {
      return formatMoney(v as string, (r.currency as string | undefined) ?? 'CNY', locale.value)
    }
    if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no')
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' && x ? String((x as { name?: unknown }).name ?? '') : String(x))).join(', ')
    if (typeof v === 'string' && TIME_FIELDS.test(field)) return formatDateTime(v, auth.timezone, locale.value)
    if (typeof v === 'string' && DATE_FIELDS.test(field)) return formatDate(v, auth.timezone, locale.value)
    if (field === 'level' || field === 'status' || field === 'source' || field === 'type') return enumLabel(module, field, v)
    if (typeof v === 'object') return ''
    return String(v)
  }

  return { label, enumLabel, display }
}
