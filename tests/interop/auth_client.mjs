// Drives the platform with the official @feathersjs/authentication-client (REST and Socket.IO).
//
//   node tests/interop/auth_client.mjs http://127.0.0.1:3030
//
// The server must serve `tests/interop/auth_app.py:create_app`. Each check prints one JSON
// line {"check": name, "ok": bool, "detail": ...}; the exit code is 1 when any check failed.
// test_authentication_client.py runs this and asserts on the lines.
//
// The central check is the reconnect: the socket client logs in with a password, the server
// cuts the connection underneath it (Engine.IO close, no Socket.IO disconnect packet), the
// Socket.IO client reconnects on its own, the authentication client re-authenticates with
// the stored token, and the next call succeeds without the password being sent again.

import assert from 'node:assert/strict'
import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { NotAuthenticated } from '@feathersjs/errors'
import { io } from 'socket.io-client'
import { check, finish, rejection, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const PASSWORD = 'correct horse battery'
const run = Date.now().toString(36)
const email = (name) => `${name}-${run}@example.com`

let skipRest = false

// A check that is reported unrun once a check it depends on failed.
const step = (name, body) => check(name, body, { skip: skipRest })

function assertNotAuthenticated (error, message) {
  assert.ok(!('unexpectedResult' in error), `expected NotAuthenticated, got ${JSON.stringify(error.unexpectedResult)}`)
  assert.ok(error instanceof NotAuthenticated, `expected NotAuthenticated, got ${error && error.name}: ${error && error.message}`)
  assert.equal(error.code, 401)
  assert.equal(error.className, 'not-authenticated')
  assert.equal(error.message, message)
  return { name: error.name, code: error.code, message: error.message }
}

function assertNoSecrets (user) {
  assert.equal(typeof user, 'object')
  assert.ok(!('password' in user), 'the user must come without its password hash')
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function restScenario () {
  const client = feathers().configure(rest(url).fetch(globalThis.fetch)).configure(authentication())
  const anonymous = feathers().configure(rest(url).fetch(globalThis.fetch))
  const me = email('rest')
  let user

  await step('rest.sign_up', async () => {
    user = await client.service('users').create({ email: me.toUpperCase(), password: PASSWORD })
    assert.equal(user.email, me)
    assertNoSecrets(user)
    return user
  })
  await step('rest.wrong_password', async () => {
    const wrong = await rejection(client.authenticate({ strategy: 'local', email: me, password: 'not the password' }))
    const unknown = await rejection(client.authenticate({ strategy: 'local', email: email('nobody'), password: PASSWORD }))
    return [assertNotAuthenticated(wrong, 'Invalid login'), assertNotAuthenticated(unknown, 'Invalid login')]
  })
  await step('rest.login', async () => {
    const result = await client.authenticate({ strategy: 'local', email: me, password: PASSWORD })
    assert.equal(typeof result.accessToken, 'string')
    assert.equal(result.authentication.strategy, 'local')
    assert.equal(result.authentication.payload.sub, String(user._id))
    assert.deepEqual(result.user, user)
    assert.equal(await client.authentication.getAccessToken(), result.accessToken)
    return { strategy: result.authentication.strategy, sub: result.authentication.payload.sub }
  })
  await step('rest.protected_call', async () => {
    const page = await client.service('users').find()
    assert.deepEqual(page.data, [user])
    return page.data.map((u) => u.email)
  })
  await step('rest.anonymous_call', async () => {
    return assertNotAuthenticated(await rejection(anonymous.service('users').find()), 'Not authenticated')
  })
  await step('rest.reauthenticate', async () => {
    const fresh = feathers().configure(rest(url).fetch(globalThis.fetch)).configure(authentication())
    await fresh.authentication.setAccessToken(await client.authentication.getAccessToken())
    const result = await fresh.reAuthenticate()
    assert.equal(result.authentication.strategy, 'jwt')
    assert.deepEqual((await fresh.service('users').find()).data, [user])
    return { strategy: result.authentication.strategy }
  })
  let loggedOutToken
  await step('rest.logout', async () => {
    loggedOutToken = await client.authentication.getAccessToken()
    const result = await client.logout()
    assert.deepEqual(result.user, user)
    assert.equal(await client.authentication.getAccessToken(), null)
    return assertNotAuthenticated(await rejection(client.service('users').find()), 'Not authenticated')
  })
  await step('rest.logged_out_token_is_dead', async () => {
    // Another client holding the same token (a copy of it) can no longer use it.
    const copy = feathers().configure(rest(url).fetch(globalThis.fetch)).configure(authentication())
    await copy.authentication.setAccessToken(loggedOutToken)
    const refused = assertNotAuthenticated(await rejection(copy.reAuthenticate()), 'Token revoked')
    assert.equal(await copy.authentication.getAccessToken(), null, 'the client drops a revoked token')
    return refused
  })
}

async function socketScenario () {
  const socket = io(url, { transports: ['websocket'], timeout: 10000, reconnectionDelay: 200, reconnectionDelayMax: 500 })
  const client = feathers().configure(socketio(socket)).configure(authentication())
  const me = email('socket')
  let user
  let firstSid
  let secondSid
  const patched = []
  client.service('users').on('patched', (data) => patched.push(data))

  const ready = await step('socket.connect', async () => {
    await new Promise((resolve, reject) => {
      if (socket.connected) return resolve()
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
    return { id: socket.id }
  })
  if (!ready) skipRest = true

  await step('socket.sign_up', async () => {
    user = await client.service('users').create({ email: me, password: PASSWORD })
    assertNoSecrets(user)
    return user
  })
  await step('socket.anonymous_call', async () => {
    return assertNotAuthenticated(await rejection(client.service('users').find()), 'Not authenticated')
  })
  await step('socket.wrong_password', async () => {
    const wrong = await rejection(client.authenticate({ strategy: 'local', email: me, password: 'not the password' }))
    return assertNotAuthenticated(wrong, 'Invalid login')
  })
  const loggedIn = await step('socket.login', async () => {
    const result = await client.authenticate({ strategy: 'local', email: me, password: PASSWORD })
    assert.equal(result.authentication.strategy, 'local')
    assert.deepEqual(result.user, user)
    firstSid = socket.id
    return { sid: firstSid, sub: result.authentication.payload.sub }
  })
  await step('socket.protected_call', async () => {
    const page = await client.service('users').find()
    assert.deepEqual(page.data, [user])
    return page.data.map((u) => u.email)
  })
  if (!loggedIn) skipRest = true

  const dropped = await step('socket.dropped_by_server', async () => {
    const reconnected = new Promise((resolve) => socket.io.once('reconnect', resolve))
    const disconnected = new Promise((resolve) => socket.once('disconnect', resolve))
    const answer = await client.service('connection-drop').create({})
    assert.equal(answer.dropping, firstSid)
    const reason = await withTimeout(disconnected, 5000, 'the server dropping the socket')
    assert.equal(reason, 'transport close', 'a lost connection, which the client reconnects by itself')
    const attempt = await withTimeout(reconnected, 10000, 'the client reconnecting')
    await withTimeout(new Promise((resolve) => (socket.connected ? resolve() : socket.once('connect', resolve))), 5000, 'connect')
    secondSid = socket.id
    assert.notEqual(secondSid, firstSid, 'a reconnect is a new Socket.IO session')
    return { reason, attempt, firstSid, secondSid }
  })
  if (!dropped) skipRest = true

  await step('socket.call_after_reconnect', async () => {
    // No password, no explicit authenticate(): the client re-authenticates with the stored token.
    const page = await client.service('users').find()
    assert.deepEqual(page.data, [user])
    assert.equal(socket.id, secondSid)
    return page.data.map((u) => u.email)
  })
  await step('socket.server_saw_a_token_login_on_the_new_connection', async () => {
    const log = (await client.service('connection-log').find()).filter((e) => e.sid === firstSid || e.sid === secondSid)
    const summary = log.map((e) => [e.event, e.sid === firstSid ? 'first' : 'second', e.strategy])
    assert.deepEqual(summary, [
      ['connection', 'first', null],
      ['login', 'first', 'local'],
      ['disconnect', 'first', null],
      ['connection', 'second', null],
      ['login', 'second', 'jwt']
    ])
    assert.ok(log.filter((e) => e.event === 'login').every((e) => e.userId === user._id))
    return summary
  })
  await step('socket.events_after_reconnect', async () => {
    const updated = await client.service('users').patch(user._id, { name: 'after reconnect' })
    for (let waited = 0; patched.length === 0 && waited < 5000; waited += 50) await sleep(50)
    assert.equal(patched.length, 1, 'the re-authenticated socket is back in its user channel')
    assert.deepEqual(patched[0], updated)
    assertNoSecrets(patched[0])
    return patched[0].name
  })
  let socketToken
  await step('socket.logout', async () => {
    socketToken = await client.authentication.getAccessToken()
    const result = await client.logout()
    assert.equal(result.user._id, user._id)
    return assertNotAuthenticated(await rejection(client.service('users').find()), 'Not authenticated')
  })
  await step('socket.logged_out_token_is_dead', async () => {
    const copy = feathers().configure(rest(url).fetch(globalThis.fetch))
    const refused = await rejection(copy.service('users').find({ headers: { Authorization: `Bearer ${socketToken}` } }))
    return assertNotAuthenticated(refused, 'Token revoked')
  })

  socket.disconnect()
}

async function main () {
  await restScenario()
  skipRest = false
  await socketScenario()
}

finish(main)
