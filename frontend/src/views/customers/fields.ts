export const CUSTOMER_LEVELS = ['A', 'B', 'C', 'D'] as const
export const CUSTOMER_STATUSES = ['potential', 'active', 'inactive', 'lost'] as const

export const CUSTOMER_LIST_FIELDS = [
  'name',
  'level',
  'status',
  'industry',
  'province',
  'city',
  'phone',
  'owner',
  'last_followup_at',
  'next_followup_at',
] as const

export const CUSTOMER_FORM_FIELDS = [
  'name',
  'industry',
  'source',
  'level',
  'status',
  'province',
  'city',
  'district',
  'address',
  'phone',
  'email',
  'website',
  'description',
] as const
export type CustomerFormField = (typeof CUSTOMER_FORM_FIELDS)[number]

export const CUSTOMER_DETAIL_FIELDS = [
  ...CUSTOMER_FORM_FIELDS,
  'owner',
  'tags',
  'last_followup_at',
  'next_followup_at',
  'created_at',
  'updated_at',
] as const

/** Columns the API can sort by (sort=field or -field). */
export const CUSTOMER_SORTABLE = new Set<string>([
  'name',
  'level',
  'status',
  'industry',
  'province',
  'last_followup_at',
  'next_followup_at',
  'created_at',
  'updated_at',
])
