// A completed backtest on one chart (lightweight-charts panes sharing the time axis): the
// price candles with the trades as markers, the equity curve, and the drawdown below it.
import { AreaSeries, CandlestickSeries, LineSeries, chartIn, createSeriesMarkers, points, seconds } from './charts.js'
import { findAll } from './dom.js'

const MAX_CANDLES = 5000
const MAX_FILLS = 5000

/** `[[ms, equity]]` -> `[[ms, drawdown %]]` (0 at a new peak, negative below it). */
export function drawdown (equity) {
  let peak = -Infinity
  return equity.map(([time, value]) => {
    peak = Math.max(peak, value)
    return [time, peak > 0 ? (value / peak - 1) * 100 : 0]
  })
}

/** What the chart of a completed backtest shows besides its `results`: `{candles, fills}`, the
 *  candles it ran over and its fills (`backtests/:backtestId/trades`), the first MAX_CANDLES
 *  and MAX_FILLS of them. */
export async function backtestData (client, backtest) {
  const [candles, fills] = await Promise.all([
    findAll(client.service('candles'), {
      exchange: backtest.exchange, symbol: backtest.symbol, timeframe: backtest.timeframe,
      timestamp: { $gte: backtest.start, $lt: backtest.end }, $sort: { timestamp: 1 }, $limit: 1000
    }, MAX_CANDLES),
    findAll(client.service(`backtests/${backtest._id}/trades`), { $limit: 1000 }, MAX_FILLS)
  ])
  return { candles, fills }
}

/** Draw `backtest` (with `results`), its `candles` and `fills` in `container`; the chart (`remove()` it). */
export function backtestChart (container, backtest, { candles, fills }) {
  const chart = chartIn(container, { autoSize: true })
  const { equity } = backtest.results
  const curve = equity.timestamp.map((time, index) => [time, equity.equity[index]])

  const price = chart.addSeries(CandlestickSeries, {
    upColor: '#3fb950', downColor: '#f85149', borderVisible: false, wickUpColor: '#3fb950', wickDownColor: '#f85149'
  }, 0)
  price.setData(candles.map((c) => ({ time: seconds(c.timestamp), open: c.open, high: c.high, low: c.low, close: c.close })))
  const lastCandle = candles.length ? candles[candles.length - 1].timestamp : Infinity
  createSeriesMarkers(price, fills.filter((fill) => fill.timestamp <= lastCandle).map((fill) => ({
    time: seconds(fill.timestamp),
    position: fill.side === 'buy' ? 'belowBar' : 'aboveBar',
    shape: fill.side === 'buy' ? 'arrowUp' : 'arrowDown',
    color: fill.side === 'buy' ? '#58a6ff' : '#d29922',
    text: fill.side === 'buy' ? 'B' : 'S'
  })))

  chart.addSeries(LineSeries, { color: '#58a6ff', lineWidth: 2, title: 'equity' }, 1).setData(points(curve))
  chart.addSeries(AreaSeries, {
    lineColor: '#f85149', topColor: 'rgba(248,81,73,0.05)', bottomColor: 'rgba(248,81,73,0.4)', lineWidth: 1, title: 'drawdown %',
    invertFilledArea: true
  }, 2).setData(points(drawdown(curve)))
  const [pricePane, equityPane, drawdownPane] = chart.panes()
  pricePane.setStretchFactor(0.5)
  equityPane.setStretchFactor(0.3)
  drawdownPane.setStretchFactor(0.2)
  chart.timeScale().fitContent()
  return chart
}
