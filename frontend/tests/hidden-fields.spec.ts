import { afterEach, describe, expect, it } from 'vitest'
import RecordList from '@/components/RecordList.vue'
import CustomerDetail from '@/views/customers/CustomerDetail.vue'
import CustomerForm from '@/views/customers/CustomerForm.vue'
import CustomerList from '@/views/customers/CustomerList.vue'
import { visibleFields } from '@/utils/fields'
import { mockFetch, mountWith, settle } from './helpers'

afterEach(() => {
  document.body.innerHTML = ''
})

describe('hidden fields', () => {
  it('visibleFields drops fields hidden by rights or absent from every row', () => {
    const right = (m: string, f: string) => (m === 'contract' && f === 'amount' ? 'hidden' : 'write') as 'hidden' | 'write'
    expect(visibleFields(['number', 'amount', 'status'], 'contract', right, [{ number: 'C1', status: 'x' }])).toEqual(['number', 'status'])
    expect(visibleFields(['number', 'status'], 'contract', () => 'write', [{ number: 'C1' }])).toEqual(['number'])
    expect(visibleFields(['number', 'amount'], 'contract', right, [])).toEqual(['number'])
  })

  it('contracts table has no amount column when field rights hide it', async () => {
    mockFetch(() => [200, {}])
    const rows = [{ id: 1, number: 'HT-2026-001', status: 'active' }]
    const { wrapper } = await mountWith(RecordList, {
      props: { module: 'contract', fields: ['number', 'amount', 'status'], rows, caption: '合同' },
      me: { field_rights: { contract: { amount: 'hidden' } } },
    })
    await settle()
    const headers = wrapper.findAll('th').map((h) => h.text())
    expect(headers).toContain('合同编号')
    expect(headers).not.toContain('合同金额')
    expect(wrapper.text()).not.toContain('合同金额')
    wrapper.unmount()
  })

  it('customer list renders no column for a field absent from the payload', async () => {
    mockFetch(() => [200, { items: [{ id: 1, name: '甲公司', level: 'A', status: 'active', version: 1 }], next_cursor: null, total: 1 }])
    const { wrapper } = await mountWith(CustomerList, { width: 1280 })
    await settle()
    const headers = wrapper.findAll('th').map((h) => h.text())
    expect(headers).toContain('客户名称')
    expect(headers).not.toContain('电话')
    expect(headers).not.toContain('负责人')
    wrapper.unmount()
  })

  it('customer detail renders neither label nor empty cell for absent fields', async () => {
    mockFetch((c) => {
      if (c.url.pathname === '/api/v1/customers/5')
        return [200, { id: 5, name: '乙公司', industry: '制造', status: 'active', version: 4 }, { ETag: '"4"' }]
      return [200, { items: [], next_cursor: null }]
    })
    const { wrapper } = await mountWith(CustomerDetail, { props: { id: '5' } })
    await settle()
    expect(wrapper.text()).toContain('乙公司')
    const fields = wrapper.find('.fields')
    expect(fields.text()).toContain('行业')
    expect(fields.text()).not.toContain('电话')
    expect(fields.text()).not.toContain('邮箱')
    expect(fields.text()).not.toContain('负责人')
    expect(wrapper.findAll('[data-field]').map((e) => e.attributes('data-field'))).toEqual(['industry', 'status'])
    wrapper.unmount()
  })

  it('form hides hidden fields and disables read-only ones', async () => {
    mockFetch(() => [200, {}])
    const customer = { id: 5, name: '乙公司', industry: '制造', level: 'A', status: 'active', phone: '010-1', version: 4 }
    const { wrapper } = await mountWith(CustomerForm, {
      props: { open: true, customer, etag: '"4"' },
      me: { field_rights: { customer: { phone: 'hidden', level: 'read' } } },
    })
    await settle()
    expect(document.querySelector('[data-test="field-phone"]')).toBeNull()
    // Absent from the record: not rendered either.
    expect(document.querySelector('[data-test="field-email"]')).toBeNull()
    expect(document.querySelector('[data-test="field-industry"] input')?.hasAttribute('disabled')).toBe(false)
    const level = document.querySelector('[data-test="field-level"]')
    expect(level?.querySelector('.is-disabled')).not.toBeNull()
    wrapper.unmount()
  })
})
