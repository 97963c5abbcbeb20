// Drives a running cryptorobot server with the official Feathers v5 JS clients.
//
//   node tests/interop/client.mjs http://127.0.0.1:3030
//
// The server must serve `tests/interop/app.py:create_app`. The same scenario runs once with
// @feathersjs/rest-client (fetch) and once with @feathersjs/socketio-client; a Socket.IO
// client stays connected the whole time and records every event it is sent. Each check
// prints one JSON line {"check": name, "ok": bool, "detail": ...} on stdout; the exit code is
// 1 when any check failed. test_feathers_client.py runs this and asserts on the lines.

import assert from 'node:assert/strict'
import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import { BadRequest, FeathersError, MethodNotAllowed, NotFound } from '@feathersjs/errors'
import { io } from 'socket.io-client'
import { check, finish, rejection, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const EVENT_TIMEOUT = 5000
const MESSAGE_METHODS = ['find', 'get', 'create', 'update', 'patch', 'remove', 'summary']
const NESTED = 'traders/pods/events'
const ROUTED = 'traders/:traderId/orders'
const SEEDS = 25


function assertFeathersError (error, Class, code, message) {
  assert.ok(!('unexpectedResult' in error), `expected a ${Class.name}, got result ${JSON.stringify(error.unexpectedResult)}`)
  assert.ok(error instanceof Class, `expected an instance of ${Class.name}, got ${error && error.constructor && error.constructor.name}: ${error && error.message}`)
  assert.ok(error instanceof FeathersError, 'expected a FeathersError')
  assert.equal(error.name, Class.name)
  assert.equal(error.code, code)
  assert.equal(error.message, message)
  assert.equal(typeof error.className, 'string')
  return { name: error.name, code: error.code, className: error.className, message: error.message }
}

async function waitUntil (predicate, ms = EVENT_TIMEOUT) {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return true
}

const pad = (n) => String(n).padStart(2, '0')
const byId = (records) => new Map(records.map((record) => [record.id, record]))
const pageKeys = (page) => Object.keys(page).sort()

function assertPage (page, { total, limit, skip }) {
  assert.ok(page && typeof page === 'object' && !Array.isArray(page), `expected a page object, got ${JSON.stringify(page)}`)
  assert.deepEqual(pageKeys(page), ['data', 'limit', 'skip', 'total'])
  assert.equal(page.total, total, 'total')
  assert.equal(page.limit, limit, 'limit')
  assert.equal(page.skip, skip, 'skip')
  assert.ok(Array.isArray(page.data), 'data is a list')
}

// ---------------------------------------------------------------------------------------
// The scenario, identical for both transports. `rest` makes query values strings on the
// server, so REST queries select on string fields (`text`, `run`) and sockets on numbers.
// Returns what the event checks need.

async function scenario (kind, app) {
  const T = kind
  const run = kind // every record of this run carries run: <kind>
  const messages = app.service('messages')
  const nested = app.service(NESTED)
  const routed = app.service(ROUTED)
  const onRest = kind === 'rest'
  const state = { run, seeds: [], single: null, patched: null, updated: null, removed: null, multiPatched: [], multiRemoved: [], nested: null }

  await check(`${T}.create.array`, async () => {
    const input = Array.from({ length: SEEDS }, (_, n) => ({ run, n, text: `msg ${pad(n)}` }))
    const created = await messages.create(input)
    assert.ok(Array.isArray(created), `expected a list, got ${JSON.stringify(created)}`)
    assert.equal(created.length, SEEDS)
    created.forEach((record, n) => {
      assert.equal(typeof record.id, 'number', 'auto ids are numbers')
      assert.deepEqual(record, { ...input[n], id: record.id }, `element ${n} in input order`)
    })
    assert.equal(new Set(created.map((record) => record.id)).size, SEEDS, 'distinct ids')
    state.seeds = created
    return { count: created.length, ids: [created[0].id, created[SEEDS - 1].id] }
  })

  await check(`${T}.create.single`, async () => {
    const created = await messages.create({ run, n: 100, text: 'single', tags: ['a', 'b'], meta: { nested: true, value: null } })
    assert.equal(typeof created.id, 'number')
    assert.deepEqual(created, { id: created.id, run, n: 100, text: 'single', tags: ['a', 'b'], meta: { nested: true, value: null } })
    state.single = created
    return created
  })

  await check(`${T}.find.paginate`, async () => {
    const page = await messages.find({ query: { run } })
    assertPage(page, { total: SEEDS + 1, limit: 10, skip: 0 })
    assert.equal(page.data.length, 10)
    assert.deepEqual(page.data, state.seeds.slice(0, 10), 'first page in store order')
    return { total: page.total, limit: page.limit, skip: page.skip, length: page.data.length }
  })

  await check(`${T}.find.limit_skip_sort`, async () => {
    const page = await messages.find({ query: { run, $limit: 5, $skip: 3, $sort: { n: -1 } } })
    assertPage(page, { total: SEEDS + 1, limit: 5, skip: 3 })
    assert.deepEqual(page.data.map((r) => r.n), [22, 21, 20, 19, 18])
    const ascending = await messages.find({ query: { run, $limit: 3, $sort: { text: 1 } } })
    assert.deepEqual(ascending.data.map((r) => r.text), ['msg 00', 'msg 01', 'msg 02'])
    return { descending: page.data.map((r) => r.n), ascending: ascending.data.map((r) => r.text) }
  })

  await check(`${T}.find.limit_max`, async () => {
    const page = await messages.find({ query: { run, $limit: 1000 } })
    assertPage(page, { total: SEEDS + 1, limit: 50, skip: 0 })
    assert.equal(page.data.length, SEEDS + 1)
    return { limit: page.limit, length: page.data.length }
  })

  await check(`${T}.find.limit_zero`, async () => {
    const page = await messages.find({ query: { run, $limit: 0 } })
    assertPage(page, { total: SEEDS + 1, limit: 0, skip: 0 })
    assert.deepEqual(page.data, [])
    return page
  })

  await check(`${T}.find.in`, async () => {
    const query = onRest
      ? { run, text: { $in: ['msg 01', 'msg 02', 'msg 03'] }, $sort: { n: 1 } }
      : { run, n: { $in: [1, 2, 3] }, $sort: { n: 1 } }
    const page = await messages.find({ query })
    assert.equal(page.total, 3)
    assert.deepEqual(page.data.map((r) => r.n), [1, 2, 3])
    return { query, found: page.data.map((r) => r.n) }
  })

  await check(`${T}.find.in_over_21_values`, async () => {
    // qs on the server turns indices above 20 into dict keys unless the server deals with it
    const values = Array.from({ length: 30 }, (_, n) => (onRest ? `msg ${pad(n)}` : n))
    const page = await messages.find({ query: { run, [onRest ? 'text' : 'n']: { $in: values }, $limit: 50 } })
    assert.equal(page.total, SEEDS)
    assert.equal(page.data.length, SEEDS)
    return { values: values.length, total: page.total }
  })

  await check(`${T}.find.nin_ne`, async () => {
    const nin = onRest
      ? { run, text: { $nin: Array.from({ length: 20 }, (_, n) => `msg ${pad(n)}`) } }
      : { run, n: { $nin: Array.from({ length: 20 }, (_, n) => n) } }
    const page = await messages.find({ query: { ...nin, $sort: { n: 1 } } })
    assert.deepEqual(page.data.map((r) => r.n), [20, 21, 22, 23, 24, 100])
    const ne = await messages.find({ query: { run, text: { $ne: 'single' }, $limit: 0 } })
    assert.equal(ne.total, SEEDS)
    return { nin: page.data.map((r) => r.n), neTotal: ne.total }
  })

  await check(`${T}.find.lt_gte`, async () => {
    const query = onRest
      ? { run, text: { $gte: 'msg 05', $lt: 'msg 10' }, $sort: { text: 1 } }
      : { run, n: { $gte: 5, $lt: 10 }, $sort: { n: 1 } }
    const page = await messages.find({ query })
    assert.equal(page.total, 5)
    assert.deepEqual(page.data.map((r) => r.n), [5, 6, 7, 8, 9])
    const query2 = onRest
      ? { run, text: { $gt: 'msg 22', $lte: 'msg 24' }, $sort: { n: 1 } }
      : { run, n: { $gt: 22, $lte: 100 }, $sort: { n: 1 } }
    const page2 = await messages.find({ query: query2 })
    assert.deepEqual(page2.data.map((r) => r.n), onRest ? [23, 24] : [23, 24, 100])
    return { gteLt: page.data.map((r) => r.n), gtLte: page2.data.map((r) => r.n) }
  })

  await check(`${T}.find.or`, async () => {
    const query = onRest
      ? { run, $or: [{ text: 'msg 04' }, { text: 'single' }], $sort: { n: 1 } }
      : { run, $or: [{ n: 4 }, { n: { $gte: 100 } }], $sort: { n: 1 } }
    const page = await messages.find({ query })
    assert.deepEqual(page.data.map((r) => r.n), [4, 100])
    return page.data.map((r) => r.n)
  })

  await check(`${T}.find.select`, async () => {
    const page = await messages.find({ query: { run, $select: ['text'], $sort: { n: 1 }, $limit: 2 } })
    assert.deepEqual(page.data, [
      { id: state.seeds[0].id, text: 'msg 00' },
      { id: state.seeds[1].id, text: 'msg 01' }
    ])
    return page.data
  })

  await check(`${T}.find.value_types`, async () => {
    // Over REST every query value reaches the server as a string (feathers-wire 1.5, 2.10):
    // n=5 asks for the string "5", which the type-strict memory adapter does not match.
    // Over Socket.IO the number stays a number.
    const page = await messages.find({ query: { run, n: 5 } })
    assert.equal(page.total, onRest ? 0 : 1)
    return { total: page.total }
  })

  await check(`${T}.get`, async () => {
    const record = await messages.get(state.single.id)
    assert.deepEqual(record, state.single)
    const seed = await messages.get(state.seeds[7].id, { query: { run } })
    assert.deepEqual(seed, state.seeds[7])
    return record
  })

  await check(`${T}.patch`, async () => {
    const patched = await messages.patch(state.single.id, { text: 'patched', extra: 1, meta: { replaced: true } })
    assert.deepEqual(patched, { ...state.single, text: 'patched', extra: 1, meta: { replaced: true } })
    assert.deepEqual(await messages.get(state.single.id), patched)
    state.patched = patched
    return patched
  })

  await check(`${T}.update`, async () => {
    const updated = await messages.update(state.single.id, { run, text: 'replaced', id: 'ignored' })
    assert.deepEqual(updated, { id: state.single.id, run, text: 'replaced' })
    assert.strictEqual(updated.id, state.single.id, 'the stored id keeps its type')
    state.updated = updated
    return updated
  })

  await check(`${T}.remove`, async () => {
    const removed = await messages.remove(state.single.id)
    assert.deepEqual(removed, state.updated)
    state.removed = removed
    const error = await rejection(messages.get(state.single.id))
    assertFeathersError(error, NotFound, 404, `No record found for id '${state.single.id}'`)
    return removed
  })

  await check(`${T}.patch.multi`, async () => {
    const texts = ['msg 00', 'msg 01', 'msg 02']
    const patched = await messages.patch(null, { flag: run }, { query: { run, text: { $in: texts } } })
    assert.ok(Array.isArray(patched), `expected a list, got ${JSON.stringify(patched)}`)
    assert.deepEqual(
      [...patched].sort((a, b) => a.n - b.n),
      state.seeds.slice(0, 3).map((record) => ({ ...record, flag: run }))
    )
    const flagged = await messages.find({ query: { run, flag: run } })
    assert.equal(flagged.total, 3)
    state.multiPatched = patched
    return { count: patched.length, ids: patched.map((r) => r.id) }
  })

  await check(`${T}.custom_method`, async () => {
    const result = await messages.summary({ run, note: 'hello' })
    assert.deepEqual(result, { run, count: SEEDS, note: 'hello', provider: onRest ? 'rest' : 'socketio' })
    return result
  })

  await check(`${T}.error.not_found`, async () => {
    const error = await rejection(messages.get(999999))
    return assertFeathersError(error, NotFound, 404, "No record found for id '999999'")
  })

  await check(`${T}.error.method_not_allowed`, async () => {
    // `traders/pods/events` exposes find, get and create only
    const error = await rejection(nested.remove(1))
    const message = onRest
      ? 'Method `remove` is not supported by this endpoint.'
      : `Method 'remove' not allowed on service '${NESTED}'`
    return assertFeathersError(error, MethodNotAllowed, 405, message)
  })

  await check(`${T}.error.bad_request`, async () => {
    const error = await rejection(messages.find({ query: { $foo: 1 } }))
    return assertFeathersError(error, BadRequest, 400, 'Invalid filter value $foo')
  })

  await check(`${T}.error.multi_not_allowed`, async () => {
    // Feathers answers 405 here; cryptorobot answers 400 for every array a service does not accept.
    const error = await rejection(nested.create([{ run, kind: 'a' }, { run, kind: 'b' }]))
    return assertFeathersError(error, BadRequest, 400, "Service 'traders/pods/events' does not accept an array for 'create'")
  })

  await check(`${T}.nested_path`, async () => {
    const created = await nested.create({ run, kind: 'fill', qty: 2 })
    assert.deepEqual(created, { id: created.id, run, kind: 'fill', qty: 2 })
    const found = await nested.find({ query: { run } })
    assert.ok(Array.isArray(found), 'this service does not paginate: find gives a plain list')
    assert.deepEqual(found, [created])
    assert.deepEqual(await nested.get(created.id), created)
    state.nested = created
    return created
  })

  await check(`${T}.route_params_and_query`, async () => {
    const query = onRest
      ? { a: '1', nested: { b: ['x', 'y'], c: 'z w' }, many: Array.from({ length: 25 }, (_, n) => `v${n}`), unicode: 'é€😀' }
      : { a: 1, nested: { b: ['x', 'y'], c: 'z w', t: true, nil: null }, many: Array.from({ length: 25 }, (_, n) => n), unicode: 'é€😀' }
    const echo = await routed.find({ route: { traderId: 'alice' }, query })
    assert.deepEqual(echo, { route: { traderId: 'alice' }, query, provider: onRest ? 'rest' : 'socketio' })
    return echo
  })

  await check(`${T}.remove.multi`, async () => {
    const removed = await messages.remove(null, { query: { run } })
    assert.ok(Array.isArray(removed), `expected a list, got ${JSON.stringify(removed)}`)
    assert.equal(removed.length, SEEDS)
    const expected = byId(state.seeds.map((record, n) => (n < 3 ? { ...record, flag: run } : record)))
    for (const record of removed) assert.deepEqual(record, expected.get(record.id))
    const left = await messages.find({ query: { run, $limit: 0 } })
    assert.equal(left.total, 0)
    state.multiRemoved = removed
    return { count: removed.length }
  })

  return state
}

// ---------------------------------------------------------------------------------------
// Events: one socket stays connected during both runs and records everything it receives
// (the default publisher sends every event to every connection).

function eventChecks (T, state, received) {
  // T names the checks: `socket.events.*` for the socket run, `socket.events_from_rest.*` for
  // the events that the REST run's calls pushed to the socket
  const of = (path, event) => received.filter((e) => e.path === path && e.event === event && e.data && e.data.run === state.run)

  return [
    check(`${T}.created`, async () => {
      const expected = [...state.seeds, state.single]
      await waitUntil(() => of('messages', 'created').length >= expected.length)
      const got = of('messages', 'created').map((e) => e.data)
      assert.equal(got.length, expected.length, 'one created event per created record')
      assert.deepEqual(byId(got), byId(expected))
      return { count: got.length }
    }),
    check(`${T}.patched`, async () => {
      const expected = [state.patched, ...state.multiPatched]
      await waitUntil(() => of('messages', 'patched').length >= expected.length)
      const got = of('messages', 'patched').map((e) => e.data)
      assert.equal(got.length, expected.length, 'single patch + one per multi-patched record')
      assert.deepEqual(got[0], state.patched)
      assert.deepEqual(byId(got.slice(1)), byId(state.multiPatched))
      return { count: got.length }
    }),
    check(`${T}.updated`, async () => {
      await waitUntil(() => of('messages', 'updated').length >= 1)
      const got = of('messages', 'updated').map((e) => e.data)
      assert.deepEqual(got, [state.updated])
      return got[0]
    }),
    check(`${T}.removed`, async () => {
      const expected = [state.removed, ...state.multiRemoved]
      await waitUntil(() => of('messages', 'removed').length >= expected.length)
      const got = of('messages', 'removed').map((e) => e.data)
      assert.equal(got.length, expected.length, 'single remove + one per multi-removed record')
      assert.deepEqual(got[0], state.removed)
      assert.deepEqual(byId(got.slice(1)), byId(state.multiRemoved))
      return { count: got.length }
    }),
    check(`${T}.nested_created`, async () => {
      await waitUntil(() => of(NESTED, 'created').length >= 1)
      // exactly one: the refused multi create must not have emitted anything
      assert.deepEqual(of(NESTED, 'created').map((e) => e.data), [state.nested])
      return state.nested
    })
  ]
}

// ---------------------------------------------------------------------------------------

async function main () {
  const socket = io(url, { reconnection: false, timeout: 10000 })
  const socketConnection = socketio(socket)
  const socketApp = feathers()
  socketApp.configure(socketConnection)
  socketApp.use('messages', socketConnection.service('messages'), { methods: MESSAGE_METHODS })

  const restConnection = rest(url).fetch(globalThis.fetch)
  const restApp = feathers()
  restApp.configure(restConnection)
  restApp.use('messages', restConnection.service('messages'), { methods: MESSAGE_METHODS })

  const received = []
  const unexpected = []
  const paths = ['messages', NESTED]
  const events = ['created', 'updated', 'patched', 'removed']
  for (const path of paths) {
    for (const event of events) {
      socketApp.service(path).on(event, (data, ...extra) => {
        received.push({ path, event, data, extraArguments: extra.length })
      })
    }
  }
  socket.onAny((name, ...args) => {
    const [path, event] = name.split(' ')
    if (!paths.includes(path) || !events.includes(event)) unexpected.push({ name, args })
  })

  const connected = await check('socket.connect', async () => {
    await withTimeout(new Promise((resolve, reject) => {
      if (socket.connected) return resolve()
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    }), 10000, 'socket connect')
    return { id: socket.id, transport: socket.io.engine.transport.name }
  })

  // REST first, then sockets, one after the other, so the event lists stay easy to read.
  const restState = await scenario('rest', restApp)
  const socketState = connected ? await scenario('socket', socketApp) : null

  if (connected) {
    await Promise.all([
      ...eventChecks('socket.events', socketState, received),
      ...eventChecks('socket.events_from_rest', restState, received)
    ])
    await check('socket.events.shape', async () => {
      await new Promise((resolve) => setTimeout(resolve, 200))
      assert.deepEqual(unexpected, [], 'no events other than <path> created/updated/patched/removed (find, get, custom methods and failed calls emit nothing)')
      assert.ok(received.every((e) => e.extraArguments === 0), 'each event carries exactly one payload argument')
      return { received: received.length, transport: socket.io.engine.transport.name }
    })
  }

  socket.disconnect()
}

finish(main)
