export const CONTACT_FORM_FIELDS = ['name', 'title', 'mobile', 'phone', 'email', 'wechat'] as const
export type ContactFormField = (typeof CONTACT_FORM_FIELDS)[number]
export const CONTACT_LIST_FIELDS = ['name', 'customer_name', 'title', 'mobile', 'phone', 'email', 'wechat', 'is_primary', 'owner'] as const

type FormLike = Record<ContactFormField, string> & { is_primary: boolean }

/**
 * The body for POST/PATCH /contacts: on create, empty fields are left out; on edit,
 * only changed fields are sent, and a cleared field becomes null.
 */
export function contactPayload(form: FormLike, original: FormLike, editing: boolean): Record<string, string | boolean | null> {
  const body: Record<string, string | boolean | null> = {}
  for (const f of CONTACT_FORM_FIELDS) {
    const v = form[f].trim()
    if (editing && v === original[f].trim()) continue
    if (!editing && v === '') continue
    body[f] = v === '' ? null : v
  }
  if (!editing || form.is_primary !== original.is_primary) body.is_primary = form.is_primary
  return body
}
