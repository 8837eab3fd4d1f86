/** Build a parent/child tree from flat rows with `parent_id` (orphans become roots). */
export type TreeNode<T> = T & { children?: TreeNode<T>[] }

export function buildTree<T extends { id: number; parent_id?: number | null }>(rows: T[]): TreeNode<T>[] {
  const byId = new Map<number, TreeNode<T>>()
  for (const r of rows) byId.set(r.id, { ...r })
  const roots: TreeNode<T>[] = []
  for (const node of byId.values()) {
    const parent = node.parent_id != null ? byId.get(node.parent_id) : undefined
    if (parent && parent !== node) (parent.children ??= []).push(node)
    else roots.push(node)
  }
  return roots
}

/** Ids of a node and all its descendants (a department cannot move under itself). */
export function descendantIds<T extends { id: number; parent_id?: number | null }>(rows: T[], id: number): Set<number> {
  const out = new Set<number>([id])
  let grew = true
  while (grew) {
    grew = false
    for (const r of rows) {
      if (r.parent_id != null && out.has(r.parent_id) && !out.has(r.id)) {
        out.add(r.id)
        grew = true
      }
    }
  }
  return out
}
