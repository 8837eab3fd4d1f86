/**
 * The fields a role's field rights can restrict, per module: the built-in fields of the
 * business records plus the custom fields defined for them (`cf_<name>` keys from
 * /api/v1/custom-fields). Pure, so it is unit-tested; labels are resolved by the caller.
 */

export const FIELD_RIGHT_MODULES = ['customer', 'contact', 'opportunity', 'contract', 'payment'] as const
export type FieldRightModule = (typeof FIELD_RIGHT_MODULES)[number]

export const BUILTIN_FIELDS: Record<FieldRightModule, readonly string[]> = {
  customer: [
    'name', 'industry', 'source', 'level', 'status', 'province', 'city', 'district', 'address',
    'phone', 'email', 'website', 'description', 'tags', 'last_followup_at', 'next_followup_at',
  ],
  contact: ['name', 'title', 'mobile', 'phone', 'email', 'wechat', 'is_primary', 'tags'],
  opportunity: ['name', 'amount', 'currency', 'expected_close_date', 'next_action', 'next_action_due', 'lost_reason', 'tags'],
  contract: ['number', 'title', 'amount', 'received_total', 'currency', 'status', 'sign_date', 'start_date', 'end_date', 'description'],
  payment: ['amount', 'received_on', 'method', 'note'],
}

export interface CustomFieldDef {
  entity_type: string
  key: string
  label: string
  label_en?: string | null
  active?: boolean
}

export interface FieldChoice {
  module: string
  field: string
  /** Custom field: its own labels; built-in: none (the caller looks the label up in i18n). */
  custom?: { label: string; label_en?: string | null }
}

/** Choices for one module: built-ins first, then active custom fields; unknown modules get none. */
export function fieldChoices(module: string, customFields: readonly CustomFieldDef[]): FieldChoice[] {
  const builtin = (BUILTIN_FIELDS as Record<string, readonly string[] | undefined>)[module] ?? []
  const out: FieldChoice[] = builtin.map((field) => ({ module, field }))
  for (const cf of customFields) {
    if (cf.entity_type !== module || cf.active === false) continue
    if (out.some((c) => c.field === cf.key)) continue
    out.push({ module, field: cf.key, custom: { label: cf.label, label_en: cf.label_en } })
  }
  return out
}
