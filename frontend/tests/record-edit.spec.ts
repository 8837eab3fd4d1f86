import { afterEach, describe, expect, it, vi } from 'vitest'
import RecordEditForm from '@/components/RecordEditForm.vue'
import { changedFields, formValues, type EditFieldSpec } from '@/components/recordEdit'
import { CONTRACT_EDIT_SPECS } from '@/views/contracts/contractFields'
import { mockFetch, mountWith, settle } from './helpers'

// Element Plus dialogs mount slowly on a busy machine.
vi.setConfig({ testTimeout: 20000 })

afterEach(() => {
  document.body.innerHTML = ''
})

const SPECS: EditFieldSpec[] = [
  { name: 'name', kind: 'text', required: true },
  { name: 'amount', kind: 'money' },
  { name: 'next_action', kind: 'text' },
]
const opp = { id: 7, name: '智慧园区一期', amount: '120000.00', next_action: '发报价', version: 3 }

function setInput(sel: string, value: string) {
  const el = document.querySelector<HTMLInputElement>(sel)!
  el.value = value
  el.dispatchEvent(new Event('input'))
}
const props = (extra: Record<string, unknown> = {}) => ({
  open: true,
  module: 'opportunity',
  path: '/api/v1/opportunities/{record_id}',
  record: opp,
  specs: SPECS,
  title: '编辑商机',
  etag: 'W/"3"',
  ...extra,
})
const save = () => document.querySelector<HTMLElement>('.record-edit-dialog [data-test="save"]')!.click()

describe('recordEdit helpers', () => {
  it('sends only what changed, a cleared field as null', () => {
    const original = formValues(opp, SPECS)
    expect(original).toEqual({ name: '智慧园区一期', amount: '120000.00', next_action: '发报价' })
    expect(changedFields({ ...original, amount: ' 99 ', next_action: '' }, original, SPECS)).toEqual({ amount: '99', next_action: null })
    expect(changedFields({ ...original }, original, SPECS)).toEqual({})
  })

  it('contract edit offers only the statuses a PATCH accepts', () => {
    const status = CONTRACT_EDIT_SPECS.find((s) => s.name === 'status')!
    expect(status.options).not.toContain('cancelled')
    expect(CONTRACT_EDIT_SPECS.find((s) => s.name === 'title')?.required).toBe(true)
  })
})

describe('RecordEditForm', () => {
  it('marks required fields and refuses an empty one without calling the API', async () => {
    const { fn } = mockFetch(() => [200, {}])
    const { wrapper } = await mountWith(RecordEditForm, { props: props() })
    expect(document.querySelector('[data-test="field-name"]')?.classList.contains('is-required')).toBe(true)
    expect(document.querySelector('[data-test="field-amount"]')?.classList.contains('is-required')).toBe(false)
    setInput('#opportunity-edit-name', '  ')
    await settle()
    save()
    await settle(150)
    expect(document.querySelector('[data-test="field-name"] .el-form-item__error')?.textContent).toContain('请填写商机名称')
    expect(fn).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('PATCHes only changed fields with If-Match and emits saved', async () => {
    const { calls } = mockFetch(() => [200, { ...opp, amount: '150000.00', version: 4 }])
    const { wrapper } = await mountWith(RecordEditForm, { props: props() })
    setInput('#opportunity-edit-amount', '150000')
    await settle()
    save()
    await settle(150)
    expect(calls[0]?.method).toBe('PATCH')
    expect(calls[0]?.url.pathname).toBe('/api/v1/opportunities/7')
    expect(calls[0]?.headers.get('If-Match')).toBe('W/"3"')
    expect(calls[0]?.body).toEqual({ amount: '150000' })
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ version: 4 })
    wrapper.unmount()
  })

  it('puts the API field errors next to their fields', async () => {
    mockFetch(() => [
      422,
      { error: { code: 'validation_error', message: '提交的数据有误', fields: [{ field: 'body.amount', code: 'invalid', message: '金额无效。' }] } },
    ])
    const { wrapper } = await mountWith(RecordEditForm, { props: props() })
    setInput('#opportunity-edit-amount', 'abc')
    await settle()
    save()
    await settle(150)
    expect(document.querySelector('[data-test="field-amount"] .el-form-item__error')?.textContent).toContain('金额无效')
    expect(document.querySelector('[data-test="form-error"]')).toBeNull()
    expect(wrapper.emitted('saved')).toBeUndefined()
    wrapper.unmount()
  })

  it('hands a 412 (stale edit) to the parent as conflict', async () => {
    mockFetch(() => [412, { error: { code: 'precondition_failed', message: '记录已被修改', fields: [] } }])
    const { wrapper } = await mountWith(RecordEditForm, { props: props() })
    setInput('#opportunity-edit-next_action', '上门演示')
    await settle()
    save()
    await settle(150)
    expect(wrapper.emitted('conflict')).toHaveLength(1)
    expect(wrapper.emitted('update:open')?.at(-1)).toEqual([false])
    wrapper.unmount()
  })

  it('does not render hidden fields and disables read-only ones', async () => {
    mockFetch(() => [200, {}])
    const { wrapper } = await mountWith(RecordEditForm, {
      props: props({ record: { id: 7, name: '甲', next_action: '', version: 1 } }),
      me: { field_rights: { opportunity: { amount: 'hidden', next_action: 'read' } } as never },
    })
    expect(document.querySelector('[data-test="field-amount"]')).toBeNull()
    expect(document.querySelector<HTMLInputElement>('#opportunity-edit-next_action')?.disabled).toBe(true)
    wrapper.unmount()
  })
})
