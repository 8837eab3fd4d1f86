/**
 * Reports and dashboards: API calls, filter parameters and, per report, the figures (KPIs with the
 * previous-period comparison), the chart views (ECharts options) and the drill-down bucket behind each
 * chart element. Pure functions (no ECharts import) so they are unit-tested in jsdom.
 *
 * Amount figures: the server leaves the keys out for viewers who may not see amounts (sales reps);
 * every builder here only draws an amount series when its key is present.
 */
import { api, kithFetch, ok } from '@/api/http'
import { formatMoney } from '@/utils/format'

export type Params = Record<string, string>
type Row = Record<string, unknown>
type T = (key: string, named?: Record<string, unknown>) => string

export interface ReportPayload {
  report: string
  title: string
  period: { period: string; from: string; to: string; previous_from: string; previous_to: string }
  filters: Record<string, unknown>
  money_visible: boolean
  data: Record<string, unknown>
  generated_at: string
}
export interface Pin {
  id: number
  report: string
  params: Params
  position: number
}
export interface MyDashboard {
  role: string
  charts: { report: string; params: Params }[]
  pins: Pin[]
}
export interface RecordsPage {
  entity: string
  items: Row[]
  total: number
  limit: number
  offset: number
}
/** What a click on a chart element opens: the records behind one bucket (params override the filters). */
export interface Drill {
  bucket: string
  label: string
  params?: Params
}
export interface Kpi {
  key: string
  label: string
  value: string
  previous?: string
  /** relative change against the previous period, e.g. +0.25 */
  delta?: number | null
  drill?: Drill
}
export interface ChartView {
  key: string
  label: string
  option: Record<string, unknown>
  /** drill-down per [seriesIndex][dataIndex]; null = not clickable */
  drills: (Drill | null)[][]
  height?: number
}

export const PERIODS = ['week', 'month', 'quarter', 'year', 'custom'] as const
export type Period = (typeof PERIODS)[number]
export const REPORT_NAMES = [
  'completeness',
  'followup_timeliness',
  'new_customers',
  'funnel',
  'win_rate',
  'forecast',
  'ranking',
  'contracts_payments',
  'pool',
] as const

export interface Filters {
  period: Period
  range: [string, string] | null
  department_id: number | null
  owner_id: number | null
}

/** The filters as report query parameters (empty values left out). */
export function filterParams(f: Filters): Params {
  const p: Params = { period: f.period }
  if (f.period === 'custom' && f.range) {
    p.from = f.range[0]
    p.to = f.range[1]
  }
  if (f.department_id != null) p.department_id = String(f.department_id)
  if (f.owner_id != null) p.owner_id = String(f.owner_id)
  return p
}

/** Two parameter sets are the same pin when their non-empty values match. */
export function sameParams(a: Params, b: Params): boolean {
  const clean = (p: Params) =>
    Object.entries(p)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join('&')
  return clean(a) === clean(b)
}

export function findPin(pins: Pin[], report: string, params: Params): Pin | undefined {
  return pins.find((p) => p.report === report && sameParams(p.params, params))
}

// ---------------------------------------------------------------- API

export async function fetchReport(name: string, params: Params): Promise<ReportPayload> {
  const query = params as Record<string, string>
  return (await ok(api.GET('/api/v1/reports/{name}', { params: { path: { name }, query } }))) as unknown as ReportPayload
}

export async function fetchRecords(name: string, params: Params, bucket: string, offset = 0, limit = 20): Promise<RecordsPage> {
  const query = { ...params, bucket, offset, limit } as Record<string, string | number>
  return (await ok(api.GET('/api/v1/reports/{name}/records', { params: { path: { name }, query } }))) as unknown as RecordsPage
}

export async function fetchDashboard(): Promise<MyDashboard> {
  return (await ok(api.GET('/api/v1/dashboards/me'))) as unknown as MyDashboard
}

export async function addPin(report: string, params: Params): Promise<Pin> {
  return (await ok(api.POST('/api/v1/dashboards/pins', { body: { report, params } }))) as unknown as Pin
}

export async function removePin(id: number): Promise<void> {
  await ok(api.DELETE('/api/v1/dashboards/pins/{pin_id}', { params: { path: { pin_id: id } } }))
}

/** Download the report as .xlsx (through the authenticated fetch wrapper). */
export async function exportXlsx(name: string, params: Params): Promise<void> {
  const qs = new URLSearchParams({ ...params, format: 'xlsx' }).toString()
  const res = await kithFetch(new Request(`${window.location.origin}/api/v1/reports/${encodeURIComponent(name)}?${qs}`))
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = `report-${name}.xlsx`
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

// ---------------------------------------------------------------- formatting

const num = (v: unknown): number => {
  const n = typeof v === 'number' ? v : Number(v ?? 0)
  return Number.isFinite(n) ? n : 0
}
export const has = (o: unknown, k: string): boolean => !!o && typeof o === 'object' && k in (o as object)
export const pct = (v: unknown): string => (v === null || v === undefined ? '—' : `${Math.round(num(v) * 1000) / 10}%`)
export const money = (v: unknown, locale: string): string => formatMoney(v as string, 'CNY', locale)
const days = (v: unknown, t: T): string => (v === null || v === undefined ? '—' : t('reports.daysN', { n: Math.round(num(v) * 10) / 10 }))
const count = (v: unknown): string => String(num(v))

export function delta(cur: unknown, prev: unknown): number | null {
  if (cur === null || cur === undefined || prev === null || prev === undefined) return null
  const p = num(prev)
  if (!p) return null
  return (num(cur) - p) / Math.abs(p)
}

export function fmtDelta(d: number | null | undefined): string {
  if (d === null || d === undefined) return ''
  const v = Math.round(d * 1000) / 10
  return `${v > 0 ? '+' : ''}${v}%`
}

const PALETTE = ['#2f6fed', '#19a974', '#f2a33a', '#e5534b', '#8e6cdf', '#22a6b3', '#7f8c8d']
const PREV = '#b8c4d6'

function stageName(s: Row, locale: string): string {
  return (locale === 'en' && s.name_en ? s.name_en : s.name) as string
}

function ownerLabel(r: Row, t: T): string {
  return (r.owner as string) || t('reports.unassigned')
}

function bar(categories: string[], series: Record<string, unknown>[], opts: { horizontal?: boolean; percent?: boolean } = {}) {
  const cat = { type: 'category', data: categories, axisLabel: { interval: 0, hideOverlap: true, width: 90, overflow: 'truncate' } }
  const val = { type: 'value', minInterval: opts.percent ? undefined : 1, axisLabel: opts.percent ? { formatter: '{value}%' } : {} }
  return {
    color: PALETTE,
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true },
    legend: series.length > 1 ? { top: 0, type: 'scroll' } : undefined,
    grid: { left: 8, right: 16, top: series.length > 1 ? 32 : 16, bottom: 8, containLabel: true },
    xAxis: opts.horizontal ? val : { ...cat, axisLabel: { ...cat.axisLabel, rotate: categories.length > 4 ? 30 : 0 } },
    yAxis: opts.horizontal ? { ...cat, inverse: true } : val,
    series: series.map((s) => ({ type: 'bar', barMaxWidth: 36, ...s })),
  }
}

function pie(items: { name: string; value: number }[], colors = PALETTE) {
  return {
    color: colors,
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)', confine: true },
    legend: { bottom: 0, type: 'scroll' },
    series: [
      {
        type: 'pie',
        radius: ['40%', '68%'],
        center: ['50%', '45%'],
        avoidLabelOverlap: true,
        label: { formatter: '{b}\n{c}' },
        data: items,
      },
    ],
  }
}

/** The previous period as a custom range (drill-down of a "previous" bar). */
function prevParams(p: ReportPayload): Params {
  return { period: 'custom', from: p.period.previous_from, to: p.period.previous_to }
}

function monthRange(bucket: string): Params | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(bucket)
  if (!m) return undefined
  const y = Number(m[1])
  const mo = Number(m[2])
  const last = new Date(Date.UTC(y, mo, 0)).getUTCDate()
  return { period: 'custom', from: `${bucket}-01`, to: `${bucket}-${String(last).padStart(2, '0')}` }
}

// ---------------------------------------------------------------- KPIs

export function kpis(p: ReportPayload, t: T, locale: string): Kpi[] {
  const d = p.data as Row
  const prev = (d.previous ?? {}) as Row
  const out: Kpi[] = []
  const add = (key: string, label: string, fmt: (v: unknown) => string, drill?: Drill, withPrev = true) => {
    if (!has(d, key)) return
    const k: Kpi = { key, label, value: fmt(d[key]), drill }
    if (withPrev && has(prev, key)) {
      k.previous = fmt(prev[key])
      k.delta = delta(d[key], prev[key])
    }
    out.push(k)
  }
  const m = (v: unknown) => money(v, locale)
  switch (p.report) {
    case 'completeness':
      add('average', t('reports.k.averageCompleteness'), (v) => (v === null ? '—' : `${num(v)}%`))
      add('customers', t('reports.k.customers'), count)
      break
    case 'followup_timeliness':
      add('share', t('reports.k.timelyShare'), pct)
      add('overdue', t('reports.k.overdue', { n: num(d.days) }), count, { bucket: 'overdue', label: t('reports.k.overdue', { n: num(d.days) }) })
      add('followups', t('reports.k.followups'), count)
      break
    case 'new_customers':
      add('total', t('reports.k.newCustomers'), count, { bucket: '', label: t('reports.k.newCustomers') })
      break
    case 'funnel':
      add('cohort', t('reports.k.cohort'), count)
      break
    case 'win_rate':
      add('win_rate', t('reports.k.winRate'), pct)
      add('avg_cycle_days', t('reports.k.cycle'), (v) => days(v, t))
      add('won', t('reports.k.won'), count, { bucket: 'won', label: t('reports.k.won') })
      add('won_amount', t('reports.k.wonAmount'), m)
      break
    case 'forecast':
      add('count', t('reports.k.openDeals'), count, { bucket: '', label: t('reports.k.openDeals') })
      add('amount', t('reports.k.pipelineAmount'), m)
      add('weighted_amount', t('reports.k.weightedAmount'), m)
      break
    case 'ranking': {
      const tot = (d.totals ?? {}) as Row
      if (has(tot, 'won_amount')) out.push({ key: 'won_amount', label: t('reports.k.wonAmount'), value: m(tot.won_amount) })
      if (has(tot, 'won')) out.push({ key: 'won', label: t('reports.k.won'), value: count(tot.won) })
      if (has(tot, 'new_customers')) out.push({ key: 'new_customers', label: t('reports.k.newCustomers'), value: count(tot.new_customers) })
      if (has(tot, 'followups')) out.push({ key: 'followups', label: t('reports.k.followups'), value: count(tot.followups) })
      break
    }
    case 'contracts_payments':
      add('contracts', t('reports.k.contracts'), count, { bucket: 'contracts', label: t('reports.k.contracts') })
      add('contract_amount', t('reports.k.contractAmount'), m)
      add('received_amount', t('reports.k.receivedAmount'), m)
      add('collection_rate', t('reports.k.collectionRate'), pct)
      break
    case 'pool':
      add('inflow', t('reports.k.poolInflow'), count, { bucket: 'inflow', label: t('reports.k.poolInflow') })
      add('claims', t('reports.k.poolClaims'), count, { bucket: 'claims', label: t('reports.k.poolClaims') })
      break
  }
  return out
}

// ---------------------------------------------------------------- chart views

export function chartViews(p: ReportPayload, t: T, locale: string): ChartView[] {
  const d = p.data as Row
  const prev = (d.previous ?? {}) as Row
  const cur = t('reports.current')
  const before = t('reports.previous')
  switch (p.report) {
    case 'completeness': {
      const dist = (d.distribution ?? []) as Row[]
      const owners = (d.by_owner ?? []) as Row[]
      return [
        {
          key: 'distribution',
          label: t('reports.v.distribution'),
          option: bar(
            dist.map((r) => `${r.bucket}%`),
            [{ name: t('reports.k.customers'), data: dist.map((r) => num(r.customers)) }],
          ),
          drills: [dist.map((r) => ({ bucket: String(r.bucket), label: `${t('reports.v.distribution')} ${r.bucket}%` }))],
        },
        {
          key: 'owners',
          label: t('reports.v.byOwner'),
          option: bar(
            owners.map((r) => ownerLabel(r, t)),
            [{ name: t('reports.k.averageCompleteness'), data: owners.map((r) => num(r.average)) }],
            { horizontal: true, percent: true },
          ),
          drills: [owners.map((r) => ({ bucket: '', label: ownerLabel(r, t), params: { owner_id: String(r.owner_id) } }))],
          height: Math.max(260, owners.length * 28 + 40),
        },
      ]
    }
    case 'followup_timeliness': {
      const reps = (d.by_owner ?? []) as Row[]
      const views: ChartView[] = [
        {
          key: 'share',
          label: t('reports.v.timeliness'),
          option: pie(
            [
              { name: t('reports.timely'), value: num(d.timely) },
              { name: t('reports.overdue'), value: num(d.overdue) },
            ],
            ['#19a974', '#e5534b'],
          ),
          drills: [[{ bucket: 'timely', label: t('reports.timely') }, { bucket: 'overdue', label: t('reports.overdue') }]],
        },
      ]
      const withFollowups = reps.some((r) => has(r, 'followups'))
      const series: Record<string, unknown>[] = []
      const drills: (Drill | null)[][] = []
      if (withFollowups) {
        series.push({ name: t('reports.k.followups'), data: reps.map((r) => num(r.followups)) })
        drills.push(reps.map((r) => ({ bucket: `followups:${r.owner_id}`, label: `${ownerLabel(r, t)} · ${t('reports.k.followups')}` })))
      }
      series.push({ name: t('reports.k.customers'), data: reps.map((r) => num(r.customers)) })
      drills.push(reps.map((r) => ({ bucket: `owner:${r.owner_id}`, label: `${ownerLabel(r, t)} · ${t('reports.k.customers')}` })))
      views.push({
        key: 'reps',
        label: t('reports.v.perRep'),
        option: bar(reps.map((r) => ownerLabel(r, t)), series, { horizontal: true }),
        drills,
        height: Math.max(260, reps.length * 34 + 50),
      })
      return views
    }
    case 'new_customers': {
      const dims: [string, string, string][] = [
        ['by_source', 'source', t('reports.v.bySource')],
        ['by_industry', 'industry', t('reports.v.byIndustry')],
        ['by_region', 'region', t('reports.v.byRegion')],
      ]
      // a breakdown by a field hidden from the viewer is absent from the payload: no tab for it
      return dims.filter(([key]) => key in d).map(([key, kind, label]) => {
        const rows = ((d[key] ?? []) as Row[]).slice(0, 15)
        const names = rows.map((r) => (r.bucket as string) || t('reports.blank'))
        return {
          key,
          label,
          option: bar(names, [{ name: t('reports.k.newCustomers'), data: rows.map((r) => num(r.customers)) }], { horizontal: true }),
          drills: [rows.map((r, i) => ({ bucket: `${kind}:${r.bucket ?? ''}`, label: `${label} · ${names[i]}` }))],
          height: Math.max(240, rows.length * 28 + 40),
        }
      })
    }
    case 'funnel': {
      const stages = ((d.stages ?? []) as Row[]).filter((s) => s.kind !== 'lost')
      const all = (d.stages ?? []) as Row[]
      const data = stages.map((s) => ({ name: stageName(s, locale), value: num(s.count) }))
      const withAmount = all.some((s) => has(s, 'amount'))
      const views: ChartView[] = [
        {
          key: 'funnel',
          label: t('reports.v.funnel'),
          option: {
            color: PALETTE,
            tooltip: { trigger: 'item', formatter: '{b}: {c}', confine: true },
            series: [
              {
                type: 'funnel',
                sort: 'none',
                left: '10%',
                width: '80%',
                top: 8,
                bottom: 8,
                minSize: '12%',
                gap: 2,
                label: { position: 'inside', formatter: '{b} {c}', color: '#fff', fontSize: 12 },
                data,
              },
            ],
          },
          drills: [stages.map((s) => ({ bucket: String(s.stage_id), label: stageName(s, locale) }))],
        },
        {
          key: 'days',
          label: t('reports.v.daysInStage'),
          option: bar(
            stages.filter((s) => s.kind === 'open').map((s) => stageName(s, locale)),
            [{ name: t('reports.avgDays'), data: stages.filter((s) => s.kind === 'open').map((s) => num(s.avg_days_in_stage)) }],
          ),
          drills: [stages.filter((s) => s.kind === 'open').map((s) => ({ bucket: String(s.stage_id), label: stageName(s, locale) }))],
        },
      ]
      if (withAmount) {
        views.push({
          key: 'amount',
          label: t('reports.v.amountByStage'),
          option: bar(
            all.map((s) => stageName(s, locale)),
            [{ name: t('reports.amount'), data: all.map((s) => num(s.amount)) }],
          ),
          drills: [all.map((s) => ({ bucket: String(s.stage_id), label: stageName(s, locale) }))],
        })
      }
      return views
    }
    case 'win_rate': {
      const cats = [t('reports.k.won'), t('reports.k.lost')]
      return [
        {
          key: 'outcome',
          label: t('reports.v.outcome'),
          option: bar(cats, [
            { name: cur, data: [num(d.won), num(d.lost)] },
            { name: before, data: [num(prev.won), num(prev.lost)], itemStyle: { color: PREV } },
          ]),
          drills: [
            [{ bucket: 'won', label: cats[0]! }, { bucket: 'lost', label: cats[1]! }],
            [
              { bucket: 'won', label: `${before} · ${cats[0]}`, params: prevParams(p) },
              { bucket: 'lost', label: `${before} · ${cats[1]}`, params: prevParams(p) },
            ],
          ],
        },
      ]
    }
    case 'forecast': {
      const months = (d.months ?? []) as Row[]
      const withAmount = months.some((r) => has(r, 'amount')) || has(d, 'amount')
      const series = withAmount
        ? [
            { name: t('reports.amount'), data: months.map((r) => num(r.amount)) },
            { name: t('reports.weighted'), data: months.map((r) => num(r.weighted_amount)) },
          ]
        : [{ name: t('reports.k.openDeals'), data: months.map((r) => num(r.count)) }]
      const drill = months.map((r) => ({ bucket: String(r.bucket), label: String(r.bucket) }))
      return [{ key: 'months', label: t('reports.v.byMonth'), option: bar(months.map((r) => String(r.bucket)), series), drills: series.map(() => drill) }]
    }
    case 'ranking': {
      const rows = ((d.rows ?? []) as Row[]).slice(0, 12)
      const names = rows.map((r) => ownerLabel(r, t))
      const views: ChartView[] = []
      const h = Math.max(260, rows.length * 34 + 50)
      if (rows.some((r) => has(r, 'won_amount'))) {
        views.push({
          key: 'amount',
          label: t('reports.v.wonAmount'),
          option: bar(names, [{ name: t('reports.k.wonAmount'), data: rows.map((r) => num(r.won_amount)) }], { horizontal: true }),
          drills: [rows.map((r, i) => ({ bucket: `won:${r.owner_id}`, label: `${names[i]} · ${t('reports.k.won')}` }))],
          height: h,
        })
      }
      views.push({
        key: 'activity',
        label: t('reports.v.activity'),
        option: bar(
          names,
          [
            { name: t('reports.k.won'), data: rows.map((r) => num(r.won)) },
            { name: t('reports.k.newCustomers'), data: rows.map((r) => num(r.new_customers)) },
            { name: t('reports.k.followups'), data: rows.map((r) => num(r.followups)) },
          ],
          { horizontal: true },
        ),
        drills: [
          rows.map((r, i) => ({ bucket: `won:${r.owner_id}`, label: `${names[i]} · ${t('reports.k.won')}` })),
          rows.map((r, i) => ({ bucket: `new:${r.owner_id}`, label: `${names[i]} · ${t('reports.k.newCustomers')}` })),
          rows.map((r, i) => ({ bucket: `followups:${r.owner_id}`, label: `${names[i]} · ${t('reports.k.followups')}` })),
        ],
        height: h,
      })
      return views
    }
    case 'contracts_payments': {
      const withAmount = has(d, 'contract_amount') || has(d, 'planned_amount')
      const withPayments = has(d, 'payments')
      const keys: [string, string, string][] = withAmount
        ? [
            ['contract_amount', t('reports.k.contractAmount'), 'contracts'],
            ...(has(d, 'planned_amount')
              ? ([
                  ['planned_amount', t('reports.k.plannedAmount'), 'plans'],
                  ['received_amount', t('reports.k.receivedAmount'), 'payments'],
                ] as [string, string, string][])
              : []),
          ]
        : [
            ['contracts', t('reports.k.contracts'), 'contracts'],
            ...(withPayments
              ? ([
                  ['planned', t('reports.k.planned'), 'plans'],
                  ['payments', t('reports.k.payments'), 'payments'],
                ] as [string, string, string][])
              : []),
          ]
      const byMonth = (d.by_month ?? []) as Row[]
      const monthAmount = byMonth.some((r) => has(r, 'contract_amount'))
      return [
        {
          key: 'plan',
          label: withAmount ? t('reports.v.vsPlan') : t('reports.v.counts'),
          option: bar(
            keys.map((k) => k[1]),
            [
              { name: cur, data: keys.map((k) => num(d[k[0]])) },
              { name: before, data: keys.map((k) => num(prev[k[0]])), itemStyle: { color: PREV } },
            ],
          ),
          drills: [
            keys.map((k) => ({ bucket: k[2], label: k[1] })),
            keys.map((k) => ({ bucket: k[2], label: `${before} · ${k[1]}`, params: prevParams(p) })),
          ],
        },
        {
          key: 'months',
          label: t('reports.v.byMonth'),
          option: bar(
            byMonth.map((r) => String(r.bucket)),
            [
              monthAmount
                ? { name: t('reports.k.contractAmount'), data: byMonth.map((r) => num(r.contract_amount)) }
                : { name: t('reports.k.contracts'), data: byMonth.map((r) => num(r.contracts)) },
            ],
          ),
          drills: [byMonth.map((r) => ({ bucket: 'contracts', label: String(r.bucket), params: monthRange(String(r.bucket)) }))],
        },
      ]
    }
    case 'pool': {
      const cats = [t('reports.k.poolInflow'), t('reports.k.poolClaims')]
      return [
        {
          key: 'pool',
          label: t('reports.v.poolFlow'),
          option: bar(cats, [
            { name: cur, data: [num(d.inflow), num(d.claims)] },
            { name: before, data: [num(prev.inflow), num(prev.claims)], itemStyle: { color: PREV } },
          ]),
          drills: [
            [{ bucket: 'inflow', label: cats[0]! }, { bucket: 'claims', label: cats[1]! }],
            [
              { bucket: 'inflow', label: `${before} · ${cats[0]}`, params: prevParams(p) },
              { bucket: 'claims', label: `${before} · ${cats[1]}`, params: prevParams(p) },
            ],
          ],
        },
      ]
    }
  }
  return []
}

/** The drill-down of one clicked chart element (ECharts click params: seriesIndex + dataIndex). */
export function drillAt(view: ChartView, seriesIndex: number | undefined, dataIndex: number | undefined): Drill | null {
  if (seriesIndex === undefined || dataIndex === undefined) return null
  return view.drills[seriesIndex]?.[dataIndex] ?? view.drills[0]?.[dataIndex] ?? null
}

/** Funnel / ranking detail table rows (amount columns only when the payload has them). */
export interface TableSpec {
  columns: { key: string; label: string }[]
  rows: Record<string, string>[]
}

export function detailTable(p: ReportPayload, t: T, locale: string): TableSpec | null {
  const d = p.data as Row
  if (p.report === 'funnel') {
    const stages = (d.stages ?? []) as Row[]
    const withAmount = stages.some((s) => has(s, 'amount'))
    const columns = [
      { key: 'stage', label: t('reports.stage') },
      { key: 'count', label: t('reports.count') },
      ...(withAmount ? [{ key: 'amount', label: t('reports.amount') }] : []),
      { key: 'conversion', label: t('reports.conversion') },
      { key: 'days', label: t('reports.avgDays') },
    ]
    const rows = stages.map((s) => ({
      stage: stageName(s, locale),
      count: count(s.count),
      ...(withAmount ? { amount: money(s.amount, locale) } : {}),
      conversion: has(s, 'conversion_to_next') ? pct(s.conversion_to_next) : '—',
      days: s.avg_days_in_stage === null || s.avg_days_in_stage === undefined ? '—' : String(s.avg_days_in_stage),
    }))
    return { columns, rows }
  }
  if (p.report === 'ranking') {
    const rows = (d.rows ?? []) as Row[]
    const withAmount = rows.some((r) => has(r, 'won_amount'))
    return {
      columns: [
        { key: 'rank', label: '#' },
        { key: 'owner', label: t('reports.owner') },
        { key: 'won', label: t('reports.k.won') },
        ...(withAmount ? [{ key: 'won_amount', label: t('reports.k.wonAmount') }] : []),
        { key: 'new_customers', label: t('reports.k.newCustomers') },
        { key: 'followups', label: t('reports.k.followups') },
      ],
      rows: rows.map((r, i) => ({
        rank: String(i + 1),
        owner: ownerLabel(r, t),
        won: count(r.won),
        ...(withAmount ? { won_amount: money(r.won_amount, locale) } : {}),
        new_customers: count(r.new_customers),
        followups: count(r.followups),
      })),
    }
  }
  return null
}

/** Where a drill-down record opens. */
export function recordLink(entity: string, r: Row): { name: string; params: { id: string } } | null {
  const id = r.id as number
  switch (entity) {
    case 'customer':
      return { name: 'customer', params: { id: String(id) } }
    case 'opportunity':
      return { name: 'opportunity', params: { id: String(id) } }
    case 'contract':
      return { name: 'contract', params: { id: String(id) } }
    case 'followup':
      return r.customer_id ? { name: 'customer', params: { id: String(r.customer_id) } } : null
    case 'payment':
    case 'payment_plan':
      return r.contract_id ? { name: 'contract', params: { id: String(r.contract_id) } } : null
  }
  return null
}
