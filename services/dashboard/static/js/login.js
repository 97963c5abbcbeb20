// Log in, or sign up and then log in (`users` create, then `authentication` local).
import { h, onSubmit } from './dom.js'

/** The login form; `done(authResult)` once logged in. */
export function loginView (client, done) {
  const status = h('p', { class: 'status', role: 'status' })
  const form = h('form', { class: 'login', id: 'login-form' },
    h('h2', {}, 'Log in'),
    h('label', {}, 'Email', h('input', { name: 'email', type: 'email', required: true, autocomplete: 'username' })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', required: true, minlength: '8', autocomplete: 'current-password' })),
    h('label', { class: 'inline' }, h('input', { name: 'signup', type: 'checkbox', value: 'yes' }), 'New here: sign up first'),
    h('button', { type: 'submit' }, 'Log in'),
    status)
  onSubmit(form, status, async ({ email, password, signup }) => {
    if (signup) await client.service('users').create({ email, password })
    await done(await client.authenticate({ strategy: 'local', email, password }))
  })
  return h('div', { class: 'center' }, form)
}
