/** ECharts, tree-shaken; imported dynamically from the report charts only (never in the initial bundle). */
import * as echarts from 'echarts/core'
import { BarChart, FunnelChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, FunnelChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
