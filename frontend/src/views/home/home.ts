export interface PipelineOpp {
  stage?: { id?: number; name?: string } | null
  stage_id?: number | null
  amount?: string | number | null
  currency?: string | null
}

export interface StageGroup {
  key: string
  name: string
  count: number
  /** Sum of amounts, present only when at least one record carried an amount. */
  amount?: number
  currency?: string
}

/** Open opportunities grouped by stage name, counts always, amounts only when the payload has them. */
export function groupByStage(items: PipelineOpp[], unknownLabel = '—'): StageGroup[] {
  const groups = new Map<string, StageGroup>()
  for (const o of items) {
    const name = o.stage?.name || unknownLabel
    let g = groups.get(name)
    if (!g) {
      g = { key: name, name, count: 0 }
      groups.set(name, g)
    }
    g.count += 1
    if ('amount' in o && o.amount !== undefined && o.amount !== null && o.amount !== '') {
      const n = Number(o.amount)
      if (!Number.isNaN(n)) {
        g.amount = (g.amount ?? 0) + n
        if (!g.currency && o.currency) g.currency = o.currency
      }
    }
  }
  return [...groups.values()]
}
