// Rate limits as the official Feathers clients see them (REST, Socket.IO, authentication-client).
//
//   CRYPTOROBOT_ENV=test CRYPTOROBOT_RATELIMIT__TIERS__FREE__REQUESTS=3 cryptorobot serve --port 3030
//   node tests/interop/limits_client.mjs http://127.0.0.1:3030
//
// The server is the platform with a free tier of 3 calls a minute and 1 realtime connection.
// Each check prints one JSON line; test_limits_client.py runs this and asserts on the lines.
//
// * A free user's 4th call is rejected with an error the client rebuilds as TooManyRequests,
//   its machine code in `data.code`, over REST and then over a socket (one budget).
// * A second socket logging in as the same free user makes the server close the first: it
//   receives `connection-closed` with a Feathers error it can show, then a server disconnect,
//   after which it does not try to reconnect; the second socket goes on.

import assert from 'node:assert/strict'
import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { TooManyRequests, convert } from '@feathersjs/errors'
import { io } from 'socket.io-client'
import { check, finish, rejection, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const PASSWORD = 'correct horse battery'
const run = Date.now().toString(36)
const email = (name) => `${name}-${run}@example.com`

function assertRateLimited (error) {
  assert.ok(!('unexpectedResult' in error), `expected a rejection, got ${JSON.stringify(error.unexpectedResult)}`)
  assert.ok(error instanceof TooManyRequests, `expected TooManyRequests, got ${error && error.name}`)
  assert.equal(error.code, 429)
  assert.equal(error.className, 'too-many-requests')
  assert.equal(error.data.code, 'RATE_LIMIT_EXCEEDED')
  assert.equal(error.data.limit, 'ratelimit.tiers.free.requests')
  assert.ok(error.data.retryAfter >= 1 && error.data.retryAfter <= 60, `retryAfter ${error.data.retryAfter}`)
  return { name: error.name, code: error.data.code, retryAfter: error.data.retryAfter }
}

function connected (socket) {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve()
    socket.once('connect', resolve)
    socket.once('connect_error', reject)
  })
}

async function budgetScenario () {
  const client = feathers().configure(rest(url).fetch(globalThis.fetch)).configure(authentication())
  const me = email('budget')
  let token

  const ready = await check('budget.sign_up_and_login', async () => {
    await client.service('users').create({ email: me, password: PASSWORD })
    token = (await client.authenticate({ strategy: 'local', email: me, password: PASSWORD })).accessToken
    return { tier: (await client.get('authentication')).user.tier }
  })
  await check('budget.rest_calls_then_429', async () => {
    for (let n = 0; n < 3; n++) await client.service('users').find()
    return assertRateLimited(await rejection(client.service('users').find()))
  }, { skip: !ready })
  await check('budget.socket_calls_share_it', async () => {
    const socket = io(url, { transports: ['websocket'], reconnection: false })
    try {
      const app = feathers().configure(socketio(socket)).configure(authentication())
      await connected(socket)
      await app.authenticate({ strategy: 'jwt', accessToken: token }) // a login: charged to the address
      return assertRateLimited(await rejection(app.service('users').find()))
    } finally {
      socket.disconnect()
    }
  }, { skip: !ready })
}

async function connectionScenario () {
  const me = email('sockets')
  const first = io(url, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 200 })
  const second = io(url, { transports: ['websocket'], reconnectionDelay: 100, reconnectionDelayMax: 200 })
  const one = feathers().configure(socketio(first)).configure(authentication())
  const two = feathers().configure(socketio(second)).configure(authentication())
  const closing = new Promise((resolve) => first.once('connection-closed', resolve))
  const disconnected = new Promise((resolve) => first.once('disconnect', resolve))

  try {
    const ready = await check('connections.first_login', async () => {
      await connected(first)
      await one.service('users').create({ email: me, password: PASSWORD })
      await one.authenticate({ strategy: 'local', email: me, password: PASSWORD })
      return { id: first.id }
    })
    await check('connections.second_login_closes_the_first', async () => {
      await connected(second)
      await two.authenticate({ strategy: 'local', email: me, password: PASSWORD })
      const reason = convert(await withTimeout(closing, 5000, 'connection-closed on the first socket'))
      assert.ok(reason instanceof TooManyRequests, `the reason rebuilds as TooManyRequests, got ${reason.name}`)
      assert.equal(reason.data.code, 'CONNECTION_LIMIT_EXCEEDED')
      assert.equal(reason.data.max, 1)
      assert.match(reason.message, /newer connection/)
      const why = await withTimeout(disconnected, 5000, 'the first socket disconnected')
      assert.equal(why, 'io server disconnect')
      assert.equal(first.active, false, 'a server disconnect: the client does not reconnect by itself')
      return { message: reason.message, code: reason.data.code, disconnect: why }
    }, { skip: !ready })
    await check('connections.the_newest_goes_on', async () => {
      const page = await two.service('users').find()
      assert.equal(page.data[0].email, me)
      assert.equal(second.connected, true)
      return { id: second.id }
    }, { skip: !ready })
  } finally {
    first.disconnect()
    second.disconnect()
  }
}

async function main () {
  await budgetScenario()
  await connectionScenario()
}

finish(main)
