// Drives the platform's `backtests` with the official Feathers clients (REST and Socket.IO).
//
//   node tests/interop/backtests_client.mjs http://127.0.0.1:3030 <start ms> <bars stored>
//
// The server must serve `cryptorobot.platform:create_app` (test configuration) with hourly
// `binance` BTC/USDT candles stored from <start ms>. Each check prints one JSON line
// {"check": name, "ok": bool, "detail": ...}; test_backtests_client.py runs this and
// asserts on the lines.

import assert from 'node:assert/strict'
import { NotFound, BadRequest } from '@feathersjs/errors'
import { check, finish, rejection, withTimeout } from './checks.mjs'
import { serviceClients } from './service_clients.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const START = Number(process.argv[3])
const STORED = Number(process.argv[4])
const HOUR = 3600000
const PASSWORD = 'correct horse battery'
const METHODS = ['find', 'get', 'create', 'remove', 'cancel']
const FINAL = ['completed', 'failed', 'cancelled']
const SMA = { fastPeriod: 10, slowPeriod: 30 }
const BUSY = { fastPeriod: 2, slowPeriod: 3 }

const { socketClient, restClient } = serviceClients(url, 'backtests', METHODS)

const body = (bars, changes = {}) => ({
  type: 'sma_cross', settings: SMA, exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h',
  start: START, end: START + bars * HOUR, initialCash: 10000, ...changes
})

// Every `patched` of run `id` until one whose state is in `until`, in order.
function patchesOf (service, id, until = FINAL, ms = 60000) {
  const patches = []
  return withTimeout(new Promise((resolve) => {
    const listener = (record) => {
      if (String(record._id) !== String(id)) return
      patches.push(record)
      if (until.includes(record.state)) {
        service.removeListener('patched', listener)
        resolve(patches)
      }
    }
    service.on('patched', listener)
  }), ms, `backtests patched until ${until}`)
}

async function main () {
  const run = Date.now().toString(36)
  const ann = `ann-${run}@example.com`
  const bob = `bob-${run}@example.com`
  const { app: annSocket, socket } = socketClient()
  const { app: bobSocket, socket: bobRaw } = socketClient()
  const annRest = restClient()
  const bobSaw = []
  let done

  await check('setup.users', async () => {
    await annRest.service('users').create({ email: ann, password: PASSWORD })
    await annRest.service('users').create({ email: bob, password: PASSWORD })
    await annSocket.authenticate({ strategy: 'local', email: ann, password: PASSWORD })
    await bobSocket.authenticate({ strategy: 'local', email: bob, password: PASSWORD })
    await annRest.authenticate({ strategy: 'local', email: ann, password: PASSWORD })
    for (const event of ['created', 'patched', 'removed']) {
      bobSocket.service('backtests').on(event, (record) => bobSaw.push([event, record._id]))
    }
    return { socket: socket.id, bob: bobRaw.id }
  })

  await check('socket.create_then_states_in_order', async () => {
    const service = annSocket.service('backtests')
    const created = await service.create(body(8760))
    assert.equal(created.state, 'loading_data')
    const patches = await patchesOf(service, created._id)
    const states = patches.map((patch) => patch.state)
    assert.equal(states[0], 'executing')
    assert.equal(states[states.length - 1], 'completed')
    const progress = patches.map((patch) => patch.progress)
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b))
    done = patches[patches.length - 1]
    assert.equal(done.results.statistics['# Trades'] > 0, true)
    return { states, trades: done.results.statistics['# Trades'] }
  }, { timeout: 60000 })

  await check('rest.completed_results_and_pages', async () => {
    const record = await annRest.service('backtests').get(done._id)
    assert.deepEqual(record, done)
    for (const key of ['summary', 'performance', 'orders', 'positions', 'statistics', 'equity']) {
      assert.ok(record.results[key], key)
    }
    assert.equal(record.results.equity.equity.length, 8760)
    const logs = await annRest.service(`backtests/${done._id}/logs`).find({ query: { $limit: 5 } })
    assert.equal(logs.data.length, 5)
    assert.deepEqual(logs.data.map((line) => line.lineNumber), [0, 1, 2, 3, 4])
    const positions = await annRest.service(`backtests/${done._id}/positions`).find({ query: { status: 'closed', $limit: 3, $skip: 1 } })
    assert.equal(positions.total, record.results.statistics['# Trades'])
    const trades = await annRest.service(`backtests/${done._id}/trades`).find({ query: { side: 'buy', $limit: 1 } })
    assert.equal(trades.data[0].side, 'buy')
    return { logs: logs.total, positions: positions.total, trades: trades.total }
  })

  await check('socket.cancel_custom_method', async () => {
    const service = annSocket.service('backtests')
    const created = await service.create(body(STORED, { settings: BUSY }))
    await patchesOf(service, created._id, ['executing', ...FINAL])
    const began = Date.now()
    const cancelled = await service.cancel({ id: created._id })
    const took = Date.now() - began
    assert.equal(cancelled.state, 'cancelled')
    assert.ok(took < 1000, `cancel took ${took} ms`)
    return { state: cancelled.state, message: cancelled.message }
  }, { timeout: 60000 })

  await check('rest.failed_run_says_why', async () => {
    const service = annSocket.service('backtests')
    const events = []
    const listener = (record) => events.push(record)
    service.on('patched', listener)
    const created = await annRest.service('backtests').create(body(500, {
      settings: { ...SMA, sizing: 'Base amount', orderSize: 1e-12 }, fractional: true
    }))
    const patches = await patchesOf(service, created._id)
    service.removeListener('patched', listener)
    const failed = patches[patches.length - 1]
    assert.equal(failed.state, 'failed')
    assert.match(failed.message, /truncates to 0/)
    return { message: failed.message }
  }, { timeout: 60000 })

  await check('rest.bad_request_has_a_code', async () => {
    const error = await rejection(annRest.service('backtests').create(body(500, { type: 'nope' })))
    assert.ok(error instanceof BadRequest, `expected BadRequest, got ${error && error.name}`)
    assert.equal(error.data.code, 'INVALID_SETTINGS')
    const none = await rejection(annRest.service('backtests').create(body(500, { symbol: 'ETH/USDT' })))
    assert.equal(none.data.code, 'NO_CANDLES')
    return { type: error.data.code, range: none.data.code }
  })

  await check('socket.other_user_sees_nothing', async () => {
    const error = await rejection(bobSocket.service('backtests').get(done._id))
    assert.ok(error instanceof NotFound, `expected NotFound, got ${error && error.name}`)
    const cancelError = await rejection(bobSocket.service('backtests').cancel({ id: done._id }))
    assert.ok(cancelError instanceof NotFound)
    const page = await bobSocket.service('backtests').find()
    assert.equal(page.total, 0)
    await bobSocket.service('backtests').find()  // a round trip after ann's last event
    assert.deepEqual(bobSaw, [])
    return { get: error.name, cancel: cancelError.name }
  })

  socket.close()
  bobRaw.close()
}

finish(main)
