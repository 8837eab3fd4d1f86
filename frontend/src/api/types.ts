/** Types derived from the generated OpenAPI schema by path, so schema renames do not matter. */
import type { paths } from './schema'

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never

export type Resp<P extends keyof paths, M extends keyof paths[P], S extends number = 200> = paths[P][M] extends {
  responses: infer R
}
  ? S extends keyof R
    ? Json<R[S]>
    : never
  : never

export type Body<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: infer B
}
  ? Json<NonNullable<B>>
  : never

export type TokenPair = Resp<'/api/v1/auth/login', 'post'>
export type Me = Resp<'/api/v1/me', 'get'>
export type Customer = Resp<'/api/v1/customers/{record_id}', 'get'>
export type CustomerPage = Resp<'/api/v1/customers', 'get'>
export type CustomerCreate = Body<'/api/v1/customers', 'post'>
export type CustomerUpdate = Body<'/api/v1/customers/{record_id}', 'patch'>
export type Contact = Resp<'/api/v1/contacts', 'get'>['items'][number]
export type Opportunity = Resp<'/api/v1/opportunities', 'get'>['items'][number]
export type Contract = Resp<'/api/v1/contracts', 'get'>['items'][number]
export type Pipeline = Resp<'/api/v1/pipelines', 'get'>['items'][number]
export type Stage = Pipeline['stages'][number]
/** The timeline endpoint has no response model in the schema; this is its documented shape. */
export interface TimelineEvent {
  id: number
  type: string
  entity_type?: string
  entity_id?: number
  occurred_at: string
  actor: { id: number; display_name?: string | null } | null
  summary: string
  data?: Record<string, unknown>
}
export interface TimelinePage {
  items: TimelineEvent[]
  next_cursor: string | null
}
export type FollowupCreate = Body<'/api/v1/followups', 'post'>
export type FollowupType = FollowupCreate['type']
export type StageMove = Body<'/api/v1/opportunities/{record_id}/stage', 'post'>
export type SearchHit = Resp<'/api/v1/search', 'get'>['items'][number]

export type FieldRight = 'hidden' | 'read' | 'write'
export type Id = Customer['id']
