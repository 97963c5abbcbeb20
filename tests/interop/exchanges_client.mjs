// Drives the platform's `exchanges` with the official Feathers clients (REST and Socket.IO).
//
//   node tests/interop/exchanges_client.mjs http://127.0.0.1:3030
//
// The server must serve `cryptorobot.platform:create_app` (test configuration). Each check
// prints one JSON line {"check": name, "ok": bool, "detail": ...}; test_exchanges_client.py
// runs this and asserts on the lines.

import assert from 'node:assert/strict'
import { NotFound, BadRequest } from '@feathersjs/errors'
import { check, finish, rejection, withTimeout } from './checks.mjs'
import { serviceClients } from './service_clients.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const PASSWORD = 'correct horse battery'
const API_KEY = 'interop-api-key-0123456789'
const SECRET = 'interop-secret-abcdefghijkl'
const NEW_SECRET = 'interop-secret-replaced-42'
const METHODS = ['find', 'get', 'create', 'patch', 'remove', 'balance', 'check']

const { socketClient, restClient } = serviceClients(url, 'exchanges', METHODS)

function noSecrets (value) {
  const text = JSON.stringify(value)
  for (const secret of [API_KEY, SECRET, NEW_SECRET]) assert.ok(!text.includes(secret), `a secret leaked: ${text}`)
}

// Resolves with the next `event` of `service` whose record matches (`_id`, or a predicate).
function nextEvent (service, event, wanted) {
  const matches = typeof wanted === 'function' ? wanted : (record) => String(record._id) === String(wanted)
  return withTimeout(new Promise((resolve) => {
    const listener = (record) => {
      if (!matches(record)) return
      service.removeListener(event, listener)
      resolve(record)
    }
    service.on(event, listener)
  }), 10000, `exchanges ${event}`)
}

async function main () {
  const run = Date.now().toString(36)
  const ann = `ann-${run}@example.com`
  const bob = `bob-${run}@example.com`
  const { app: annSocket, socket } = socketClient()
  const { app: bobSocket, socket: bobRaw } = socketClient()
  const annRest = restClient()
  let sim, live
  const bobSaw = []

  await check('setup.users', async () => {
    await annRest.service('users').create({ email: ann, password: PASSWORD })
    await annRest.service('users').create({ email: bob, password: PASSWORD })
    await annSocket.authenticate({ strategy: 'local', email: ann, password: PASSWORD })
    await bobSocket.authenticate({ strategy: 'local', email: bob, password: PASSWORD })
    await annRest.authenticate({ strategy: 'local', email: ann, password: PASSWORD })
    for (const event of ['created', 'patched', 'removed']) {
      bobSocket.service('exchanges').on(event, (record) => bobSaw.push([event, record]))
    }
    return { socket: socket.id, bob: bobRaw.id }
  })

  await check('socket.create_sim_with_event', async () => {
    const service = annSocket.service('exchanges')
    const [created, event] = await Promise.all([
      service.create({ exchange: 'sim', label: 'practice', paperBalances: { USDT: 5000 } }),
      new Promise((resolve) => service.once('created', resolve))
    ])
    sim = created
    assert.deepEqual(event, created)
    assert.equal(created.paper, true)
    assert.deepEqual(created.paperBalances, { USDT: 5000 })
    return { _id: created._id, label: created.label }
  })

  await check('rest.create_live_event_on_the_socket_no_secrets', async () => {
    const event = nextEvent(annSocket.service('exchanges'), 'created', (record) => record.label === 'main')
    live = await annRest.service('exchanges').create({ exchange: 'binance', label: 'main', apiKey: API_KEY, secret: SECRET })
    assert.deepEqual(await event, live)
    assert.deepEqual(live.credentials, ['apiKey', 'secret'])
    assert.equal(live.apiKeyHint, 'inte…')
    noSecrets(live)
    return { _id: live._id, credentials: live.credentials }
  })

  await check('rest.find_documented_query', async () => {
    const page = await annRest.service('exchanges').find({ query: { active: true, $sort: { createdAt: -1 }, $limit: 10 } })
    assert.equal(page.total, 2)
    assert.equal(page.limit, 10)
    assert.deepEqual(page.data.map((account) => account._id), [live._id, sim._id])
    noSecrets(page)
    return page.data.map((account) => account.label)
  })

  await check('socket.find_select', async () => {
    const page = await annSocket.service('exchanges').find({ query: { exchange: 'binance', $select: ['label'] } })
    assert.deepEqual(page.data, [{ _id: live._id, label: 'main' }])
    return page.data
  })

  await check('socket.patch_credentials_with_event', async () => {
    const service = annSocket.service('exchanges')
    const event = nextEvent(service, 'patched', live._id)
    const patched = await annRest.service('exchanges').patch(live._id, { secret: NEW_SECRET, label: 'renamed' })
    const received = await event
    assert.deepEqual(received, patched)
    assert.equal(patched.label, 'renamed')
    assert.ok(patched.credentialsUpdatedAt >= live.credentialsUpdatedAt)
    noSecrets([patched, received])
    return { label: patched.label, credentialsUpdatedAt: patched.credentialsUpdatedAt }
  })

  await check('socket.balance_custom_method', async () => {
    const balance = await annSocket.service('exchanges').balance({ id: sim._id })
    assert.deepEqual(balance.total, { USDT: 5000 })
    assert.deepEqual(balance.USDT, { free: 5000, used: 0, total: 5000 })
    return balance.total
  })

  await check('rest.balance_custom_method', async () => {
    const balance = await annRest.service('exchanges').balance({ id: sim._id })
    assert.deepEqual(balance.free, { USDT: 5000 })
    return balance.free
  })

  await check('socket.validation_error', async () => {
    const error = await rejection(annSocket.service('exchanges').create({ exchange: 'sim', sandbox: true }))
    assert.ok(error instanceof BadRequest, `expected BadRequest, got ${error && error.name}`)
    assert.deepEqual(error.errors, { sandbox: ['A paper account can not use a sandbox: choose one of paper and sandbox.'] })
    return error.errors
  })

  await check('socket.invalid_symbol_code', async () => {
    const markets = annSocket.service('exchanges/markets')
    const error = await rejection(markets.find({ query: { exchange: 'sim', symbol: 'BTC/USDX' } }))
    assert.ok(error instanceof BadRequest, `expected BadRequest, got ${error && error.name}`)
    assert.equal(error.data.code, 'INVALID_SYMBOL')
    assert.ok(error.data.suggestions.includes('BTC/USDT'))
    return error.data
  })

  await check('socket.other_user_sees_nothing', async () => {
    const error = await rejection(bobSocket.service('exchanges').get(live._id))
    assert.ok(error instanceof NotFound, `expected NotFound, got ${error && error.name}`)
    const balanceError = await rejection(bobSocket.service('exchanges').balance({ id: sim._id }))
    assert.ok(balanceError instanceof NotFound)
    const page = await bobSocket.service('exchanges').find()
    assert.equal(page.total, 0)
    return { get: error.name, balance: balanceError.name }
  })

  await check('socket.remove_with_event', async () => {
    const event = nextEvent(annSocket.service('exchanges'), 'removed', sim._id)
    const removed = await annSocket.service('exchanges').remove(sim._id)
    assert.deepEqual(await event, removed)
    return { _id: removed._id }
  })

  await check('socket.no_events_for_another_user', async () => {
    // A round trip on bob's socket after ann's last event: anything for bob would have arrived.
    await bobSocket.service('exchanges').find()
    assert.deepEqual(bobSaw, [])
    return bobSaw.length
  })

  socket.close()
  bobRaw.close()
}

finish(main)
