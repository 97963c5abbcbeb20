// Live tickers of the user's watchlist (`exchanges/watchlist`): the server sends
// `exchanges/ticker patched` for every watched market to all the user's sockets, coalesced,
// with no subscription call. Click a row for a chart of the prices received since.
import { h, number, onSubmit, panel, percent } from './dom.js'
import { liveList } from './live.js'
import { lineChart } from './charts.js'

const tickerId = (exchange, symbol) => `${exchange}:${symbol}`

export function tickersPanel ({ client }) {
  const watchlist = client.service('exchanges/watchlist')
  const tickers = client.service('exchanges/ticker')
  const latest = new Map() // "<exchange>:<symbol>" -> {ticker, direction}
  let chosen = null // the market charted
  const chartBox = h('div', { class: 'chart small', id: 'ticker-chart', hidden: true })
  const chartTitle = h('p', { class: 'muted' }, 'Click a market for a chart of its live prices.')
  let chart = null

  function row (entry) {
    const id = tickerId(entry.exchange, entry.symbol)
    const seen = latest.get(id)
    const ticker = seen ? seen.ticker : {}
    return h('tr', { class: `ticker ${seen ? seen.direction : ''} ${chosen === id ? 'chosen' : ''}`, dataset: { id, symbol: entry.symbol }, onClick: () => choose(id) },
      h('td', {}, h('strong', {}, entry.symbol), ' ', h('span', { class: 'tag' }, entry.exchange)),
      h('td', { class: 'num last' }, number(ticker.last)),
      h('td', { class: 'num' }, number(ticker.bid)),
      h('td', { class: 'num' }, number(ticker.ask)),
      h('td', { class: `num ${ticker.percentage > 0 ? 'up' : ticker.percentage < 0 ? 'down' : ''}` }, percent(ticker.percentage)),
      h('td', { class: 'muted time' }, ticker.timestamp ? new Date(ticker.timestamp).toLocaleTimeString([], { hour12: false }) : '—'),
      h('td', {}, h('button', { type: 'button', class: 'small danger', title: 'Stop watching', onClick: (event) => { event.stopPropagation(); watchlist.remove(entry._id) } }, '×')))
  }

  const list = liveList(watchlist, { row, tag: 'tbody', empty: 'Watch a market below.' })
  const table = h('table', { class: 'tickers' },
    h('thead', {}, h('tr', {}, ...['Market', 'Last', 'Bid', 'Ask', '24h', 'Time', ''].map((title) => h('th', {}, title)))),
    list.element)

  function show (ticker) {
    const id = tickerId(ticker.exchange, ticker.symbol)
    const before = latest.get(id)
    const direction = before && before.ticker.last !== undefined ? (ticker.last > before.ticker.last ? 'up' : ticker.last < before.ticker.last ? 'down' : before.direction) : ''
    latest.set(id, { ticker, direction })
    if (chart && chosen === id && ticker.last !== null) chart.push(ticker.timestamp, ticker.last)
    list.redraw()
  }
  tickers.on('patched', show)
  // The latest value at once, without waiting for the next change.
  watchlist.on('created', (entry) => tickers.get(tickerId(entry.exchange, entry.symbol)).then(show, () => {}))
  list.loaded.then(() => {
    for (const entry of list.records.values()) tickers.get(tickerId(entry.exchange, entry.symbol)).then(show, () => {})
  })

  function choose (id) {
    chosen = id
    chartTitle.textContent = `${id} — live prices since ${new Date().toLocaleTimeString([], { hour12: false })}`
    if (chart) chart.remove()
    chartBox.hidden = false
    chart = lineChart(chartBox, { height: 180 })
    const seen = latest.get(id)
    if (seen && seen.ticker.last !== null) chart.push(seen.ticker.timestamp, seen.ticker.last)
    list.redraw()
  }

  const status = h('p', { class: 'status', role: 'status' })
  const form = h('form', { class: 'row-form', id: 'watch-form' },
    h('label', {}, 'Exchange', h('input', { name: 'exchange', required: true, value: 'sim', size: '8' })),
    h('label', {}, 'Symbol', h('input', { name: 'symbol', required: true, placeholder: 'BTC/USDT', size: '12' })),
    h('button', { type: 'submit' }, 'Watch'),
    status)
  onSubmit(form, status, async ({ exchange, symbol }) => {
    await watchlist.create({ exchange, symbol })
    form.reset()
  })
  return panel('tickers', 'Live tickers', table, form, chartTitle, chartBox)
}
