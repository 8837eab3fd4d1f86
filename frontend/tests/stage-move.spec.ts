import { afterEach, describe, expect, it } from 'vitest'
import StageMoveDialog from '@/views/opportunities/StageMoveDialog.vue'
import { mockFetch, mountWith, settle } from './helpers'

const opportunity = { id: 7, customer_id: 1, name: 'ERP 升级', pipeline_id: 1, stage_id: 1, next_action: '', version: 2 }
const stage = { id: 2, name: '方案报价', probability: 40, position: 2 }

afterEach(() => {
  document.body.innerHTML = ''
})

function q<T extends Element = HTMLElement>(sel: string): T | null {
  return document.body.querySelector<T>(sel)
}

describe('StageMoveDialog', () => {
  it('refuses to move without a next action and a due date', async () => {
    const { fn } = mockFetch(() => [200, {}])
    const { wrapper } = await mountWith(StageMoveDialog, { props: { open: true, opportunity, stage } })
    await settle()
    q('[data-test="confirm-move"]')?.click()
    await settle(150)
    expect(document.body.textContent).toContain('请填写下一步行动')
    expect(document.body.textContent).toContain('请选择截止日期')
    expect(fn).not.toHaveBeenCalled()
    expect(wrapper.emitted('moved')).toBeUndefined()
    wrapper.unmount()
  })

  it('posts stage, next action and due date, then emits moved', async () => {
    const { calls } = mockFetch(() => [200, { ...opportunity, stage_id: 2, next_action: '发送报价' }])
    const { wrapper } = await mountWith(StageMoveDialog, { props: { open: true, opportunity, stage } })
    await settle()
    const ta = q<HTMLTextAreaElement>('textarea#move-next-action')!
    ta.value = '发送报价'
    ta.dispatchEvent(new Event('input'))
    // The date picker's v-model: set it through the component API.
    const dlg = wrapper.findComponent({ name: 'ElDatePicker' })
    dlg.vm.$emit('update:modelValue', '2099-01-15')
    await settle()
    q('[data-test="confirm-move"]')?.click()
    await settle(150)
    expect(calls).toHaveLength(1)
    expect(calls[0]?.url.pathname).toBe('/api/v1/opportunities/7/stage')
    expect(calls[0]?.body).toEqual({ stage_id: 2, next_action: '发送报价', next_action_due: '2099-01-15T18:00:00+08:00' })
    expect(wrapper.emitted('moved')?.[0]?.[0]).toMatchObject({ stage_id: 2 })
    wrapper.unmount()
  })

  it('shows the API field error next to the field', async () => {
    mockFetch(() => [
      422,
      { error: { code: 'validation_error', message: '有误', fields: [{ field: 'next_action_due', code: 'in_past', message: '截止日期不能早于今天' }] } },
    ])
    const { wrapper } = await mountWith(StageMoveDialog, { props: { open: true, opportunity: { ...opportunity, next_action: '回访' }, stage } })
    await settle()
    wrapper.findComponent({ name: 'ElDatePicker' }).vm.$emit('update:modelValue', '2099-01-15')
    await settle()
    q('[data-test="confirm-move"]')?.click()
    await settle(150)
    expect(document.body.textContent).toContain('截止日期不能早于今天')
    wrapper.unmount()
  })
})
