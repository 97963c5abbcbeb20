// The official Feathers clients across a server restart (SIGTERM, then a new process on the
// same port and data directory).
//
//   node tests/interop/restart_client.mjs http://127.0.0.1:3030 [other sockets]
//
// The server must serve `tests/interop/auth_app.py:create_app` with SQLite storage. The
// script logs in with @feathersjs/authentication-client over @feathersjs/socketio-client and
// opens more plain Socket.IO sockets, then prints the check "ready": test_restart.py stops the
// server, starts it again and writes a line to the script's stdin. The clients must see a lost connection (not "io server
// disconnect", which Socket.IO never reconnects), reconnect by themselves, and the Feathers
// client must log in again with its stored token: its next call succeeds without the password.
// One JSON line per check, as checks.mjs prints them; exit code 1 when one failed.

import assert from 'node:assert/strict'
import { createInterface } from 'node:readline'
import { feathers } from '@feathersjs/feathers'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { io } from 'socket.io-client'
import { check, finish, report, withTimeout } from './checks.mjs'

const url = (process.argv[2] || 'http://127.0.0.1:3030').replace(/\/+$/, '')
const others = Number(process.argv[3] || 0)
const RESTART = 60000 // the longest wait for the server to come back (a loaded machine)
const PASSWORD = 'correct horse battery'
const email = `restart-${Date.now().toString(36)}@example.com`

const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve))
const connected = (socket) => new Promise((resolve, reject) => {
  if (socket.connected) return resolve()
  socket.once('connect', resolve)
  socket.once('connect_error', reject)
})

async function main () {
  // Socket.IO's default reconnection settings; only the Feathers call timeout is raised, so
  // that the re-authentication sent at the disconnect may wait for the restarted server.
  const socket = io(url, { transports: ['websocket'] })
  const client = feathers().configure(socketio(socket, { timeout: RESTART })).configure(authentication())
  const sockets = Array.from({ length: others }, () => io(url, { transports: ['websocket'], forceNew: true }))
  let user

  const loggedIn = await check('socket.login', async () => {
    await connected(socket)
    user = await client.service('users').create({ email, password: PASSWORD })
    const result = await client.authenticate({ strategy: 'local', email, password: PASSWORD })
    assert.equal(result.user._id, user._id)
    assert.deepEqual(await client.service('users').get(user._id), user)
    return { sid: socket.id }
  })
  const allConnected = await check('sockets.connected', async () => {
    await Promise.all(sockets.map(connected))
    return sockets.length
  })
  if (!loggedIn || !allConnected) return

  const firstSid = socket.id
  const disconnected = once(socket, 'disconnect')
  const reasons = Promise.all(sockets.map((other) => once(other, 'disconnect')))
  const reconnected = once(socket.io, 'reconnect')
  const othersReconnected = Promise.all(sockets.map((other) => once(other.io, 'reconnect')))
  const reauthenticated = once(client, 'login')
  const restarted = once(createInterface({ input: process.stdin }), 'line')
  report('ready', true, { sid: firstSid })

  const lost = await check('socket.lost_connection', async () => {
    const reason = await withTimeout(disconnected, RESTART, 'the server stopping')
    assert.equal(reason, 'transport close', 'a lost connection, which the client reconnects by itself')
    return reason
  }, { timeout: RESTART })
  await check('sockets.lost_connection', async () => {
    const all = await withTimeout(reasons, RESTART, 'the server stopping')
    assert.deepEqual([...new Set(all)], sockets.length ? ['transport close'] : [])
    return all.length
  }, { timeout: RESTART })
  // The process stays (its sockets open) until the test has stopped and restarted the server.
  await withTimeout(restarted, RESTART * 2, 'the test restarting the server')
  // A client told "io server disconnect" never comes back: the rest would only time out.
  const skip = !lost
  await check('socket.reconnected', async () => {
    const attempts = await withTimeout(reconnected, RESTART, 'the client reconnecting')
    await connected(socket)
    assert.notEqual(socket.id, firstSid, 'a new Socket.IO session on the new server')
    return { attempts }
  }, { timeout: RESTART, skip })
  await check('socket.reauthenticated', async () => {
    const result = await withTimeout(reauthenticated, RESTART, 'the client logging in again')
    assert.equal(result.authentication.strategy, 'jwt', 'with the stored token, not the password')
    assert.equal(result.user._id, user._id)
    return result.authentication.strategy
  }, { timeout: RESTART, skip })
  await check('socket.call_after_restart', async () => {
    assert.deepEqual(await client.service('users').get(user._id), user)
    const page = await client.service('users').find()
    assert.deepEqual(page.data, [user])
    return page.data.map((found) => found.email)
  }, { skip })
  await check('sockets.reconnected', async () => {
    await withTimeout(othersReconnected, RESTART, 'every socket reconnecting')
    await Promise.all(sockets.map(connected))
    return sockets.length
  }, { timeout: RESTART, skip })
  socket.disconnect()
  sockets.forEach((other) => other.disconnect())
}

finish(main)
