// Notifications: the user's `messages` (trader errors, fills, signals, risk limits, ...) with an
// unread count in the top bar, marked read one by one or all at once; below them the latest
// system `events` (server started/stopping, feeds dropped/recovered, maintenance), where the
// server has that service. Both arrive as `created` events without any subscription call.
import { errorText, h, panel, when } from './dom.js'
import { liveList } from './live.js'

const SYSTEM_SHOWN = 5

export function notificationsPanel ({ client, services }) {
  const messages = client.service('messages')
  const badge = document.getElementById('unread')
  const status = h('p', { class: 'status', role: 'status' })
  const fail = (error) => { status.textContent = errorText(error) }

  async function countUnread () {
    const page = await messages.find({ query: { read: false, $limit: 0 } })
    badge.hidden = page.total === 0
    badge.textContent = `${page.total} unread`
  }
  for (const event of ['created', 'patched', 'removed']) messages.on(event, () => countUnread().catch(fail))
  countUnread().catch(fail)

  const row = (message) => h('div', { class: `notice ${message.read ? '' : 'unread'} ${message.kind}`, dataset: { id: message._id, kind: message.kind } },
    h('div', { class: 'card-title' },
      h('strong', {}, message.title),
      h('span', { class: 'tag' }, message.kind),
      h('span', { class: 'spacer' }),
      h('span', { class: 'muted time' }, when(message.createdAt)),
      !message.read && h('button', { type: 'button', class: 'small read', onClick: () => messages.patch(message._id, { read: true }).catch(fail) }, 'Mark read'),
      h('button', { type: 'button', class: 'small danger', title: 'Delete', onClick: () => messages.remove(message._id).catch(fail) }, '×')),
    message.body && h('div', { class: 'muted' }, message.body))
  const list = liveList(messages, { row, limit: 30, empty: 'No notification yet.' })

  const markAll = h('button', {
    type: 'button',
    class: 'small',
    onClick: () => Promise.all([...list.records.values()].filter((m) => !m.read).map((m) => messages.patch(m._id, { read: true }))).catch(fail)
  }, 'Mark all read')

  const parts = [h('div', { class: 'actions' }, markAll), list.element, status]
  if (services.includes('events')) {
    const systemRow = (event) => h('div', { class: `notice system ${event.level}`, dataset: { id: event._id, type: event.type } },
      h('span', { class: 'muted time' }, when(event.createdAt)), ' ', event.message)
    parts.push(h('h3', {}, 'System'), liveList(client.service('events'), { row: systemRow, limit: SYSTEM_SHOWN, empty: 'Nothing to report.' }).element)
  }
  return panel('notifications', 'Notifications', ...parts)
}
