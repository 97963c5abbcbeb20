// Official Feathers clients (Socket.IO and REST, with authentication) for one platform
// service with custom methods: `methods` lists every method the client may call on `path`.

import { feathers } from '@feathersjs/feathers'
import rest from '@feathersjs/rest-client'
import socketio from '@feathersjs/socketio-client'
import authentication from '@feathersjs/authentication-client'
import { io } from 'socket.io-client'

export function serviceClients (url, path, methods) {
  function client (connection) {
    const app = feathers().configure(connection).configure(authentication())
    app.use(path, connection.service(path), { methods })
    return app
  }
  function socketClient () {
    const socket = io(url, { transports: ['websocket'], timeout: 10000 })
    return { app: client(socketio(socket)), socket }
  }
  const restClient = () => client(rest(url).fetch(globalThis.fetch))
  return { socketClient, restClient }
}
