/**
 * The one fetch wrapper every API call goes through:
 *  - adds `Authorization: Bearer <access>` and `Accept-Language`,
 *  - on a 401 refreshes the token pair once (POST /api/v1/auth/refresh) and retries,
 *  - turns every non-2xx answer into a typed {@link ApiError} (thrown).
 */
import createClient from 'openapi-fetch'
import type { paths } from './schema'
import { ApiError, errorFromResponse } from './errors'
import { tokens, type TokenPairLike } from './tokens'

let acceptLanguage = 'zh-CN'
let authLost: () => void = () => {}

export function setApiLanguage(lang: string): void {
  acceptLanguage = lang
}

/** Called when the session cannot be recovered (refresh failed): the app sends the user to the login page. */
export function onAuthLost(handler: () => void): void {
  authLost = handler
}

function origin(): string {
  return typeof window !== 'undefined' && window.location ? window.location.origin : 'http://localhost'
}

const REFRESH_PATH = '/api/v1/auth/refresh'
const NO_REFRESH = ['/api/v1/auth/login', REFRESH_PATH, '/api/v1/auth/logout']

let refreshing: Promise<boolean> | null = null

/** Refresh the token pair; concurrent callers share one request (a refresh token works only once). */
export function refreshTokens(): Promise<boolean> {
  if (refreshing) return refreshing
  const rt = tokens.refresh
  if (!rt) return Promise.resolve(false)
  refreshing = (async () => {
    try {
      const res = await globalThis.fetch(
        new Request(origin() + REFRESH_PATH, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Accept-Language': acceptLanguage },
          body: JSON.stringify({ refresh_token: rt }),
        }),
      )
      if (!res.ok) {
        tokens.clear()
        return false
      }
      tokens.set((await res.json()) as TokenPairLike)
      return true
    } catch {
      return false
    } finally {
      refreshing = null
    }
  })()
  return refreshing
}

function send(req: Request): Promise<Response> {
  const headers = new Headers(req.headers)
  const access = tokens.access
  if (access && !headers.has('Authorization')) headers.set('Authorization', `Bearer ${access}`)
  headers.set('Accept-Language', acceptLanguage)
  return globalThis.fetch(new Request(req, { headers }))
}

export async function kithFetch(input: Request): Promise<Response> {
  const path = new URL(input.url).pathname
  const retry = input.clone()
  let res: Response
  try {
    res = await send(input)
  } catch (e) {
    throw new ApiError({ status: 0, code: 'network_error', message: e instanceof Error ? e.message : String(e) })
  }
  if (res.status === 401 && !NO_REFRESH.includes(path)) {
    if (tokens.refresh && (await refreshTokens())) {
      const again = await send(retry)
      if (again.ok) return again
      if (again.status === 401) authLost()
      throw await errorFromResponse(again)
    }
    tokens.clear()
    authLost()
  }
  if (!res.ok) throw await errorFromResponse(res)
  return res
}

export const api = createClient<paths>({
  baseUrl: origin(),
  fetch: (req: Request) => kithFetch(req),
})

/**
 * Await an openapi-fetch call and return its data. Errors were already thrown by
 * {@link kithFetch}; this only narrows the type.
 */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await call
  if (r.error !== undefined || !r.response.ok) throw await errorFromResponse(r.response)
  return r.data as T
}

/** Like {@link ok} but also returns the ETag (or W/ version) for a later If-Match. */
export async function okWithEtag<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<{ data: T; etag: string | null }> {
  const r = await call
  if (r.error !== undefined || !r.response.ok) throw await errorFromResponse(r.response)
  return { data: r.data as T, etag: r.response.headers.get('ETag') }
}
