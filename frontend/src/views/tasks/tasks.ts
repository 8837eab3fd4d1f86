export type TaskTab = 'open' | 'overdue' | 'done'

export interface Task {
  id: number
  title: string
  description?: string | null
  due_at?: string | null
  customer_id?: number | null
  customer_name?: string | null
  opportunity_id?: number | null
  done: boolean
  overdue?: boolean
  owner_id?: number | null
  version?: number
}

/** Query parameters for GET /api/v1/tasks per tab. */
export function tabQuery(tab: TaskTab): Record<string, string | number> {
  if (tab === 'overdue') return { overdue: 'true', sort: 'due_at', limit: 100 }
  if (tab === 'done') return { done: 'true', sort: 'due_at', limit: 100 }
  return { done: 'false', sort: 'due_at', limit: 100 }
}

/** An in-app path from a notification link, mapped to the app's routes; null when it is not one. */
export function appPath(link: string | null | undefined): string | null {
  if (!link || !link.startsWith('/') || link.startsWith('//')) return null
  const path = link.replace(/^\/api\/v1/, '')
  if (/^\/approvals\/\d+/.test(path)) return '/approvals'
  if (/^\/tasks\/\d+/.test(path)) return '/tasks'
  if (/^\/(customers|contacts|opportunities|contracts)(\/\d+)?\/?(\?.*)?$/.test(path)) return path
  if (/^\/(tasks|board|dashboard|approvals)\/?$/.test(path)) return path
  return null
}
