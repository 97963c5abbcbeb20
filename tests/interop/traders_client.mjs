// The platform's main job, end to end, through the official Feathers clients (Socket.IO and REST).
//
//   node tests/interop/traders_client.mjs http://127.0.0.1:3030
//
// The server must serve `cryptorobot.platform:create_app` with backtesting.py's BTCUSD.csv
// imported as `sim` BTC/USDT monthly candles and a fast replay (test_traders_client.py sets
// it up). Ann signs up, logs in over Socket.IO, creates a paper account on `sim`, an
// `sma_cross` strategy and a trader on BTC/USDT, starts it and must receive `traders
// patched` (running), `exchanges/ticker patched`, `traders/pods/events created` (order
// placed, filled), `trades created`, then after `stop` `traders patched` (stopped); the
// trades she received equal `GET /trades`, her balance equals the starting balance plus the
// trades minus fees; Bob's socket received none of it. One JSON line per check.

import assert from 'node:assert/strict'
import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { io } from 'socket.io-client'
import { check, finish, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const PASSWORD = 'correct horse battery'
const run = Date.now().toString(36)
const WATCHED = ['traders patched', 'exchanges/ticker patched', 'traders/pods/events created', 'trades created']

function configure (connection) {
  const app = feathers().configure(connection).configure(authentication())
  app.use('traders', connection.service('traders'), { methods: ['find', 'get', 'create', 'patch', 'remove', 'start', 'stop'] })
  app.use('exchanges', connection.service('exchanges'), { methods: ['find', 'get', 'create', 'patch', 'remove', 'balance'] })
  return app
}

// A signed-up user logged in over Socket.IO, every event of WATCHED recorded in order.
async function member (name) {
  const email = `${name}-${run}@example.com`
  const socket = io(url, { transports: ['websocket'], reconnection: false, timeout: 10000 })
  const client = configure(socketio(socket))
  await client.service('users').create({ email, password: PASSWORD })
  await client.authenticate({ strategy: 'local', email, password: PASSWORD })
  const state = { client, socket, email, events: [], waiters: [] }
  for (const event of WATCHED) {
    const [path, kind] = event.split(' ')
    client.service(path).on(kind, (data) => {
      state.events.push({ event, data })
      state.waiters = state.waiters.filter((waiter) => !waiter())
    })
  }
  return state
}

const received = (state, event, matches = () => true) =>
  state.events.filter((entry) => entry.event === event && matches(entry.data)).map((entry) => entry.data)

// Resolves once `count` events `event` matching `matches` were received.
function eventually (state, event, matches = () => true, count = 1, ms = 20000) {
  return withTimeout(new Promise((resolve) => {
    const waiter = () => {
      const found = received(state, event, matches)
      if (found.length < count) return false
      resolve(found)
      return true
    }
    if (!waiter()) state.waiters.push(waiter)
  }), ms, `${count} × ${event}`)
}

async function main () {
  let ann, bob, account, trader
  const ready = await check('setup.sign_up_and_log_in_over_socketio', async () => {
    ann = await member('ann')
    bob = await member('bob')
    return { ann: ann.socket.id, bob: bob.socket.id }
  })

  const created = await check('setup.paper_account_strategy_trader', async () => {
    account = await ann.client.service('exchanges').create({ exchange: 'sim', label: 'paper' })
    assert.equal(account.paper, true)
    const strategy = await ann.client.service('strategies').create({
      name: 'BTC cross', type: 'sma_cross', pair: 'BTC/USDT', settings: { fastPeriod: 3, slowPeriod: 8 }
    })
    assert.deepEqual([strategy.settings.fastPeriod, strategy.settings.slowPeriod], [3, 8])
    trader = await ann.client.service('traders').create({ name: 'bot', strategyId: strategy._id, exchangeId: account._id })
    assert.deepEqual([trader.status, trader.symbol, trader.exchange], ['stopped', 'BTC/USDT', 'sim'])
    return { account: account._id, strategy: strategy._id, trader: trader._id }
  }, { skip: !ready })

  const started = await check('trader.start_running', async () => {
    const answer = await ann.client.service('traders').start({ id: trader._id })
    assert.equal(answer.status, 'running')
    await eventually(ann, 'traders patched', (t) => t._id === trader._id && t.status === 'running')
    return answer.status
  }, { skip: !created })

  await check('trader.ticker_patched', async () => {
    const tickers = await eventually(ann, 'exchanges/ticker patched', (t) => t.symbol === 'BTC/USDT')
    assert.equal(tickers[0].exchange, 'sim')
    return { last: tickers[0].last }
  }, { skip: !started })

  const traded = await check('trader.order_placed_filled_and_trades', async () => {
    await eventually(ann, 'trades created', (t) => t.traderId === String(trader._id), 2, 30000)
    const events = received(ann, 'traders/pods/events created')
    const types = new Set(events.map((e) => e.type))
    for (const type of ['started', 'order_placed', 'order_filled', 'trade_executed']) assert.ok(types.has(type), type)
    assert.ok(events.every((e) => e.traderId === String(trader._id) && e.podId && e.createdAt))
    return [...types]
  }, { skip: !started, timeout: 40000 })

  await check('trader.stop_stopped', async () => {
    const answer = await ann.client.service('traders').stop({ id: trader._id })
    assert.equal(answer.status, 'stopped')
    await eventually(ann, 'traders patched', (t) => t._id === trader._id && t.status === 'stopped')
    return received(ann, 'traders patched').map((t) => t.status)
  }, { skip: !traded })

  await check('trades.received_equal_rest_and_balance', async () => {
    const restClient = configure(rest(url).fetch(globalThis.fetch))
    await restClient.authenticate({ strategy: 'local', email: ann.email, password: PASSWORD })
    const page = await restClient.service('trades').find({ query: { symbol: 'BTC/USDT', $sort: { createdAt: -1 }, $limit: 100 } })
    const mine = received(ann, 'trades created')
    assert.equal(page.total, mine.length)
    assert.deepEqual(page.data.map((t) => t._id).sort(), mine.map((t) => t._id).sort())
    const balance = await restClient.service('exchanges').balance({ id: account._id })
    let usdt = 10000
    let btc = 0
    for (const t of page.data) {
      usdt += (t.side === 'sell' ? t.cost : -t.cost) - t.fee.cost
      btc += t.side === 'buy' ? t.amount : -t.amount
    }
    assert.ok(Math.abs(balance.total.USDT - usdt) < 1e-6 * Math.max(1, usdt), `${balance.total.USDT} vs ${usdt}`)
    assert.ok(Math.abs((balance.total.BTC || 0) - btc) < 1e-9, `${balance.total.BTC} vs ${btc}`)
    return { trades: page.total, usdt: balance.total.USDT, btc: balance.total.BTC || 0 }
  }, { skip: !traded })

  await check('privacy.other_user_received_nothing', async () => {
    assert.deepEqual(bob.events.map((e) => e.event), [])
    return bob.events.length
  }, { skip: !ready })

  for (const state of [ann, bob]) if (state) state.socket.close()
}

finish(main)
