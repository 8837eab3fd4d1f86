import { afterEach, describe, expect, it } from 'vitest'
import MappingTable from '@/views/imports/MappingTable.vue'
import PreviewRows from '@/views/imports/PreviewRows.vue'
import {
  confidenceLevel,
  countsAddUp,
  duplicateTargets,
  mappedFields,
  missingRequired,
  type MappingEntry,
  type PreviewRow,
  type TargetField,
} from '@/views/imports/importApi'
import DuplicatesView from '@/views/duplicates/DuplicatesView.vue'
import { defaultChoices, mergeFields, mergeState, type MergeInfo } from '@/views/duplicates/dupApi'
import { mockFetch, mountWith, settle } from './helpers'

const FIELDS: TargetField[] = [
  { field: 'id', label: 'ID', required: false },
  { field: 'name', label: '客户名称', required: true },
  { field: 'phone', label: '电话', required: false },
  { field: 'email', label: '邮箱', required: false },
  { field: 'province', label: '省份', required: false },
]
const MAPPING: MappingEntry[] = [
  { column: 0, header: '公司', field: 'name', confidence: 1 },
  { column: 1, header: '手机号码', field: 'phone', confidence: 0.7 },
  { column: 2, header: '备注', field: null, confidence: 0 },
]

describe('import helpers', () => {
  it('grade confidence, find missing and doubled targets', () => {
    expect(MAPPING.map(confidenceLevel)).toEqual(['high', 'medium', 'none'])
    expect(missingRequired(MAPPING, FIELDS)).toEqual([])
    expect(missingRequired(MAPPING.slice(1), FIELDS).map((f) => f.field)).toEqual(['name'])
    expect([...duplicateTargets([...MAPPING, { column: 3, header: 'x', field: 'phone', confidence: 1 }])]).toEqual(['phone'])
    expect(mappedFields(MAPPING)).toEqual(['name', 'phone'])
  })
  it('check that the result counts add up to the rows', () => {
    expect(countsAddUp({ created: 2, skipped: 1, rejected: 1 }, 4)).toBe(true)
    expect(countsAddUp({ created: 2, rejected: 1 }, 4)).toBe(false)
  })
})

describe('MappingTable', () => {
  it('shows each column with its field and confidence, and emits corrections', { timeout: 30_000 }, async () => {
    const { wrapper } = await mountWith(MappingTable, { props: { mapping: MAPPING, fields: FIELDS } })
    const rows = wrapper.findAll('[data-test=mapping-row]')
    expect(rows).toHaveLength(3)
    expect(rows[0]!.find('[data-test=mapping-header]').text()).toBe('公司')
    expect(rows[0]!.find('[data-test=mapping-confidence]').text()).toContain('100%')
    expect(rows[1]!.find('[data-test=mapping-confidence]').text()).toContain('中')
    expect(rows[2]!.classes()).toContain('ignored')
    expect(rows[2]!.find('[data-test=mapping-confidence]').text()).toContain('已忽略')
    // the dropdown emits the chosen field (null for "ignore")
    const selects = wrapper.findAllComponents({ name: 'ElSelect' })
    selects[1]!.vm.$emit('update:modelValue', 'email')
    selects[0]!.vm.$emit('update:modelValue', '__ignore__')
    expect(wrapper.emitted('change')).toEqual([
      [1, 'email'],
      [0, null],
    ])
    wrapper.unmount()
  })
  it('flags a field mapped twice', { timeout: 30_000 }, async () => {
    const doubled = [...MAPPING, { column: 3, header: '电话', field: 'phone', confidence: 1 }]
    const { wrapper } = await mountWith(MappingTable, { props: { mapping: doubled, fields: FIELDS } })
    expect(wrapper.findAll('tr.dupe')).toHaveLength(2)
    expect(wrapper.text()).toContain('“电话”被多列映射')
    wrapper.unmount()
  })
})

const ROWS: PreviewRow[] = [
  {
    row: 2,
    status: 'pending',
    action: 'create',
    decision: null,
    errors: [],
    values: {
      name: { raw: '上海测试科技', value: '上海测试科技', changed: false },
      phone: { raw: '13812341234', value: '138-1234-1234', changed: true },
      email: { raw: 'a@gmial.com', value: 'a@gmial.com', changed: false, hint: 'a@gmail.com' },
      province: { raw: '北京市', value: '北京', changed: true },
    },
    candidates: [],
    record_id: null,
    reason: null,
  },
  {
    row: 3,
    status: 'rejected',
    action: null,
    decision: null,
    errors: [{ field: 'name', code: 'required', message: '必填。' }],
    values: { name: { raw: null, value: null, changed: false }, phone: { raw: '139', value: '139', changed: false } },
    candidates: [],
    record_id: null,
    reason: null,
  },
  {
    row: 4,
    status: 'pending',
    action: 'skip',
    decision: null,
    errors: [],
    values: { name: { raw: '长沙康泰', value: '长沙康泰', changed: false } },
    candidates: [{ source: 'existing', id: 80, name: '长沙康泰', score: 0.96, matched: ['name', 'phones'] }],
    record_id: null,
    reason: null,
  },
]
const labelOf = (f: string) => FIELDS.find((x) => x.field === f)?.label ?? f

describe('PreviewRows', () => {
  it('renders typed → cleaned values, hints, field errors and duplicate candidates', { timeout: 30_000 }, async () => {
    const { wrapper } = await mountWith(PreviewRows, {
      props: { rows: ROWS, fields: ['name', 'phone', 'email', 'province'], labelOf, editable: true, canMerge: true },
    })
    const rows = wrapper.findAll('[data-test=preview-row]')
    expect(rows).toHaveLength(3)
    const phone = rows[0]!.find('[data-field=phone] [data-test=cell-changed]')
    expect(phone.find('s').text()).toBe('13812341234')
    expect(phone.find('strong').text()).toBe('138-1234-1234')
    expect(rows[0]!.find('[data-field=province] strong').text()).toBe('北京')
    expect(rows[0]!.find('[data-test=cell-hint]').text()).toContain('a@gmail.com')
    // the rejected row names the field in red
    expect(rows[1]!.attributes('data-status')).toBe('rejected')
    expect(rows[1]!.find('[data-field=name]').classes()).toContain('bad')
    expect(rows[1]!.find('[data-test=row-error]').text()).toBe('客户名称：必填。')
    expect(rows[1]!.find('[data-test=row-decision]').exists()).toBe(false)
    // candidates with score and matched fields; a choice per pending row
    const cand = rows[2]!.find('[data-test=candidate]')
    expect(cand.text()).toContain('长沙康泰 #80')
    expect(cand.text()).toContain('96%')
    expect(cand.text()).toContain('客户名称')
    expect(cand.text()).toContain('电话')
    const select = rows[2]!.findComponent({ name: 'ElSelect' })
    select.vm.$emit('update:modelValue', 'merge:80')
    select.vm.$emit('update:modelValue', '__rule__')
    expect(wrapper.emitted('decide')).toEqual([
      [4, 'merge:80'],
      [4, null],
    ])
    wrapper.unmount()
  })
  it('never renders cell text as HTML', { timeout: 30_000 }, async () => {
    const evil: PreviewRow = { ...ROWS[0]!, values: { name: { raw: '<img src=x onerror=alert(1)>', value: '<b>x</b>', changed: true } } }
    const { wrapper } = await mountWith(PreviewRows, { props: { rows: [evil], fields: ['name'], labelOf } })
    expect(wrapper.find('img').exists()).toBe(false)
    expect(wrapper.find('td b').exists()).toBe(false)
    expect(wrapper.text()).toContain('<b>x</b>')
    wrapper.unmount()
  })
})

describe('merge choices', () => {
  const a = { id: 1, name: '甲公司', phone: '', email: 'a@x.cn', city: '北京' }
  const b = { id: 2, name: '甲公司', phone: '13800000000', email: 'b@x.cn', city: '北京' }
  const fields = ['name', 'phone', 'email', 'city']
  it('default to the survivor value, filling empty ones from the other', () => {
    expect(defaultChoices(fields, a, b, 'a')).toEqual({ name: 'a', phone: 'b', email: 'a', city: 'a' })
  })
  it('send survivor/other only for differing fields', () => {
    expect(mergeFields(fields, a, b, { name: 'a', phone: 'b', email: 'b', city: 'a' }, 'a')).toEqual({ phone: 'other', email: 'other' })
    expect(mergeFields(fields, a, b, { name: 'b', phone: 'b', email: 'a', city: 'b' }, 'b')).toEqual({ phone: 'survivor', email: 'other' })
  })
})

const merge = (over: Partial<MergeInfo>): MergeInfo => ({
  id: 7,
  entity_type: 'customer',
  survivor_id: 10,
  other_id: 11,
  survivor_name: '甲公司',
  other_name: '甲公司（重复）',
  actor_id: 3,
  actor_name: '王经理',
  created_at: '2026-03-01T02:00:00Z',
  undone_at: null,
  undone_by_id: null,
  undone_by_name: null,
  moved: { contacts: 2 },
  undoable: true,
  undo_blocked: null,
  ...over,
})

describe('merge history (shared, from GET /merges)', () => {
  afterEach(() => {
    document.body.innerHTML = ''
    localStorage.clear()
  })
  it('states: undoable, undone, blocked', () => {
    expect(mergeState(merge({}))).toBe('undoable')
    expect(mergeState(merge({ undoable: false, undone_at: '2026-03-02T00:00:00Z' }))).toBe('undone')
    expect(mergeState(merge({ undoable: false }))).toBe('blocked')
  })
  it("lists a colleague's merges from the API, undoes one, explains a blocked one, pages on", { timeout: 30_000 }, async () => {
    const blocked = merge({
      id: 6,
      other_name: '乙公司',
      undoable: false,
      undo_blocked: { code: 'merge_undo_blocked', message: '合并后有 1 条相关记录被修改，无法撤销。', count: 1, blocking: [{ table: 'contacts', id: 99 }] },
    })
    const { calls } = mockFetch((c) => {
      const path = c.url.pathname
      if (path.endsWith('/duplicates')) return [200, { items: [], total: 0 }]
      if (path.endsWith('/merges') && c.url.searchParams.get('cursor') === 'n1')
        return [200, { items: [merge({ id: 5, other_name: '丙公司', undoable: false, undone_at: '2026-03-02T00:00:00Z', undone_by_name: '李销售', undo_blocked: { code: 'merge_already_undone', message: '该合并已被撤销。', count: 0, blocking: [] } })], next_cursor: null, total: 3 }]
      if (path.endsWith('/merges')) return [200, { items: [merge({}), blocked], next_cursor: 'n1', total: 3 }]
      if (path.endsWith('/merges/7/undo') && c.method === 'POST')
        return [200, merge({ undoable: false, undone_at: '2026-03-03T00:00:00Z', undone_by_name: '张伟', undo_blocked: { code: 'merge_already_undone', message: '该合并已被撤销。', count: 0, blocking: [] } })]
      return [404, { error: { code: 'not_found', message: '记录不存在。' }, request_id: 'r' }]
    })
    const { wrapper } = await mountWith(DuplicatesView, { me: { permissions: { customer: ['read', 'update', 'delete'] } as never } })
    await settle()
    const listCall = calls.find((c) => c.url.pathname.endsWith('/merges'))!
    expect(listCall.url.searchParams.get('entity_type')).toBe('customer')
    const rows = () => wrapper.findAll('[data-test=merge-history] li')
    expect(rows()).toHaveLength(2)
    expect(rows()[0]!.text()).toContain('已将“甲公司（重复） #11”合并到“甲公司 #10”')
    expect(rows()[0]!.find('[data-test=merge-by]').text()).toContain('王经理') // done by a colleague, on another browser
    expect(rows()[1]!.find('[data-test=merge-state]').text()).toBe('无法撤销')
    expect(rows()[1]!.find('[data-test=undo-6]').exists()).toBe(false)
    await rows()[1]!.find('[data-test=why-6]').trigger('click')
    await settle()
    expect(wrapper.find('[data-test=undo-blocked]').text()).toContain('联系人 #99')

    await rows()[0]!.find('[data-test=undo-7]').trigger('click')
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.url.pathname.endsWith('/merges/7/undo'))).toBe(true)
    expect(rows()[0]!.find('[data-test=merge-state]').text()).toBe('已由张伟撤销')
    expect(rows()[0]!.find('[data-test=undo-7]').exists()).toBe(false)

    await wrapper.find('[data-test=merge-history-more]').trigger('click')
    await settle()
    expect(rows()).toHaveLength(3)
    expect(rows()[2]!.text()).toContain('已由李销售撤销')
    expect(wrapper.find('[data-test=merge-history-more]').exists()).toBe(false)
    expect(Object.keys(localStorage).filter((k) => k.startsWith('kith.merges'))).toEqual([]) // no browser-local notes any more
    wrapper.unmount()
  })
})
