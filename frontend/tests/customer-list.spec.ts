import { afterEach, describe, expect, it } from 'vitest'
import CustomerList from '@/views/customers/CustomerList.vue'
import { mockFetch, mountWith, settle } from './helpers'

const page = {
  items: [
    { id: 1, name: '北京星河科技有限公司', level: 'A', status: 'active', industry: '软件', province: '北京', city: '北京', phone: '010-12345678', owner: { id: 2, display_name: '张伟' }, last_followup_at: '2026-03-01T02:00:00Z', version: 1 },
    { id: 2, name: '上海远帆贸易', level: 'B', status: 'potential', industry: '贸易', province: '上海', city: '上海', phone: null, owner: { id: 2, display_name: '张伟' }, last_followup_at: null, version: 3 },
  ],
  next_cursor: 'c2',
  total: 3,
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('CustomerList', () => {
  it('renders a table on desktop', async () => {
    mockFetch(() => [200, page])
    const { wrapper } = await mountWith(CustomerList, { width: 1280 })
    await settle()
    expect(wrapper.find('[data-test="table"]').exists()).toBe(true)
    expect(wrapper.find('[data-test="cards"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('北京星河科技有限公司')
    expect(wrapper.find('[data-test="total"]').text()).toContain('3')
    wrapper.unmount()
  })

  it('renders cards at phone width (375 px)', async () => {
    mockFetch(() => [200, page])
    const { wrapper } = await mountWith(CustomerList, { width: 375 })
    await settle()
    expect(wrapper.find('[data-test="table"]').exists()).toBe(false)
    const cards = wrapper.findAll('[data-test="customer-card"]')
    expect(cards).toHaveLength(2)
    expect(cards[0]?.text()).toContain('北京星河科技有限公司')
    // Time shown in the user's zone (Asia/Shanghai: 02:00Z is 10:00).
    expect(cards[0]?.text()).toContain('10:00')
    wrapper.unmount()
  })

  it('loads the next page with the cursor and keeps the filters', async () => {
    const { calls } = mockFetch((c) =>
      c.url.searchParams.get('cursor') === 'c2'
        ? [200, { items: [{ id: 3, name: '深圳海岸电子', version: 1 }], next_cursor: null, total: 3 }]
        : [200, page],
    )
    const { wrapper } = await mountWith(CustomerList, { width: 375 })
    await settle()
    await wrapper.find('[data-test="load-more"]').trigger('click')
    await settle()
    expect(wrapper.findAll('[data-test="customer-card"]')).toHaveLength(3)
    expect(wrapper.find('[data-test="load-more"]').exists()).toBe(false)
    expect(calls.at(-1)?.url.searchParams.get('limit')).toBe('20')
    wrapper.unmount()
  })

  it('takes its filters from the URL and sends them to the API', async () => {
    const { calls } = mockFetch(() => [200, page])
    const { wrapper, router } = await mountWith(CustomerList, { path: '/customers?level=A&status=active&sort=-name&mine=1' })
    await settle()
    const list = calls.find((c) => c.url.pathname === '/api/v1/customers')!
    expect(list.url.searchParams.get('level')).toBe('A')
    expect(list.url.searchParams.get('status')).toBe('active')
    expect(list.url.searchParams.get('sort')).toBe('-name')
    expect(list.url.searchParams.get('owner_id')).toBe('1')
    expect(router.currentRoute.value.query.level).toBe('A')
    wrapper.unmount()
  })
})
