import { afterEach, describe, expect, it } from 'vitest'
import CustomerForm from '@/views/customers/CustomerForm.vue'
import { mockFetch, mountWith, settle } from './helpers'

afterEach(() => {
  document.body.innerHTML = ''
})

function setInput(sel: string, value: string) {
  const el = document.querySelector<HTMLInputElement>(sel)!
  el.value = value
  el.dispatchEvent(new Event('input'))
}

describe('CustomerForm', () => {
  it('requires a name', async () => {
    const { fn } = mockFetch(() => [201, {}])
    const { wrapper } = await mountWith(CustomerForm, { props: { open: true } })
    document.querySelector<HTMLElement>('[data-test="save"]')!.click()
    await settle(150)
    expect(document.body.textContent).toContain('请输入客户名称')
    expect(fn).not.toHaveBeenCalled()
    wrapper.unmount()
  })

  it('shows "already owned by X" on a 409 duplicate and links the existing record', async () => {
    mockFetch(() => [
      409,
      {
        error: {
          code: 'duplicate_customer',
          message: '客户已存在（名称相同），负责人：李明。',
          fields: [],
          details: { field: 'name', owner: { id: 3, display_name: '李明' }, customer: { id: 275, name: '大连永通医药有限公司' } },
        },
        request_id: 'r',
      },
    ])
    const { wrapper } = await mountWith(CustomerForm, { props: { open: true } })
    setInput('#customer-name', '大连永通医药有限公司')
    await settle()
    document.querySelector<HTMLElement>('[data-test="save"]')!.click()
    await settle(150)
    const alert = document.querySelector('[data-test="form-error"]')
    expect(alert?.textContent).toContain('负责人：李明')
    expect(alert?.querySelector('a')?.getAttribute('href')).toBe('/customers/275')
    wrapper.unmount()
  })

  it('puts API field errors next to the field', async () => {
    mockFetch(() => [
      422,
      { error: { code: 'validation_error', message: '提交的数据有误', fields: [{ field: 'phone', code: 'invalid_phone', message: '电话号码无效。' }] } },
    ])
    const { wrapper } = await mountWith(CustomerForm, { props: { open: true } })
    setInput('#customer-name', '丙公司')
    setInput('#customer-phone', '123')
    await settle()
    document.querySelector<HTMLElement>('[data-test="save"]')!.click()
    await settle(150)
    expect(document.querySelector('[data-test="field-phone"] .el-form-item__error')?.textContent).toContain('电话号码无效')
    expect(document.querySelector('[data-test="form-error"]')).toBeNull()
    wrapper.unmount()
  })

  it('sends only changed fields with If-Match when editing', async () => {
    const customer = { id: 5, name: '乙公司', industry: '制造', status: 'active', version: 4 }
    const { calls } = mockFetch(() => [200, { ...customer, industry: '软件', version: 5 }])
    const { wrapper } = await mountWith(CustomerForm, { props: { open: true, customer, etag: '"4"' } })
    setInput('#customer-industry', '软件')
    await settle()
    document.querySelector<HTMLElement>('[data-test="save"]')!.click()
    await settle(150)
    expect(calls[0]?.method).toBe('PATCH')
    expect(calls[0]?.url.pathname).toBe('/api/v1/customers/5')
    expect(calls[0]?.headers.get('If-Match')).toBe('"4"')
    expect(calls[0]?.body).toEqual({ industry: '软件' })
    expect(wrapper.emitted('saved')?.[0]?.[0]).toMatchObject({ version: 5 })
    wrapper.unmount()
  })
})

describe('CustomerForm conflict', () => {
  it('emits conflict on 412 so the page can offer a reload', async () => {
    const customer = { id: 5, name: '乙公司', industry: '制造', status: 'active', version: 4 }
    mockFetch(() => [412, { error: { code: 'precondition_failed', message: '该记录已被他人修改，请刷新后重试。', fields: [] } }])
    const { wrapper } = await mountWith(CustomerForm, { props: { open: true, customer, etag: '"4"' } })
    setInput('#customer-industry', '软件')
    await settle()
    document.querySelector<HTMLElement>('[data-test="save"]')!.click()
    await settle(150)
    expect(wrapper.emitted('conflict')).toHaveLength(1)
    expect(wrapper.emitted('saved')).toBeUndefined()
    wrapper.unmount()
  })
})
