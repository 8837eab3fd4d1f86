import { describe, expect, it } from 'vitest'
import {
  ACTIONS,
  MODULES,
  fieldRightsToRows,
  hasPermission,
  normalizePermissions,
  normalizeScopes,
  rowsToFieldRights,
  setActionAll,
  setModuleAll,
  togglePermission,
  type Permissions,
} from '@/views/settings/policy'
import { buildTree, descendantIds } from '@/views/settings/tree'
import { allowedSettingsPages } from '@/views/settings/settingsNav'

describe('role permission matrix', () => {
  it('toggling a box on adds the action in canonical order', () => {
    let p: Permissions = {}
    p = togglePermission(p, 'customer', 'update', true)
    p = togglePermission(p, 'customer', 'read', true)
    p = togglePermission(p, 'contract', 'export', true)
    expect(p).toEqual({ customer: ['read', 'update'], contract: ['export'] })
  })

  it('toggling off removes the action and drops an emptied module', () => {
    const start: Permissions = { customer: ['read', 'update'], contract: ['read'] }
    let p = togglePermission(start, 'customer', 'update', false)
    expect(p).toEqual({ customer: ['read'], contract: ['read'] })
    p = togglePermission(p, 'contract', 'read', false)
    expect(p).toEqual({ customer: ['read'] })
    // the input object is not mutated
    expect(start).toEqual({ customer: ['read', 'update'], contract: ['read'] })
  })

  it('toggling twice is idempotent and never duplicates', () => {
    let p = togglePermission({}, 'task', 'read', true)
    p = togglePermission(p, 'task', 'read', true)
    expect(p).toEqual({ task: ['read'] })
    expect(hasPermission(p, 'task', 'read')).toBe(true)
    expect(hasPermission(p, 'task', 'delete')).toBe(false)
  })

  it('row and column select-all', () => {
    let p = setModuleAll({}, 'user', true)
    expect(p.user).toEqual([...ACTIONS])
    p = setActionAll(p, 'read', true)
    for (const m of MODULES) expect(p[m]).toContain('read')
    p = setModuleAll(p, 'user', false)
    expect(p.user).toBeUndefined()
    p = setActionAll(p, 'read', false)
    expect(p).toEqual({})
  })

  it('normalises what the server sent before saving', () => {
    expect(normalizePermissions({ a: ['update', 'read', 'read'], b: [] })).toEqual({ a: ['read', 'update'] })
    expect(normalizeScopes({ customer: 'own', contact: '' })).toEqual({ customer: 'own' })
  })

  it('field rights round-trip through table rows', () => {
    const rights = { contract: { amount: 'read' }, opportunity: { amount: 'hidden' } }
    const rows = fieldRightsToRows(rights)
    expect(rows).toContainEqual({ module: 'contract', field: 'amount', right: 'read' })
    expect(rowsToFieldRights(rows)).toEqual(rights)
    expect(rowsToFieldRights([...rows, { module: 'contract', field: ' ', right: 'write' }])).toEqual(rights)
  })
})

describe('settings helpers', () => {
  it('builds the department tree and finds descendants', () => {
    const rows = [
      { id: 1, parent_id: null, name: 'HQ' },
      { id: 2, parent_id: 1, name: 'Sales' },
      { id: 3, parent_id: 2, name: 'North' },
      { id: 4, parent_id: 99, name: 'Orphan' },
    ]
    const tree = buildTree(rows)
    expect(tree.map((n) => n.id)).toEqual([1, 4])
    expect(tree[0]!.children![0]!.children![0]!.name).toBe('North')
    expect([...descendantIds(rows, 2)].sort()).toEqual([2, 3])
  })

  it('shows only the settings pages the caller may update', () => {
    const can = (m: string, a: string) => (m === 'user' || m === 'tag') && a === 'update'
    expect(allowedSettingsPages(can).map((p) => p.name)).toEqual(['settings-users', 'settings-tags'])
    expect(allowedSettingsPages(() => false)).toEqual([])
  })
})
