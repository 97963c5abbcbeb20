// Backtests: run a strategy over stored candles (`candles/series` says which), follow its state
// and progress live (`backtests patched`), and look at a completed one: its statistics
// (backtesting.py's names) and a chart of the candles with its trades, its equity and drawdown.
import { errorText, fill, findAll, h, number, onSubmit, panel, percent, when } from './dom.js'
import { liveList } from './live.js'
import { strategyPicker } from './strategy_picker.js'
import { backtestChart, backtestData } from './backtest_chart.js'

const LISTED = ['_id', 'state', 'progress', 'message', 'type', 'strategyId', 'exchange', 'symbol', 'timeframe', 'start', 'end',
  'initialCash', 'bars', 'createdAt', 'finishedAt']
const SHOWN_STATISTICS = ['Return [%]', 'Buy & Hold Return [%]', 'Max. Drawdown [%]', '# Trades', 'Win Rate [%]',
  'Equity Final [$]', 'Profit Factor', 'Sharpe Ratio', 'Exposure Time [%]', 'Commissions [$]']

/** `2024-01-01T00:00` (a datetime-local input's value, read as UTC) for milliseconds. */
const inputTime = (ms) => new Date(ms).toISOString().slice(0, 16)

export function backtestsPanel ({ client }) {
  const backtests = client.service('backtests')
  const status = h('p', { class: 'status', role: 'status' })
  const chartTitle = h('h3', { id: 'backtest-chart-title' })
  const statistics = h('div', { class: 'stats', id: 'backtest-stats' })
  const chartBox = h('div', { class: 'chart tall', id: 'backtest-chart', hidden: true })
  let chart = null
  let shown = null // the _id charted
  let awaited = null // the _id created here, charted once completed

  async function show (id) {
    shown = id
    list.redraw()
    const backtest = await backtests.get(id)
    const data = await backtestData(client, backtest)
    if (shown !== id) return
    chartTitle.textContent = `${backtest.type} on ${backtest.exchange} ${backtest.symbol} ${backtest.timeframe}, ${when(backtest.start)} – ${when(backtest.end)}`
    const stats = backtest.results.statistics || {}
    fill(statistics, ...SHOWN_STATISTICS.filter((name) => name in stats).map((name) =>
      h('div', { dataset: { statistic: name } }, h('span', { class: 'muted' }, name), h('span', {}, number(stats[name])))))
    if (chart) chart.remove()
    chartBox.hidden = false
    chart = backtestChart(chartBox, backtest, data)
  }

  function card (backtest) {
    const returned = backtest.results && backtest.results.statistics ? backtest.results.statistics['Return [%]'] : null
    return h('div', { class: `card backtest ${shown === backtest._id ? 'chosen' : ''}`, dataset: { id: backtest._id, state: backtest.state } },
      h('div', { class: 'card-title' },
        h('strong', {}, backtest.type),
        h('span', { class: `tag state ${backtest.state}` }, backtest.state),
        h('span', { class: 'muted' }, `${backtest.symbol} ${backtest.timeframe} · ${backtest.exchange} · ${backtest.bars ?? '?'} bars`),
        h('span', { class: 'spacer' }),
        returned !== null && h('span', { class: `pnl ${returned > 0 ? 'up' : returned < 0 ? 'down' : ''}`, title: 'Return [%]' }, percent(returned))),
      ['loading_data', 'executing'].includes(backtest.state) && h('progress', { max: '100', value: String(backtest.progress || 0) }),
      backtest.message && h('div', { class: 'error' }, backtest.message),
      h('div', { class: 'actions' },
        backtest.state === 'completed' && h('button', { type: 'button', class: 'small show', onClick: () => show(backtest._id).catch((error) => { status.textContent = errorText(error) }) }, 'Chart'),
        ['loading_data', 'executing'].includes(backtest.state) && h('button', { type: 'button', class: 'small danger', onClick: () => backtests.cancel({ id: backtest._id }).catch((error) => { status.textContent = errorText(error) }) }, 'Cancel'),
        h('span', { class: 'muted time' }, when(backtest.createdAt))))
  }
  const list = liveList(backtests, { row: card, limit: 8, empty: 'No backtest yet.', query: { $select: LISTED } })
  backtests.on('patched', (backtest) => {
    if (backtest._id === awaited && backtest.state === 'completed') {
      awaited = null
      show(backtest._id).catch((error) => { status.textContent = errorText(error) })
    }
  })

  // The form: what to run, over which stored series and range, with how much cash.
  const picker = strategyPicker(client, { onError: (error) => { status.textContent = errorText(error) } })
  const seriesSelect = h('select', { name: 'series', required: true })
  const from = h('input', { name: 'start', type: 'datetime-local', required: true })
  const to = h('input', { name: 'end', type: 'datetime-local', required: true })
  let series = []
  function pickSeries () {
    const chosen = series[Number(seriesSelect.value)]
    if (!chosen) return
    from.value = inputTime(chosen.first)
    to.value = inputTime(chosen.last + 60000)
  }
  seriesSelect.addEventListener('change', pickSeries)
  findAll(client.service('candles/series')).then((found) => {
    series = found
    fill(seriesSelect, ...series.map((s, index) => h('option', { value: String(index) }, `${s.exchange} ${s.symbol} ${s.timeframe} (${s.count} candles)`)))
    if (!series.length) status.textContent = 'No stored candles: import some with `cryptorobot candles import` or download them.'
    pickSeries()
  }).catch((error) => { status.textContent = errorText(error) })

  const form = h('form', { class: 'row-form', id: 'backtest-form' },
    h('label', {}, 'Strategy', picker.select),
    h('label', {}, 'Candles', seriesSelect),
    h('label', {}, 'From (UTC)', from),
    h('label', {}, 'To (UTC)', to),
    h('label', {}, 'Cash', h('input', { name: 'initialCash', type: 'number', min: '0', step: 'any', value: '10000', size: '8' })),
    h('button', { type: 'submit' }, 'Run backtest'),
    picker.settings,
    status)
  onSubmit(form, status, async (values) => {
    const chosen = series[Number(values.series)]
    const { type, settings, strategy } = picker.chosen(values)
    const run = type ? { type: type.type, settings } : { strategyId: strategy._id }
    const created = await backtests.create({
      ...run, exchange: chosen.exchange, symbol: chosen.symbol, timeframe: chosen.timeframe,
      start: `${values.start}:00Z`, end: `${values.end}:00Z`, initialCash: Number(values.initialCash)
    })
    awaited = created._id
  })

  return panel('backtests', 'Backtests', form, list.element, chartTitle, statistics, chartBox)
}
