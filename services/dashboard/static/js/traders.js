// Traders (bots): create one from a strategy (a new one from a type, or one of yours) on an
// exchange account; start and stop it; its status, P&L and latest pod events live; the
// latest trades of all of them. Every status change is a `traders patched` event.
import { errorText, fill, findAll, h, number, onSubmit, panel, percent, when } from './dom.js'
import { liveList } from './live.js'
import { strategyPicker } from './strategy_picker.js'

const EVENTS_SHOWN = 5

export function tradersPanel ({ client }) {
  const traders = client.service('traders')
  const podEvents = client.service('traders/pods/events')
  const trades = client.service('trades')
  const strategies = client.service('strategies')
  const exchanges = client.service('exchanges')
  const eventsOf = new Map() // traderId -> latest pod events, newest first
  const names = new Map() // traderId -> name, for the trades table

  function remember (event) {
    const list = eventsOf.get(event.traderId) || []
    eventsOf.set(event.traderId, [event, ...list.filter((e) => e._id !== event._id)].slice(0, EVENTS_SHOWN))
  }

  async function act (button, work) {
    button.disabled = true
    try { await work() } catch (error) { alert(errorText(error)) } finally { button.disabled = false }
  }

  function card (trader) {
    names.set(String(trader._id), trader.name)
    const running = ['running', 'starting'].includes(trader.status)
    const profitClass = trader.profit > 0 ? 'up' : trader.profit < 0 ? 'down' : ''
    const events = eventsOf.get(String(trader._id)) || []
    return h('div', { class: 'card trader', dataset: { id: trader._id, status: trader.status } },
      h('div', { class: 'card-title' },
        h('strong', {}, trader.name),
        h('span', { class: `tag status ${trader.status}` }, trader.status),
        h('span', { class: 'muted' }, `${trader.symbol} · ${trader.exchange}`),
        h('span', { class: 'spacer' }),
        h('span', { class: `pnl ${profitClass}`, title: 'Realized plus unrealized P&L, fees included' },
          `P&L ${number(trader.profit)} `, h('span', { class: 'roi' }, `(${percent(trader.roi)})`))),
      trader.error && h('div', { class: 'error' }, trader.error),
      h('ul', { class: 'events' }, ...events.map((event) =>
        h('li', { class: `event ${event.type}` }, h('span', { class: 'muted' }, when(event.createdAt)), ' ', h('strong', {}, event.type), ' ', event.message))),
      h('div', { class: 'actions' },
        running
          ? h('button', { type: 'button', class: 'small stop', onClick: (e) => act(e.target, () => traders.stop({ id: trader._id })) }, 'Stop')
          : h('button', { type: 'button', class: 'small start', onClick: (e) => act(e.target, () => traders.start({ id: trader._id })) }, 'Start'),
        h('button', { type: 'button', class: 'small danger', disabled: running, onClick: (e) => confirm(`Remove the trader "${trader.name}"?`) && act(e.target, () => traders.remove(trader._id)) }, 'Remove')))
  }

  const list = liveList(traders, { row: card, empty: 'No trader yet: create one below.' })
  podEvents.on('created', (event) => { remember(event); list.redraw() })
  findAll(podEvents, { $sort: { createdAt: -1 }, $limit: 50 }, 50).then((found) => {
    for (const event of found.reverse()) remember(event)
    list.redraw()
  }, () => {})

  const tradeRow = (trade) => h('tr', { class: `trade ${trade.side}`, dataset: { id: trade._id } },
    h('td', { class: 'time' }, when(trade.timestamp)),
    h('td', {}, names.get(String(trade.traderId)) || '—'),
    h('td', {}, trade.symbol),
    h('td', { class: trade.side === 'buy' ? 'up' : 'down' }, trade.side),
    h('td', { class: 'num' }, number(trade.amount, 6)),
    h('td', { class: 'num' }, number(trade.price)),
    h('td', { class: 'num' }, number(trade.cost)),
    h('td', { class: 'num muted' }, trade.fee ? `${number(trade.fee.cost, 4)} ${trade.fee.currency}` : '—'))
  const tradeList = liveList(trades, { row: tradeRow, tag: 'tbody', limit: 15, empty: 'No trade yet.', query: { $sort: { timestamp: -1 } } })
  const tradesTable = h('table', { class: 'trades' },
    h('thead', {}, h('tr', {}, ...['Time (market)', 'Trader', 'Market', 'Side', 'Amount', 'Price', 'Cost', 'Fee'].map((title) => h('th', {}, title)))),
    tradeList.element)

  // The form: what to run (strategy_picker.js), on which account and market.
  const status = h('p', { class: 'status', role: 'status' })
  const picker = strategyPicker(client, { onError: (error) => { status.textContent = errorText(error) } })
  const accountSelect = h('select', { name: 'exchangeId', required: true })
  async function refreshAccounts () {
    const accounts = await findAll(exchanges, { active: true })
    const before = accountSelect.value
    fill(accountSelect, ...(accounts.length
      ? accounts.map((a) => h('option', { value: a._id }, `${a.label || a.exchange} (${a.exchange}${a.paper ? ', paper' : ''})`))
      : [h('option', { value: '', disabled: true, selected: true }, 'create an account first')]))
    if (before) accountSelect.value = before
  }
  for (const event of ['created', 'patched', 'removed']) exchanges.on(event, () => refreshAccounts().catch(() => {}))
  refreshAccounts().catch(() => {})

  const form = h('form', { class: 'row-form', id: 'trader-form' },
    h('label', {}, 'Name', h('input', { name: 'name', required: true, maxlength: '100', value: 'bot', size: '10' })),
    h('label', {}, 'Strategy', picker.select),
    h('label', {}, 'Account', accountSelect),
    h('label', {}, 'Market', h('input', { name: 'symbol', value: 'BTC/USDT', size: '10', required: true })),
    h('button', { type: 'submit' }, 'Create trader'),
    picker.settings,
    status)
  onSubmit(form, status, async (values) => {
    const { type, settings, strategy } = picker.chosen(values)
    const strategyId = type
      ? (await strategies.create({ name: `${values.name} ${type.name}`, type: type.type, pair: values.symbol, settings }))._id
      : strategy._id
    await traders.create({ name: values.name, strategyId, exchangeId: values.exchangeId, symbol: values.symbol })
  })

  return panel('traders', 'Traders', list.element, form, h('h3', {}, 'Latest trades'), tradesTable)
}
