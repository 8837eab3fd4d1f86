import { afterEach, describe, expect, it } from 'vitest'
import TasksView from '@/views/tasks/TasksView.vue'
import { tabQuery } from '@/views/tasks/tasks'
import { groupByStage } from '@/views/home/home'
import { mockFetch, mountWith, settle } from './helpers'

const page = {
  items: [
    { id: 1, title: '回访星河', description: null, due_at: '2026-11-20T10:00:00Z', customer_id: 1, customer_name: '北京星河科技有限公司', opportunity_id: null, done: false, overdue: true, owner_id: 1, version: 2 },
    { id: 2, title: '寄送报价', description: '含税', due_at: '2026-12-01T10:00:00Z', customer_id: null, customer_name: null, opportunity_id: null, done: false, overdue: false, owner_id: 1, version: 1 },
  ],
  next_cursor: null,
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('tabQuery', () => {
  it('gives each tab its filter', () => {
    expect(tabQuery('open')).toMatchObject({ done: 'false', sort: 'due_at' })
    expect(tabQuery('overdue')).toMatchObject({ overdue: 'true' })
    expect(tabQuery('done')).toMatchObject({ done: 'true' })
  })
})

describe('TasksView', () => {
  it('loads open tasks, then switches the filter per tab', async () => {
    const { calls } = mockFetch(() => [200, page])
    const { wrapper } = await mountWith(TasksView, { width: 1280 })
    await settle()
    const gets = () => calls.filter((c) => c.method === 'GET' && c.url.pathname === '/api/v1/tasks')
    expect(gets()[0]?.url.searchParams.get('done')).toBe('false')
    expect(gets()[0]?.url.searchParams.get('sort')).toBe('due_at')
    expect(wrapper.text()).toContain('回访星河')
    // Overdue shown in red (times in the user's zone: 10:00Z is 18:00 in Shanghai).
    expect(wrapper.find('.overdue').text()).toContain('18:00')

    const vm = wrapper.vm as unknown as { tab: string }
    vm.tab = 'overdue'
    await settle()
    expect(gets().at(-1)?.url.searchParams.get('overdue')).toBe('true')
    vm.tab = 'done'
    await settle()
    expect(gets().at(-1)?.url.searchParams.get('done')).toBe('true')
    wrapper.unmount()
  })

  it('marks a task done with its version', async () => {
    const { calls } = mockFetch((c) => (c.method === 'PATCH' ? [200, { ...page.items[0], done: true }] : [200, page]))
    const { wrapper } = await mountWith(TasksView, { width: 1280 })
    await settle()
    await wrapper.find('.el-checkbox input').setValue(true)
    await settle()
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.url.pathname).toBe('/api/v1/tasks/1')
    expect(patch?.body).toEqual({ done: true, version: 2 })
    wrapper.unmount()
  })

  it('shows cards on a phone', async () => {
    mockFetch(() => [200, page])
    const { wrapper } = await mountWith(TasksView, { width: 375 })
    await settle()
    expect(wrapper.find('[data-test="task-table"]').exists()).toBe(false)
    expect(wrapper.findAll('.task-card')).toHaveLength(2)
    wrapper.unmount()
  })
})

describe('groupByStage', () => {
  it('counts per stage and sums amounts only when present', () => {
    const g = groupByStage([
      { stage: { id: 1, name: '初步接洽' }, amount: '100.00', currency: 'CNY' },
      { stage: { id: 1, name: '初步接洽' }, amount: '50' },
      { stage: { id: 2, name: '方案报价' } },
    ])
    expect(g).toEqual([
      { key: '1', name: '初步接洽', count: 2, amount: 150, currency: 'CNY' },
      { key: '2', name: '方案报价', count: 1 },
    ])
  })

  it('follows the pipeline stage order, not the name order, and localises names', () => {
    const pipelines = [
      { id: 9, position: 1, stages: [{ id: 30, name: '甲', position: 0 }] },
      {
        id: 1,
        position: 0,
        is_default: true,
        stages: [
          { id: 3, name: '谈判', position: 2 },
          { id: 1, name: '初步接洽', position: 0 },
          { id: 2, name: '方案报价', position: 1 },
        ],
      },
    ]
    const items = [
      { stage: { id: 30, name: '甲', name_en: 'A' } },
      { stage: { id: 3, name: '谈判', name_en: 'Negotiation' } },
      { stage: { id: 99, name: '未知' } },
      { stage: { id: 1, name: '初步接洽', name_en: 'Qualification' } },
      { stage: { id: 2, name: '方案报价', name_en: 'Proposal' } },
    ]
    expect(groupByStage(items, '—', pipelines).map((g) => g.name)).toEqual(['初步接洽', '方案报价', '谈判', '甲', '未知'])
    expect(groupByStage(items, '—', pipelines, true).map((g) => g.name)).toEqual(['Qualification', 'Proposal', 'Negotiation', 'A', '未知'])
  })
})
