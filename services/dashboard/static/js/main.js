// Boot: connect, log back in with a kept token or show the login form, then the panels.
import { createClient } from './client.js'
import { errorText, fill, h } from './dom.js'
import { loginView } from './login.js'
import { accountsPanel } from './accounts.js'
import { tickersPanel } from './tickers.js'
import { tradersPanel } from './traders.js'
import { backtestsPanel } from './backtests.js'
import { notificationsPanel } from './notifications.js'
import { refreshAll } from './live.js'

const { client, socket } = createClient()
const main = document.getElementById('main')
const connection = document.getElementById('connection')
const who = document.getElementById('who')
const logout = document.getElementById('logout')

function showConnection (state) {
  connection.dataset.state = state
  connection.textContent = state
}
let loggedIn = false
socket.on('connect', () => showConnection('connected'))
socket.on('disconnect', () => showConnection('disconnected'))
socket.io.on('reconnect_attempt', () => showConnection('reconnecting'))
// Back after a drop: log the new socket in with the kept token (the Feathers client tries too),
// then reload what may have changed meanwhile; a token that no longer works means logging in.
socket.io.on('reconnect', () => {
  if (!loggedIn) return
  client.reAuthenticate(true).then(refreshAll, () => window.location.reload())
})

/** The panels, each with the services it needs: a server without them shows the others. */
const PANELS = [
  { make: accountsPanel, needs: ['exchanges'] },
  { make: tickersPanel, needs: ['exchanges/watchlist', 'exchanges/ticker'] },
  { make: notificationsPanel, needs: ['messages'] },
  { make: tradersPanel, needs: ['traders', 'traders/pods/events', 'trades', 'strategies', 'exchanges'], wide: true },
  { make: backtestsPanel, needs: ['backtests', 'strategies', 'candles'], wide: true }
]

/** The panels of a logged-in user; each one keeps itself up to date from service events. */
async function dashboard (user) {
  loggedIn = true
  who.textContent = user.email
  logout.hidden = false
  const { services } = await client.service('health').find()
  const context = { client, user, services }
  fill(main, ...PANELS.filter(({ needs }) => needs.every((path) => services.includes(path))).map(({ make, wide }) => {
    const element = make(context)
    if (wide) element.classList.add('wide')
    return element
  }))
}

function login () {
  who.textContent = ''
  logout.hidden = true
  fill(main, loginView(client, ({ user }) => dashboard(user)))
}

logout.addEventListener('click', async () => {
  try { await client.logout() } finally { window.location.reload() }
})
client.on('logout', () => window.location.reload())

client.reAuthenticate().then(({ user }) => dashboard(user), () => login())
  .catch((error) => fill(main, h('p', { class: 'status error' }, errorText(error))))
