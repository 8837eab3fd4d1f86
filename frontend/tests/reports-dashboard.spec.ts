import { afterEach, describe, expect, it, vi } from 'vitest'
import { i18n } from '@/i18n'
import ReportChart from '@/components/ReportChart.vue'
import DashboardView from '@/views/dashboard/DashboardView.vue'
import MyReminders from '@/views/home/MyReminders.vue'
import ReleaseToPoolDialog from '@/components/ReleaseToPoolDialog.vue'
import {
  chartViews,
  detailTable,
  drillAt,
  filterParams,
  findPin,
  kpis,
  recordLink,
  sameParams,
  type ReportPayload,
} from '@/views/dashboard/reports'
import { claimError, region } from '@/views/pool/pool'
import { reminderTarget } from '@/views/home/reminders'
import { paramsFor } from '@/views/settings/reminderRules'
import { ApiError } from '@/api/errors'
import { mockFetch, mountWith, settle } from './helpers'

const t = i18n.global.t as unknown as (k: string, n?: Record<string, unknown>) => string
const period = { period: 'month', from: '2026-11-01', to: '2026-11-30', previous_from: '2026-10-01', previous_to: '2026-10-31' }
const payload = (report: string, data: Record<string, unknown>, money = true): ReportPayload => ({
  report,
  title: report,
  period,
  filters: {},
  money_visible: money,
  data,
  generated_at: '2026-11-25T00:00:00Z',
})

const funnelManager = payload('funnel', {
  cohort: 5,
  stages: [
    { stage_id: 1, name: '初步接洽', name_en: 'Qualify', kind: 'open', probability: 10, count: 4, amount: '1000.00', reached: 5, avg_days_in_stage: 3.5, conversion_to_next: 0.6 },
    { stage_id: 2, name: '方案报价', name_en: 'Proposal', kind: 'open', probability: 50, count: 2, amount: '5000.00', reached: 3, avg_days_in_stage: 6 },
    { stage_id: 3, name: '赢单', name_en: 'Won', kind: 'won', probability: 100, count: 1, amount: '9000.00', reached: 1, avg_days_in_stage: null },
    { stage_id: 4, name: '输单', name_en: 'Lost', kind: 'lost', probability: 0, count: 1, amount: '100.00', avg_days_in_stage: null },
  ],
})
const funnelRep = payload(
  'funnel',
  {
    cohort: 5,
    stages: (funnelManager.data.stages as Record<string, unknown>[]).map(({ amount: _a, ...s }) => s),
  },
  false,
)

/** Element Plus puts data-* attributes on the native textarea (or its wrapper in older versions). */
function textarea(testid: string): HTMLTextAreaElement {
  const el = document.querySelector(`[data-test="${testid}"]`)!
  return (el.tagName === 'TEXTAREA' ? el : el.querySelector('textarea')) as HTMLTextAreaElement
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('report helpers', () => {
  it('turns filters into query parameters', () => {
    expect(filterParams({ period: 'quarter', range: null, department_id: 3, owner_id: null })).toEqual({ period: 'quarter', department_id: '3' })
    expect(filterParams({ period: 'custom', range: ['2026-01-01', '2026-01-31'], department_id: null, owner_id: 7 })).toEqual({
      period: 'custom',
      from: '2026-01-01',
      to: '2026-01-31',
      owner_id: '7',
    })
  })

  it('matches a pin by report and non-empty params', () => {
    expect(sameParams({ period: 'month', owner_id: '' }, { period: 'month' })).toBe(true)
    expect(sameParams({ period: 'month' }, { period: 'year' })).toBe(false)
    const pins = [{ id: 9, report: 'funnel', params: { period: 'month' }, position: 0 }]
    expect(findPin(pins, 'funnel', { period: 'month' })?.id).toBe(9)
    expect(findPin(pins, 'ranking', { period: 'month' })).toBeUndefined()
  })

  it('funnel: a stage click drills into that stage; the amount view only with amounts', () => {
    const views = chartViews(funnelManager, t, 'zh-CN')
    expect(views.map((v) => v.key)).toEqual(['funnel', 'days', 'amount'])
    expect(drillAt(views[0]!, 0, 1)).toMatchObject({ bucket: '2', label: '方案报价' })
    const repViews = chartViews(funnelRep, t, 'en')
    expect(repViews.map((v) => v.key)).toEqual(['funnel', 'days'])
    expect(JSON.stringify(repViews)).not.toMatch(/amount|金额/i)
    const table = detailTable(funnelRep, t, 'zh-CN')!
    expect(table.columns.map((c) => c.key)).not.toContain('amount')
    expect(detailTable(funnelManager, t, 'zh-CN')!.columns.map((c) => c.key)).toContain('amount')
    expect(table.rows[0]).toMatchObject({ stage: '初步接洽', conversion: '60%' })
  })

  it('KPIs compare with the previous period and drop absent amounts', () => {
    const wr = payload('win_rate', { won: 3, lost: 1, win_rate: 0.75, avg_cycle_days: 12.5, won_amount: '300.00', previous: { won: 2, lost: 2, win_rate: 0.5, avg_cycle_days: 10, won_amount: '100.00' } })
    const k = kpis(wr, t, 'zh-CN')
    expect(k.map((x) => x.key)).toEqual(['win_rate', 'avg_cycle_days', 'won', 'won_amount'])
    expect(k[0]).toMatchObject({ value: '75%', previous: '50%', delta: 0.5 })
    expect(k[2]!.drill).toMatchObject({ bucket: 'won' })
    const repWr = payload('win_rate', { won: 3, lost: 1, win_rate: 0.75, avg_cycle_days: null, previous: { won: 0, lost: 0, win_rate: null, avg_cycle_days: null } }, false)
    const rk = kpis(repWr, t, 'zh-CN')
    expect(rk.map((x) => x.key)).not.toContain('won_amount')
    expect(rk.find((x) => x.key === 'won')!.delta).toBeNull()
  })

  it('previous-period bars drill into the previous period; months into their own range', () => {
    const cp = payload('contracts_payments', {
      contracts: 2,
      payments: 1,
      planned: 3,
      previous: { contracts: 1, payments: 0, planned: 1 },
      by_month: [{ bucket: '2026-02', contracts: 2 }],
    }, false)
    const [plan, months] = chartViews(cp, t, 'zh-CN')
    expect(drillAt(plan!, 1, 0)).toMatchObject({ bucket: 'contracts', params: { period: 'custom', from: '2026-10-01', to: '2026-10-31' } })
    expect(drillAt(months!, 0, 0)).toMatchObject({ bucket: 'contracts', params: { from: '2026-02-01', to: '2026-02-28' } })
    expect(JSON.stringify(plan!.option)).not.toMatch(/金额/)
  })

  it('ranking and new customers use the drill-down bucket formats of the API', () => {
    const rk = payload('ranking', { rows: [{ owner_id: 4, owner: '李明', won: 2, new_customers: 3, followups: 9 }], totals: { won: 2, new_customers: 3, followups: 9 } }, false)
    const views = chartViews(rk, t, 'zh-CN')
    expect(views.map((v) => v.key)).toEqual(['activity'])
    expect(drillAt(views[0]!, 1, 0)?.bucket).toBe('new:4')
    expect(drillAt(views[0]!, 2, 0)?.bucket).toBe('followups:4')
    const nc = payload('new_customers', { total: 2, previous: { total: 1 }, by_source: [{ bucket: '', customers: 2 }], by_industry: [], by_region: [] })
    expect(drillAt(chartViews(nc, t, 'zh-CN')[0]!, 0, 0)).toMatchObject({ bucket: 'source:', label: '按来源 · 未填写' })
    expect(chartViews(nc, t, 'zh-CN').map((v) => v.key)).toEqual(['by_source', 'by_industry', 'by_region'])
  })

  it('shows no tab for a breakdown the API left out (a field hidden from the viewer)', () => {
    const nc = payload('new_customers', { total: 2, previous: { total: 1 }, by_source: [{ bucket: '官网', customers: 2 }], by_region: [] })
    expect(chartViews(nc, t, 'zh-CN').map((v) => v.key)).toEqual(['by_source', 'by_region'])
  })

  it('links drill-down records to their screens', () => {
    expect(recordLink('customer', { id: 5 })).toEqual({ name: 'customer', params: { id: '5' } })
    expect(recordLink('followup', { id: 1, customer_id: 8 })).toEqual({ name: 'customer', params: { id: '8' } })
    expect(recordLink('payment', { id: 1, contract_id: 3 })).toEqual({ name: 'contract', params: { id: '3' } })
  })
})

describe('pool, reminders and rules helpers', () => {
  it('words refused claims', () => {
    const cap = new ApiError({ status: 409, code: 'pool_claim_cap', message: '已达到公海领取上限 5 个' })
    expect(claimError(cap)).toEqual({ kind: 'cap', message: '已达到公海领取上限 5 个' })
    expect(claimError(new ApiError({ status: 409, code: 'pool_cooldown', message: 'x' })).kind).toBe('cooldown')
    expect(claimError(new ApiError({ status: 404, code: 'not_found', message: 'x' })).kind).toBe('gone')
    expect(region({ id: 1, province: '北京市', city: '北京市', district: null })).toBe('北京市 北京市')
  })

  it('keeps reminder links inside the app', () => {
    const base = { id: 1, rule_id: 1, kind: 'no_followup', entity_type: 'customer', entity_id: 2, customer_id: 2, text: 'x', copied: false, fired_at: '' }
    expect(reminderTarget({ ...base, link: '/customers/2' })).toBe('/customers/2')
    expect(reminderTarget({ ...base, link: '//evil.example' })).toBe('/customers/2')
    expect(reminderTarget({ ...base, customer_id: null, link: null })).toBeNull()
  })

  it('sends only the parameters a reminder kind uses', () => {
    const f = { name: 'x', kind: 'no_followup', days: 7, levels: ['A'], amount_threshold: ' 100000 ', copy_manager: true, lead_minutes: 30, lead_days: 7, active: true, department_id: null, position: 0 }
    expect(paramsFor(f)).toEqual({ days: 7, levels: ['A'], amount_threshold: '100000', copy_manager: true })
    expect(paramsFor({ ...f, kind: 'task_due' })).toEqual({ lead_minutes: 30 })
    expect(paramsFor({ ...f, kind: 'payment_due' })).toEqual({ lead_days: 7 })
    expect(paramsFor({ ...f, kind: 'next_action_overdue' })).toEqual({})
  })
})

describe('ReportChart', () => {
  it('loads the report with the filters, shows KPIs and emits a drill-down from a KPI', async () => {
    const wr = payload('win_rate', { won: 3, lost: 1, win_rate: 0.75, avg_cycle_days: 12.5, previous: { won: 2, lost: 2, win_rate: 0.5, avg_cycle_days: 10 } }, false)
    const { calls } = mockFetch(() => [200, wr])
    const { wrapper } = await mountWith(ReportChart, { props: { name: 'win_rate', params: { period: 'quarter', owner_id: '4' }, canExport: true } })
    await settle()
    const get = calls.find((c) => c.url.pathname === '/api/v1/reports/win_rate')!
    expect(get.url.searchParams.get('period')).toBe('quarter')
    expect(get.url.searchParams.get('owner_id')).toBe('4')
    expect(wrapper.text()).toContain('赢单率与销售周期')
    expect(wrapper.text()).toContain('75%')
    expect(wrapper.text()).toContain('+50%')
    expect(wrapper.text()).not.toContain('金额')
    await wrapper.find('[data-kpi="won"] button').trigger('click')
    const ev = wrapper.emitted('drill')![0] as unknown[]
    expect(ev[0]).toBe('win_rate')
    expect(ev[1]).toMatchObject({ bucket: 'won' })
    expect(ev[2]).toEqual({ period: 'quarter', owner_id: '4' })
  }, 30_000)
})

describe('DashboardView', () => {
  it('renders the role charts, re-queries on a period change and pins a chart', async () => {
    const pins: unknown[] = []
    const { calls } = mockFetch((c) => {
      const p = c.url.pathname
      if (p === '/api/v1/dashboards/me') return [200, { role: 'sales_rep', charts: [{ report: 'funnel', params: { period: 'month' } }], pins }]
      if (p === '/api/v1/dashboards/pins') return [201, { id: 5, report: 'funnel', params: c.body && (c.body as { params: unknown }).params, position: 0 }]
      if (p === '/api/v1/reports/funnel') return [200, funnelRep]
      return [200, { items: [] }]
    })
    const { wrapper } = await mountWith(DashboardView, { me: { permissions: { report: ['read', 'export'], opportunity: ['read'] } as never } })
    await settle()
    expect(wrapper.find('[data-report="funnel"]').exists()).toBe(true)
    expect(wrapper.text()).toContain('销售漏斗')
    expect(wrapper.text()).not.toContain('金额')
    const vm = wrapper.vm as unknown as { filters: { period: string }; onPeriod: () => void }
    vm.filters.period = 'year'
    vm.onPeriod()
    await settle()
    const last = calls.filter((c) => c.url.pathname === '/api/v1/reports/funnel').pop()!
    expect(last.url.searchParams.get('period')).toBe('year')
    await wrapper.find('[data-test="report-pin"]').trigger('click')
    await settle()
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ report: 'funnel', params: { period: 'year' } })
    expect(wrapper.find('[data-test="report-pin"]').attributes('aria-pressed')).toBe('true')
  }, 30_000)
})

describe('MyReminders', () => {
  it('needs a reason to snooze, then posts the days and reason', async () => {
    const { calls } = mockFetch((c) => {
      if (c.url.pathname === '/api/v1/reminders')
        return [200, { items: [{ id: 3, rule_id: 1, kind: 'no_followup', entity_type: 'customer', entity_id: 2, customer_id: 2, text: '客户“星河”已 7 天未跟进。', copied: false, fired_at: '2026-11-24T01:00:00Z', link: '/customers/2' }] }]
      return [201, {}]
    })
    const { wrapper } = await mountWith(MyReminders)
    await settle()
    expect(wrapper.text()).toContain('已 7 天未跟进')
    await wrapper.find('[data-test="snooze"]').trigger('click')
    await settle(50)
    await vi.waitFor(() => expect(document.querySelector('[data-test="snooze-confirm"]')).not.toBeNull(), { timeout: 5000 })
    const confirm = document.querySelector('[data-test="snooze-confirm"]') as HTMLButtonElement
    confirm.click()
    await settle(50)
    await vi.waitFor(() => expect(document.body.textContent).toContain('请填写暂缓原因'), { timeout: 5000 })
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    const input = textarea('snooze-reason')
    input.value = '客户出差'
    input.dispatchEvent(new Event('input'))
    await settle()
    confirm.click()
    await settle(50)
    await vi.waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true), { timeout: 5000 })
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url.pathname).toBe('/api/v1/reminders/snooze')
    expect(post.body).toEqual({ reminder_id: 3, days: 3, reason: '客户出差' })
    await vi.waitFor(() => expect(wrapper.findAll('[data-test="reminder"]').length).toBe(0), { timeout: 5000 })
  }, 30_000)
})

describe('ReleaseToPoolDialog', () => {
  it('shows the server field error for the reason', async () => {
    mockFetch(() => [422, { error: { code: 'validation_error', message: '输入有误', fields: [{ field: 'body.reason', code: 'required', message: '原因必填' }] } }])
    await mountWith(ReleaseToPoolDialog, { props: { customerId: 5, customerName: '星河', open: true } })
    await settle(50)
    await vi.waitFor(() => expect(document.querySelector('[data-test="release-reason"]')).not.toBeNull(), { timeout: 5000 })
    const input = textarea('release-reason')
    input.value = '   '
    input.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-test="release-confirm"]') as HTMLButtonElement).click()
    await settle(50)
    await vi.waitFor(() => expect(document.body.textContent).toContain('请填写释放原因'), { timeout: 5000 })
    input.value = '无需求'
    input.dispatchEvent(new Event('input'))
    ;(document.querySelector('[data-test="release-confirm"]') as HTMLButtonElement).click()
    await settle(50)
    await vi.waitFor(() => expect(document.body.textContent).toContain('原因必填'), { timeout: 5000 })
  }, 30_000)
})
