import { DEFAULT_TIMEZONE } from '@/stores/auth'

function safeTz(tz: string | null | undefined): string {
  const zone = tz || DEFAULT_TIMEZONE
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone })
    return zone
  } catch {
    return DEFAULT_TIMEZONE
  }
}

/** An ISO instant shown in the user's time zone, e.g. 2026-03-01 14:05. */
export function formatDateTime(iso: string | null | undefined, tz?: string | null, locale = 'zh-CN'): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(locale, {
    timeZone: safeTz(tz),
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d)
}

export function formatDate(iso: string | null | undefined, tz?: string | null, locale = 'zh-CN'): string {
  if (!iso) return ''
  // A plain date (YYYY-MM-DD) has no time zone: show it as is.
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return new Intl.DateTimeFormat(locale, { timeZone: safeTz(tz), year: 'numeric', month: '2-digit', day: '2-digit' }).format(d)
}

/** Money arrives as a decimal string plus a currency. */
export function formatMoney(amount: string | number | null | undefined, currency?: string | null, locale = 'zh-CN'): string {
  if (amount === null || amount === undefined || amount === '') return ''
  const n = typeof amount === 'number' ? amount : Number(amount)
  if (Number.isNaN(n)) return String(amount)
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency || 'CNY', maximumFractionDigits: 2 }).format(n)
  } catch {
    return `${n.toFixed(2)} ${currency ?? ''}`.trim()
  }
}

/**
 * A date picked in the user's time zone (YYYY-MM-DD, end of working day 18:00)
 * as an ISO instant with that zone's offset.
 */
export function zonedDateToIso(date: string, tz?: string | null, time = '18:00:00'): string {
  const zone = safeTz(tz)
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const [hh, mm, ss] = time.split(':').map(Number) as [number, number, number]
  // Find the zone's offset at that wall-clock time.
  const guess = Date.UTC(y, m - 1, d, hh, mm, ss)
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(guess))
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0)
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  const offsetMin = Math.round((asUtc - guess) / 60000)
  const sign = offsetMin >= 0 ? '+' : '-'
  const abs = Math.abs(offsetMin)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date}T${pad(hh)}:${pad(mm)}:${pad(ss)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
}
