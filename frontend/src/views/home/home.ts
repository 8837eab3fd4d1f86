export interface PipelineOpp {
  stage?: { id?: number; name?: string; name_en?: string | null } | null
  stage_id?: number | null
  pipeline_id?: number | null
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

/** What the home card needs of `/api/v1/pipelines`: pipelines in their order, each with its stages. */
export interface PipelineOrder {
  id: number
  position?: number | null
  is_default?: boolean
  stages: { id: number; name: string; name_en?: string | null; position: number }[]
}

/**
 * Rank of every stage id: pipelines by position (the default one first on a tie), then the
 * stages of each pipeline by their own position — the order the board and the stage bar show.
 */
export function stageRanks(pipelines: readonly PipelineOrder[]): Map<number, number> {
  const ranks = new Map<number, number>()
  const ordered = [...pipelines].sort(
    (a, b) => (a.position ?? 0) - (b.position ?? 0) || Number(!!b.is_default) - Number(!!a.is_default) || a.id - b.id,
  )
  let n = 0
  for (const p of ordered) {
    for (const s of [...p.stages].sort((a, b) => a.position - b.position)) ranks.set(s.id, n++)
  }
  return ranks
}

/**
 * Open opportunities grouped by stage, counts always, amounts only when the payload has them.
 * With `pipelines` the groups follow the pipeline's stage order (unknown stages last);
 * `english` picks a stage's English name where it has one.
 */
export function groupByStage(
  items: PipelineOpp[],
  unknownLabel = '—',
  pipelines: readonly PipelineOrder[] = [],
  english = false,
): StageGroup[] {
  const groups = new Map<string, StageGroup & { rank: number }>()
  const ranks = stageRanks(pipelines)
  for (const o of items) {
    const id = o.stage?.id ?? o.stage_id ?? null
    const localName = (english && o.stage?.name_en) || o.stage?.name
    const name = localName || unknownLabel
    const key = id !== null ? String(id) : name
    let g = groups.get(key)
    if (!g) {
      g = { key, name, count: 0, rank: id !== null && ranks.has(id) ? ranks.get(id)! : Number.MAX_SAFE_INTEGER }
      groups.set(key, g)
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
  // Array.prototype.sort is stable: stages the pipelines do not know keep their arrival order.
  return [...groups.values()].sort((a, b) => a.rank - b.rank).map(({ rank: _rank, ...g }) => g)
}
