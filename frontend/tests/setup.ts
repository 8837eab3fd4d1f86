import { vi } from 'vitest'

// jsdom lacks these browser APIs that Element Plus touches.
class RO {
  observe() {}
  unobserve() {}
  disconnect() {}
}
;(globalThis as unknown as { ResizeObserver: typeof RO }).ResizeObserver ??= RO
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as unknown as MediaQueryList
}
if (!window.scrollTo) window.scrollTo = () => {}

// ECharts needs canvas: never load it in jsdom.
vi.mock('echarts/core', () => ({ use: () => {}, init: () => ({ setOption() {}, resize() {}, dispose() {} }) }))
vi.mock('echarts/charts', () => ({ BarChart: {}, FunnelChart: {}, PieChart: {} }))
vi.mock('echarts/components', () => ({ GridComponent: {}, LegendComponent: {}, TooltipComponent: {} }))
vi.mock('echarts/renderers', () => ({ CanvasRenderer: {} }))

// async-validator prints every failed rule in development builds; tests assert on the DOM instead.
const warn = console.warn
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('async-validator')) return
  warn(...args)
}
