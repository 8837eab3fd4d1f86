/**
 * Pure helpers for the role editor: the permission matrix (modules × actions),
 * data scopes per module and field rights. Kept free of Vue so they are unit-tested.
 */

export const MODULES = [
  'customer',
  'contact',
  'opportunity',
  'contract',
  'payment',
  'product',
  'followup',
  'task',
  'tag',
  'custom_field',
  'pipeline',
  'user',
  'department',
  'role',
  'audit',
  'approval',
] as const

export const ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'export',
  'import',
  'transfer',
  'approve',
  'manage',
  'force_duplicate',
] as const

export const SCOPES = ['own', 'dept', 'dept_tree', 'all'] as const
export const RIGHTS = ['hidden', 'read', 'write'] as const

export type Permissions = Record<string, string[]>
export type DataScopes = Record<string, string>
export type FieldRights = Record<string, Record<string, string>>
export interface FieldRightRow {
  module: string
  field: string
  right: string
}

function actionOrder(a: string): number {
  const i = (ACTIONS as readonly string[]).indexOf(a)
  return i === -1 ? ACTIONS.length : i
}

/** Whether `perms` grants `action` on `module`. */
export function hasPermission(perms: Permissions, module: string, action: string): boolean {
  return (perms[module] ?? []).includes(action)
}

/**
 * Turn one checkbox on or off; returns a new object. Actions stay in the canonical order,
 * and a module without any action is dropped.
 */
export function togglePermission(perms: Permissions, module: string, action: string, on: boolean): Permissions {
  const out: Permissions = {}
  for (const [m, acts] of Object.entries(perms)) out[m] = [...acts]
  const set = new Set(out[module] ?? [])
  if (on) set.add(action)
  else set.delete(action)
  if (set.size === 0) delete out[module]
  else out[module] = [...set].sort((a, b) => actionOrder(a) - actionOrder(b))
  return out
}

/** Grant (or revoke) every action of one module. */
export function setModuleAll(perms: Permissions, module: string, on: boolean): Permissions {
  let out = { ...perms }
  for (const a of ACTIONS) out = togglePermission(out, module, a, on)
  return out
}

/** Grant (or revoke) one action across every module. */
export function setActionAll(perms: Permissions, action: string, on: boolean): Permissions {
  let out = { ...perms }
  for (const m of MODULES) out = togglePermission(out, m, action, on)
  return out
}

/** Normalised copy for saving: known order, no empty modules, no duplicate actions. */
export function normalizePermissions(perms: Permissions): Permissions {
  const out: Permissions = {}
  for (const [m, acts] of Object.entries(perms)) {
    const uniq = [...new Set(acts)].sort((a, b) => actionOrder(a) - actionOrder(b))
    if (uniq.length) out[m] = uniq
  }
  return out
}

/** Data scopes for saving: drop modules left blank. */
export function normalizeScopes(scopes: DataScopes): DataScopes {
  const out: DataScopes = {}
  for (const [m, s] of Object.entries(scopes)) if (s) out[m] = s
  return out
}

export function fieldRightsToRows(rights: FieldRights): FieldRightRow[] {
  const rows: FieldRightRow[] = []
  for (const [module, fields] of Object.entries(rights ?? {})) {
    for (const [field, right] of Object.entries(fields ?? {})) rows.push({ module, field, right })
  }
  return rows
}

/** Rows back into `{module: {field: right}}`; blank rows are ignored, a later duplicate wins. */
export function rowsToFieldRights(rows: FieldRightRow[]): FieldRights {
  const out: FieldRights = {}
  for (const r of rows) {
    const module = r.module.trim()
    const field = r.field.trim()
    if (!module || !field || !r.right) continue
    ;(out[module] ??= {})[field] = r.right
  }
  return out
}
