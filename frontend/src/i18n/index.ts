import { createI18n } from 'vue-i18n'
import zhCN from './locales/zh-CN.json'
import en from './locales/en.json'
import { setApiLanguage } from '@/api/http'

export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const
export type AppLocale = (typeof SUPPORTED_LOCALES)[number]
export type MessageSchema = typeof zhCN

const STORAGE_KEY = 'kith.locale'

function isLocale(v: unknown): v is AppLocale {
  return typeof v === 'string' && (SUPPORTED_LOCALES as readonly string[]).includes(v)
}

export { isLocale }

export function storedLocale(): AppLocale {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    if (isLocale(v)) return v
  } catch {
    /* storage unavailable */
  }
  return 'zh-CN'
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function currentLocale(): AppLocale {
  return i18n.global.locale.value
}

export function hasStoredLocale(): boolean {
  try {
    return isLocale(localStorage.getItem(STORAGE_KEY))
  } catch {
    return false
  }
}

/** Switch the UI language; `remember` keeps the choice in localStorage (the user menu does). */
export function setLocale(locale: AppLocale, remember = true): void {
  i18n.global.locale.value = locale
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, locale)
    } catch {
      /* ignore */
    }
  }
  setApiLanguage(locale)
  if (typeof document !== 'undefined') document.documentElement.lang = locale
}

setApiLanguage(storedLocale())
