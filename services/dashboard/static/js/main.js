// Boot: connect, log back in with a kept token or show the login form, then the panels.
import { createClient } from './client.js'
import { fill } from './dom.js'
import { loginView } from './login.js'
import { accountsPanel } from './accounts.js'
import { tickersPanel } from './tickers.js'

const { client, socket } = createClient()
const main = document.getElementById('main')
const connection = document.getElementById('connection')
const who = document.getElementById('who')
const logout = document.getElementById('logout')

function showConnection (state) {
  connection.dataset.state = state
  connection.textContent = state
}
socket.on('connect', () => showConnection('connected'))
socket.on('disconnect', () => showConnection('disconnected'))
socket.io.on('reconnect_attempt', () => showConnection('reconnecting'))

/** The panels of a logged-in user; each one keeps itself up to date from service events. */
function dashboard (user) {
  who.textContent = user.email
  logout.hidden = false
  const context = { client, user }
  fill(main, ...[accountsPanel, tickersPanel].map((make) => make(context)))
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
