// Live tickers through the official Feathers clients (socket.io and REST), against the platform.
//
//   node tests/interop/ticker_client.mjs http://127.0.0.1:3030
//
// The server must serve the platform (`cryptorobot.platform:create_app`); `sim` symbols
// without stored candles move by a random walk. Two users log in over sockets with
// @feathersjs/authentication-client; each subscribes to its own symbol with the custom
// `subscribe` method and must receive `exchanges/ticker patched` for that symbol only; a
// watchlist entry brings a symbol without subscribing; `unsubscribe` stops one. Each check
// prints one JSON line {"check": name, "ok": bool, "detail": ...} (test_ticker_client.py).

import assert from 'node:assert/strict'
import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { BadRequest } from '@feathersjs/errors'
import { io } from 'socket.io-client'
import { check, finish, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const PASSWORD = 'correct horse battery'
const run = Date.now().toString(36)
const TICKER_METHODS = ['find', 'get', 'subscribe', 'unsubscribe']
const TICKER_FIELDS = ['symbol', 'timestamp', 'datetime', 'high', 'low', 'bid', 'ask', 'last', 'open', 'close',
  'change', 'percentage', 'baseVolume', 'quoteVolume']

// A logged-in socket client whose ticker events are recorded, with a way to wait for them.
async function member (name) {
  const socket = io(url, { transports: ['websocket'], reconnection: false, timeout: 10000 })
  const connection = socketio(socket)
  const client = feathers().configure(connection).configure(authentication())
  client.use('exchanges/ticker', connection.service('exchanges/ticker'), { methods: TICKER_METHODS })
  const email = `${name}-${run}@example.com`
  await client.service('users').create({ email, password: PASSWORD })
  await client.authenticate({ strategy: 'local', email, password: PASSWORD })
  const state = { client, socket, tickers: [], waiters: [] }
  client.service('exchanges/ticker').on('patched', (ticker) => {
    state.tickers.push(ticker)
    state.waiters = state.waiters.filter((waiter) => !waiter())
  })
  return state
}

// Resolves once `count` tickers matching `matches` arrived after position `from`.
function tickersAfter (state, from, count, matches) {
  const found = () => state.tickers.slice(from).filter(matches)
  return withTimeout(new Promise((resolve) => {
    const waiter = () => {
      if (found().length < count) return false
      resolve(found())
      return true
    }
    if (!waiter()) state.waiters.push(waiter)
  }), 10000, `${count} tickers`)
}

const of = (symbol) => (ticker) => ticker.symbol === symbol

async function main () {
  let ann, bob
  const connected = await check('ticker.connect_and_login', async () => {
    ann = await member('ann')
    bob = await member('bob')
    return { ann: ann.socket.id, bob: bob.socket.id }
  })
  if (!connected) return

  await check('ticker.subscribe', async () => {
    const mine = await ann.client.service('exchanges/ticker').subscribe({ exchange: 'sim', symbols: ['btc-usdt'] })
    assert.deepEqual([mine.exchange, mine.symbols], ['sim', ['BTC/USDT']])
    const theirs = await bob.client.service('exchanges/ticker').subscribe({ exchange: 'sim', symbols: ['ETH/USDT'] })
    assert.deepEqual(theirs.symbols, ['ETH/USDT'])
    return { ann: mine.symbols, bob: theirs.symbols }
  })

  await check('ticker.patched_for_its_symbol', async () => {
    const received = await tickersAfter(ann, 0, 3, of('BTC/USDT'))
    const ticker = received[received.length - 1]
    for (const field of TICKER_FIELDS) assert.ok(field in ticker, `the ticker has ${field}`)
    assert.equal(ticker.exchange, 'sim')
    assert.equal(ticker._id, 'sim:BTC/USDT')
    assert.equal(typeof ticker.last, 'number')
    assert.equal(ticker.bid, ticker.last)
    assert.ok(received[2].timestamp > received[0].timestamp, 'the market moves on')
    await tickersAfter(bob, 0, 3, of('ETH/USDT'))
    return { symbol: ticker.symbol, last: ticker.last, timestamp: ticker.timestamp }
  })

  await check('ticker.only_its_symbols', async () => {
    assert.deepEqual([...new Set(ann.tickers.map((t) => t.symbol))], ['BTC/USDT'])
    assert.deepEqual([...new Set(bob.tickers.map((t) => t.symbol))], ['ETH/USDT'])
    return { ann: ann.tickers.length, bob: bob.tickers.length }
  })

  await check('ticker.invalid_symbol', async () => {
    const error = await ann.client.service('exchanges/ticker').subscribe({ exchange: 'sim', symbols: ['BTC/USDX'] })
      .then(() => null, (failure) => failure)
    assert.ok(error instanceof BadRequest, `expected BadRequest, got ${error && error.name}`)
    assert.equal(error.data.code, 'INVALID_SYMBOL')
    assert.ok(error.data.suggestions.includes('BTC/USDT'))
    return { code: error.data.code, suggestions: error.data.suggestions }
  })

  await check('ticker.watchlist_without_subscribing', async () => {
    const from = ann.tickers.length
    const entry = await ann.client.service('exchanges/watchlist').create({ exchange: 'sim', symbol: 'SOL/USDT' })
    assert.equal(entry.symbol, 'SOL/USDT')
    await tickersAfter(ann, from, 2, of('SOL/USDT'))
    assert.equal(bob.tickers.filter(of('SOL/USDT')).length, 0)
    return entry.symbol
  })

  await check('ticker.unsubscribe', async () => {
    const left = await ann.client.service('exchanges/ticker').unsubscribe({ exchange: 'sim', symbols: ['BTC/USDT'] })
    assert.deepEqual(left.symbols, [])
    const from = ann.tickers.length
    await tickersAfter(ann, from, 3, of('SOL/USDT'))
    assert.equal(ann.tickers.slice(from).filter(of('BTC/USDT')).length, 0, 'no BTC/USDT after unsubscribing')
    return { after: ann.tickers.slice(from).map((t) => t.symbol) }
  })

  await check('ticker.get_over_rest', async () => {
    const connection = rest(url).fetch(globalThis.fetch)
    const client = feathers().configure(connection).configure(authentication())
    await client.authenticate({ strategy: 'local', email: `ann-${run}@example.com`, password: PASSWORD })
    const ticker = await client.service('exchanges/ticker').get('sim:BTC/USDT')
    assert.deepEqual([ticker._id, ticker.exchange, ticker.symbol], ['sim:BTC/USDT', 'sim', 'BTC/USDT'])
    const page = await client.service('exchanges/ticker').find({ query: { symbol: { $in: ['ETH/USDT', 'SOL/USDT'] } } })
    assert.deepEqual(page.data.map((t) => t.symbol).sort(), ['ETH/USDT', 'SOL/USDT'])
    return { last: ticker.last, found: page.total }
  })

  for (const state of [ann, bob]) state.socket.close()
}

finish(main)
