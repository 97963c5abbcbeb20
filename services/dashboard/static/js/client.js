// The Feathers client over Socket.IO, as any client of the API would make it. The page's
// origin is the server: nothing else is contacted.
/* global io, feathers */

/** Services with custom methods must declare every method to the client. */
const METHODS = {
  exchanges: ['find', 'get', 'create', 'patch', 'remove', 'balance', 'check'],
  'exchanges/ticker': ['find', 'get', 'subscribe', 'unsubscribe'],
  'exchanges/watchlist': ['find', 'get', 'create', 'remove'],
  traders: ['find', 'get', 'create', 'patch', 'remove', 'start', 'stop'],
  backtests: ['find', 'get', 'create', 'patch', 'remove', 'cancel']
}

/** `{client, socket}`: a Feathers app on a websocket to this server, with authentication
 *  (the token kept in localStorage, so a reload logs back in). */
export function createClient () {
  const socket = io({ transports: ['websocket'] })
  const connection = feathers.socketio(socket, { timeout: 20000 })
  const client = feathers().configure(connection).configure(feathers.authentication({ storage: window.localStorage }))
  for (const [path, methods] of Object.entries(METHODS)) {
    client.use(path, connection.service(path), { methods })
  }
  return { client, socket }
}
