import type { Body, Resp } from '@/api/types'

export type User = Resp<'/api/v1/users/{record_id}', 'get'>
export type UserCreate = Body<'/api/v1/users', 'post'>
export type UserUpdate = Body<'/api/v1/users/{record_id}', 'patch'>
export type Department = Resp<'/api/v1/departments/{record_id}', 'get'>
export type Role = Resp<'/api/v1/roles/{record_id}', 'get'>
export type CustomField = Resp<'/api/v1/custom-fields/{record_id}', 'get'>
export type CustomFieldCreate = Body<'/api/v1/custom-fields', 'post'>
export type Tag = Resp<'/api/v1/tags/{record_id}', 'get'>
export type PipelineOut = Resp<'/api/v1/pipelines/{record_id}', 'get'>
export type StageIn = NonNullable<Body<'/api/v1/pipelines/{record_id}', 'patch'>['stages']>[number]
export type DepartmentCreate = Body<'/api/v1/departments', 'post'>
export type PipelineCreate = Body<'/api/v1/pipelines', 'post'>
