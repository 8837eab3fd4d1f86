import { afterEach, describe, expect, it } from 'vitest'
import { ApiError, toApiError } from '@/api/errors'
import { api, ok, setApiLanguage } from '@/api/http'
import { tokens } from '@/api/tokens'
import { mockFetch } from './helpers'

afterEach(() => {
  localStorage.clear()
  setApiLanguage('zh-CN')
})

describe('toApiError', () => {
  it('maps the Kith error shape to a typed error with field errors', () => {
    const e = toApiError(422, {
      error: {
        code: 'validation_error',
        message: '提交的数据有误',
        fields: [
          { field: 'mobile', code: 'invalid_mobile', message: '手机号码无效' },
          { field: 'body.email', code: 'invalid_email', message: '邮箱无效' },
        ],
      },
      request_id: 'req-1',
    })
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(422)
    expect(e.code).toBe('validation_error')
    expect(e.message).toBe('提交的数据有误')
    expect(e.requestId).toBe('req-1')
    expect(e.fields).toHaveLength(2)
    expect(e.fieldMap).toEqual({ mobile: '手机号码无效', email: '邮箱无效' })
  })

  it('keeps details (409 duplicate) and the message naming the owner', () => {
    const e = toApiError(409, {
      error: { code: 'duplicate_customer', message: '客户已存在，负责人：王芳。', fields: [], details: { owner: '王芳' } },
      request_id: 'r',
    })
    expect(e.message).toContain('王芳')
    expect(e.details).toEqual({ owner: '王芳' })
  })

  it('falls back for bodies that are not the error shape', () => {
    expect(toApiError(500, 'oops').message).toBe('HTTP 500')
    expect(toApiError(404, { detail: 'Not Found' }).message).toBe('Not Found')
    expect(toApiError(412, null).isConflict).toBe(true)
  })
})

describe('fetch wrapper', () => {
  it('sends the bearer token and Accept-Language, and throws ApiError on failure', async () => {
    tokens.set({ access_token: 'A1', refresh_token: 'R1' })
    setApiLanguage('en')
    const { calls } = mockFetch(() => [
      422,
      { error: { code: 'validation_error', message: 'Bad', fields: [{ field: 'name', code: 'required', message: 'Required' }] }, request_id: 'x' },
    ])
    const err = await ok(api.POST('/api/v1/customers', { body: { name: '', status: 'potential' } })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).fieldMap).toEqual({ name: 'Required' })
    expect(calls[0]?.headers.get('Authorization')).toBe('Bearer A1')
    expect(calls[0]?.headers.get('Accept-Language')).toBe('en')
  })

  it('refreshes once on 401 and retries with the new token', async () => {
    tokens.set({ access_token: 'old', refresh_token: 'R1' })
    const { calls } = mockFetch((c) => {
      if (c.url.pathname === '/api/v1/auth/refresh') {
        expect(c.body).toEqual({ refresh_token: 'R1' })
        return [200, { access_token: 'new', refresh_token: 'R2', token_type: 'bearer', expires_in: 900 }]
      }
      if (c.headers.get('Authorization') === 'Bearer old') return [401, { error: { code: 'invalid_token', message: 'expired', fields: [] } }]
      return [200, { items: [], next_cursor: null, total: 0 }]
    })
    const page = await ok(api.GET('/api/v1/customers', { params: { query: { limit: 5 } } }))
    expect(page.total).toBe(0)
    expect(calls.map((c) => c.url.pathname)).toEqual(['/api/v1/customers', '/api/v1/auth/refresh', '/api/v1/customers'])
    expect(calls[2]?.headers.get('Authorization')).toBe('Bearer new')
    expect(calls[2]?.url.searchParams.get('limit')).toBe('5')
    expect(tokens.refresh).toBe('R2')
  })

  it('gives up after one failed refresh and clears the tokens', async () => {
    tokens.set({ access_token: 'old', refresh_token: 'R1' })
    const { calls } = mockFetch((c) =>
      c.url.pathname === '/api/v1/auth/refresh'
        ? [401, { error: { code: 'refresh_reused', message: 'reused', fields: [] } }]
        : [401, { error: { code: 'invalid_token', message: 'expired', fields: [] } }],
    )
    const err = await ok(api.GET('/api/v1/me')).catch((e: unknown) => e)
    expect((err as ApiError).status).toBe(401)
    expect(calls).toHaveLength(2)
    expect(tokens.access).toBeNull()
  })

  it('does not try to refresh when the login itself answers 401', async () => {
    const { calls } = mockFetch(() => [401, { error: { code: 'invalid_credentials', message: '用户名或密码错误。', fields: [] } }])
    const err = await ok(api.POST('/api/v1/auth/login', { body: { username: 'a', password: 'b' } })).catch((e: unknown) => e)
    expect((err as ApiError).message).toBe('用户名或密码错误。')
    expect(calls).toHaveLength(1)
  })
})
