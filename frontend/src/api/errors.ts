/**
 * The one error shape of the Kith API, turned into a typed exception.
 *
 *   {"error": {"code", "message", "fields": [{"field", "code", "message"}], "details"?}, "request_id"}
 */

export interface ApiFieldError {
  field: string
  code: string
  message: string
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: ApiFieldError[]
  readonly details: Record<string, unknown> | null
  readonly requestId: string | null

  constructor(init: {
    status: number
    code: string
    message: string
    fields?: ApiFieldError[]
    details?: Record<string, unknown> | null
    requestId?: string | null
  }) {
    super(init.message)
    this.name = 'ApiError'
    this.status = init.status
    this.code = init.code
    this.fields = init.fields ?? []
    this.details = init.details ?? null
    this.requestId = init.requestId ?? null
  }

  /** Field errors keyed by field name (the last segment of a dotted path such as `body.name`). */
  get fieldMap(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const f of this.fields) {
      const key = f.field.split('.').pop() ?? f.field
      if (!(key in out)) out[key] = f.message
    }
    return out
  }

  get isConflict(): boolean {
    return this.status === 412
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback
}

/** Build an ApiError from an HTTP status and an already-parsed JSON body (or anything else). */
export function toApiError(status: number, body: unknown, fallbackMessage?: string): ApiError {
  const fallback = fallbackMessage ?? `HTTP ${status}`
  if (isRecord(body) && isRecord(body.error)) {
    const e = body.error
    const fields: ApiFieldError[] = Array.isArray(e.fields)
      ? e.fields.filter(isRecord).map((f) => ({
          field: str(f.field),
          code: str(f.code),
          message: str(f.message, str(f.code)),
        }))
      : []
    return new ApiError({
      status,
      code: str(e.code, 'error'),
      message: str(e.message, fallback),
      fields,
      details: isRecord(e.details) ? e.details : null,
      requestId: typeof body.request_id === 'string' ? body.request_id : null,
    })
  }
  // FastAPI's default shape, in case a route escapes the project's error handler.
  if (isRecord(body) && typeof body.detail === 'string') {
    return new ApiError({ status, code: 'error', message: body.detail })
  }
  return new ApiError({ status, code: status === 0 ? 'network_error' : 'http_error', message: fallback })
}

/** Read a failed Response into an ApiError (never throws). */
export async function errorFromResponse(res: Response, fallbackMessage?: string): Promise<ApiError> {
  let body: unknown = null
  try {
    const text = await res.text()
    body = text ? JSON.parse(text) : null
  } catch {
    body = null
  }
  return toApiError(res.status, body, fallbackMessage)
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}
