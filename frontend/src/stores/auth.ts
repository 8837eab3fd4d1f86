import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, ok } from '@/api/http'
import { tokens } from '@/api/tokens'
import type { FieldRight, Me } from '@/api/types'
import { hasStoredLocale, isLocale, setLocale } from '@/i18n'

export const DEFAULT_TIMEZONE = 'Asia/Shanghai'

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)

  const isLoggedIn = computed(() => me.value !== null)
  const timezone = computed(() => me.value?.timezone || DEFAULT_TIMEZONE)
  const displayName = computed(() => me.value?.display_name || me.value?.username || '')

  async function login(username: string, password: string): Promise<void> {
    const pair = await ok(api.POST('/api/v1/auth/login', { body: { username, password } }))
    tokens.set(pair)
    await loadMe()
  }

  async function loadMe(): Promise<Me> {
    const loaded = await ok(api.GET('/api/v1/me'))
    me.value = loaded
    // The user's profile language applies until they pick one in the user menu.
    const lang = (loaded as { language?: unknown }).language
    if (!hasStoredLocale() && isLocale(lang)) setLocale(lang, false)
    return loaded
  }

  async function logout(): Promise<void> {
    const rt = tokens.refresh
    if (rt) {
      try {
        await api.POST('/api/v1/auth/logout', { body: { refresh_token: rt } })
      } catch {
        /* the token is dropped locally either way */
      }
    }
    tokens.clear()
    me.value = null
  }

  /** The caller's right on one field of a module (`customer`, `contract` …); absent means write. */
  function fieldRight(module: string, field: string): FieldRight {
    const rights = me.value?.field_rights as Record<string, Record<string, string> | undefined> | undefined
    const r = rights?.[module]?.[field] ?? rights?.[`${module}s`]?.[field]
    return r === 'hidden' || r === 'read' ? r : 'write'
  }

  /** Whether the caller may do an action on a module (`customer.create`); permissive when /me has no map. */
  function can(module: string, action: string): boolean {
    const perms = me.value?.permissions as unknown
    if (perms && typeof perms === 'object' && !Array.isArray(perms)) {
      const acts = (perms as Record<string, unknown>)[module]
      return Array.isArray(acts) && acts.includes(action)
    }
    if (Array.isArray(perms)) return perms.includes(`${module}.${action}`) || perms.includes(`${module}:${action}`)
    return true
  }

  return { me, isLoggedIn, timezone, displayName, login, loadMe, logout, fieldRight, can }
})
