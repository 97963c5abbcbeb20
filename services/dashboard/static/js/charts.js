// Charts with TradingView's lightweight-charts (vendored standalone build: `LightweightCharts`).
// Times are UTC seconds for the library; records carry milliseconds.
/* global LightweightCharts */

const { createChart, LineSeries, AreaSeries, CandlestickSeries, createSeriesMarkers } = LightweightCharts

const THEME = {
  layout: { background: { color: 'transparent' }, textColor: '#c9d1d9', fontSize: 11 },
  grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
  timeScale: { timeVisible: true, secondsVisible: true, borderColor: '#30363d' },
  rightPriceScale: { borderColor: '#30363d' },
  autoSize: true
}

/** Milliseconds (or an ISO string) to the library's time (whole UTC seconds). */
export const seconds = (time) => Math.floor((typeof time === 'number' ? time : Date.parse(time)) / 1000)

/** A chart in `container` (emptied first). */
export function chartIn (container, options = {}) {
  container.replaceChildren()
  return createChart(container, { ...THEME, ...options })
}

/** A live line chart: `push(ms, value)` adds a point (a point in the same second replaces it;
 *  an older one is ignored), `remove()` drops the chart. */
export function lineChart (container, options = {}) {
  const chart = chartIn(container, options)
  const series = chart.addSeries(LineSeries, { color: '#58a6ff', lineWidth: 2 })
  let last = -Infinity
  return {
    push (time, value) {
      const at = seconds(time)
      if (at < last) return
      last = at
      series.update({ time: at, value })
    },
    remove () { chart.remove() }
  }
}

/** Line points `[{time, value}]` from `[[ms, value]]` or `[{timestamp, value}]`, one per second
 *  (the last of each second), in time order. */
export function points (rows, value = (row) => row[1], time = (row) => row[0]) {
  const bySecond = new Map()
  for (const row of rows) {
    const v = value(row)
    if (v !== null && v !== undefined && !Number.isNaN(v)) bySecond.set(seconds(time(row)), v)
  }
  return [...bySecond.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ time: t, value: v }))
}

export { AreaSeries, CandlestickSeries, LineSeries, createSeriesMarkers }
