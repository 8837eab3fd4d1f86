import { mount, flushPromises, type ComponentMountingOptions } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { createMemoryHistory, createRouter } from 'vue-router'
import { vi } from 'vitest'
import { defineComponent, type Component } from 'vue'
import { i18n, setLocale } from '@/i18n'
import { useAuthStore } from '@/stores/auth'
import type { Me } from '@/api/types'

export const baseMe: Me = {
  id: 1,
  username: 'rep_north',
  display_name: '张伟',
  timezone: 'Asia/Shanghai',
  language: 'zh-CN',
  email: null,
  department_id: null,
  data_scopes: {},
  roles: [{ code: 'sales_rep', name: '销售' }] as unknown as Me['roles'],
  permissions: {
    customer: ['read', 'create', 'update'],
    followup: ['read', 'create'],
    contract: ['read'],
    opportunity: ['read', 'update'],
  } as unknown as Me['permissions'],
  field_rights: {},
}

export interface Call {
  method: string
  url: URL
  headers: Headers
  body: unknown
}

/** Replace global fetch; the handler answers [status, body] (or a Response) per request. */
export function mockFetch(handler: (call: Call) => [number, unknown?, Record<string, string>?] | Response) {
  const calls: Call[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(String(input), init)
    const text = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text()
    const call: Call = { method: req.method, url: new URL(req.url), headers: req.headers, body: text ? JSON.parse(text) : undefined }
    calls.push(call)
    const r = handler(call)
    if (r instanceof Response) return r
    const [status, body, headers] = r
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...(headers ?? {}) },
    })
  })
  vi.stubGlobal('fetch', fn)
  return { fn, calls }
}

const Blank = defineComponent({ template: '<div />' })

export function makeRouter() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: Blank },
      { path: '/login', name: 'login', component: Blank },
      { path: '/customers', name: 'customers', component: Blank },
      { path: '/customers/:id', name: 'customer', component: Blank },
      { path: '/board', name: 'board', component: Blank },
    ],
  })
}

export async function mountWith<C extends Component>(
  component: C,
  opts: { props?: Record<string, unknown>; me?: Partial<Me> | null; width?: number; attachTo?: HTMLElement; path?: string } = {},
) {
  setLocale('zh-CN')
  window.innerWidth = opts.width ?? 1280
  const pinia = createPinia()
  setActivePinia(pinia)
  const auth = useAuthStore()
  auth.me = opts.me === null ? null : ({ ...baseMe, ...(opts.me ?? {}) } as Me)
  const router = makeRouter()
  await router.push(opts.path ?? '/')
  await router.isReady()
  const wrapper = mount(component, {
    props: opts.props,
    attachTo: opts.attachTo ?? document.body,
    global: { plugins: [pinia, i18n, router], stubs: { transition: false, 'transition-group': false } },
  } as ComponentMountingOptions<C>)
  await flushPromises()
  return { wrapper, router, auth }
}

export async function settle(ms = 0) {
  await flushPromises()
  if (ms) await new Promise((r) => setTimeout(r, ms))
  await flushPromises()
}

/** Poll until `check` holds (transitions and teleports settle at their own pace on a busy machine). */
export async function until(check: () => boolean, timeout = 5000) {
  const end = Date.now() + timeout
  while (!check()) {
    if (Date.now() > end) return
    await settle(20)
  }
}
