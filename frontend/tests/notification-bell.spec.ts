import { afterEach, describe, expect, it, vi } from 'vitest'
import NotificationBell from '@/components/NotificationBell.vue'
import { appPath } from '@/views/tasks/tasks'
import { mockFetch, mountWith, settle } from './helpers'

const list = {
  items: [
    { id: 5, kind: 'approval_decided', text: '你的申请已通过', link: '/customers/5', created_at: '2026-11-25T02:00:00Z', read: false },
    { id: 4, kind: 'approval_pending', text: '有一条待审批', link: '/approvals/12', created_at: '2026-11-24T02:00:00Z', read: true },
  ],
  next_cursor: null,
}

function handler(unread = 3) {
  return mockFetch((c) => {
    if (c.url.pathname === '/api/v1/notifications/unread-count') return [200, { unread }]
    if (c.url.pathname === '/api/v1/notifications' && c.method === 'GET') return [200, list]
    if (c.url.pathname.endsWith('/read') && c.method === 'POST') {
      unread = Math.max(0, unread - 1)
      return [200, { id: 5, read: true }]
    }
    if (c.url.pathname === '/api/v1/notifications/read-all') {
      unread = 0
      return [200, { marked: 1 }]
    }
    return [404, { detail: 'not found' }]
  })
}

afterEach(() => {
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('NotificationBell', () => {
  it('shows the unread count in a badge and names it for screen readers', async () => {
    handler(3)
    const { wrapper } = await mountWith(NotificationBell)
    await settle()
    expect(wrapper.find('.el-badge__content').text()).toBe('3')
    const bell = wrapper.find('[data-test="notification-bell"]')
    expect(bell.attributes('aria-label')).toContain('3')
    wrapper.unmount()
  })

  it('hides the badge when nothing is unread', async () => {
    handler(0)
    const { wrapper } = await mountWith(NotificationBell)
    await settle()
    const badge = wrapper.find('.el-badge__content')
    expect(!badge.exists() || !badge.isVisible() || badge.text() === '').toBe(true)
    wrapper.unmount()
  })

  it('polls the count every 60 s', async () => {
    vi.useFakeTimers()
    const { calls } = handler(1)
    const { wrapper } = await mountWith(NotificationBell)
    const count = () => calls.filter((c) => c.url.pathname.endsWith('/unread-count')).length
    const before = count()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(count()).toBe(before + 1)
    wrapper.unmount()
  })

  it('lists notifications, marks one read and opens its link', async () => {
    const { calls } = handler(3)
    const { wrapper, router } = await mountWith(NotificationBell)
    await settle()
    await wrapper.find('[data-test="notification-bell"]').trigger('click')
    await settle()
    const listCall = calls.find((c) => c.url.pathname === '/api/v1/notifications')
    expect(listCall?.url.searchParams.get('limit')).toBe('20')
    const item = document.querySelector<HTMLButtonElement>('[data-test="notification-5"]')
    expect(item?.textContent).toContain('你的申请已通过')
    item?.click()
    await settle()
    const read = calls.find((c) => c.method === 'POST' && c.url.pathname === '/api/v1/notifications/5/read')
    expect(read).toBeTruthy()
    expect(router.currentRoute.value.fullPath).toBe('/customers/5')
    expect(wrapper.find('.el-badge__content').text()).toBe('2')
    wrapper.unmount()
  })

  it('marks all read', async () => {
    const { calls } = handler(3)
    const { wrapper } = await mountWith(NotificationBell)
    await settle()
    await wrapper.find('[data-test="notification-bell"]').trigger('click')
    await settle()
    document.querySelector<HTMLButtonElement>('[data-test="read-all"]')?.click()
    await settle()
    expect(calls.some((c) => c.method === 'POST' && c.url.pathname === '/api/v1/notifications/read-all')).toBe(true)
    // The badge hides (leave transition aside): the bell's label no longer announces a count.
    expect(wrapper.find('[data-test="notification-bell"]').attributes('aria-label')).toBe('通知')
    wrapper.unmount()
  })
})

describe('appPath', () => {
  it('maps notification links to app routes', () => {
    expect(appPath('/approvals/12')).toBe('/approvals')
    expect(appPath('/customers/5')).toBe('/customers/5')
    expect(appPath('/tasks/3')).toBe('/tasks')
    expect(appPath('https://evil.example/x')).toBeNull()
    expect(appPath('//evil.example')).toBeNull()
    expect(appPath(null)).toBeNull()
  })
})
