import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/locales/zh-CN.json'
import en from '@/i18n/locales/en.json'

function flatten(obj: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (obj && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k
      if (v && typeof v === 'object') Object.assign(out, flatten(v, key))
      else out[key] = v
    }
  }
  return out
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(vue|ts)$/.test(n) ? [p] : []
  })
}

describe('locale files', () => {
  const zh = flatten(zhCN)
  const eng = flatten(en)

  it('have exactly the same keys', () => {
    expect(Object.keys(eng).sort()).toEqual(Object.keys(zh).sort())
  })

  it('have no empty messages and the same placeholders', () => {
    for (const [k, v] of Object.entries(zh)) {
      expect(typeof v === 'string' && v.length > 0, `zh-CN ${k}`).toBe(true)
      const e = eng[k]
      expect(typeof e === 'string' && e.length > 0, `en ${k}`).toBe(true)
      const ph = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort()
      expect(ph(e as string), k).toEqual(ph(v as string))
    }
  })

  it('contain every literal key the source code uses', () => {
    const src = join(__dirname, '..', 'src')
    const used = new Set<string>()
    for (const f of sourceFiles(src)) {
      const text = readFileSync(f, 'utf8')
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) used.add(m[1] as string)
    }
    expect(used.size).toBeGreaterThan(20)
    const missing = [...used].filter((k) => !(k in zh) || !(k in eng))
    expect(missing).toEqual([])
  })
})
