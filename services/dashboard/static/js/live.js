// A list of records kept current from the service's events: the records a `find` returned,
// then `created` added (newest first), `patched`/`updated` redrawn in place, `removed` dropped.
// Events reach only the owner's sockets (the server's channels), with no subscription call.
import { errorText, fill, findAll, h } from './dom.js'

/** What to run when the socket is back after a drop (events sent meanwhile were lost): every
 *  list reloads itself; panels add what else they keep (`refreshers.add(fn)`). */
export const refreshers = new Set()

/** Run every refresher (after a reconnection and the login it restores). */
export function refreshAll () {
  for (const refresh of refreshers) refresh()
}

/**
 * `liveList(service, {query, row, empty, accept, limit})` -> `{element, records, redraw, loaded}`
 * (`loaded`: a promise of the first `find`'s end).
 * `row(record)` draws one record (an element); `empty` is shown when there are none;
 * `accept(record)` filters events (default: all); `limit` caps the rows kept.
 */
export function liveList (service, { query = {}, row, empty = 'Nothing yet.', accept = () => true, limit = 200, tag = 'div', attributes = {} }) {
  const records = new Map()
  const element = h(tag, { class: 'live-list', ...attributes })

  function redraw () {
    const rows = [...records.values()].slice(0, limit).map(row)
    fill(element, ...(rows.length ? rows : [h('p', { class: 'muted empty' }, empty)]))
  }
  function put (record, first = false) {
    if (!accept(record)) return
    if (first && !records.has(record._id)) {
      const rest = [...records.entries()]
      records.clear()
      records.set(record._id, record)
      for (const [id, value] of rest.slice(0, limit - 1)) records.set(id, value)
    } else {
      records.set(record._id, record)
    }
    redraw()
  }
  service.on('created', (record) => put(record, true))
  service.on('patched', (record) => put(record))
  service.on('updated', (record) => put(record))
  service.on('removed', (record) => { records.delete(record._id); redraw() })

  async function load (reset = false) {
    try {
      const found = await findAll(service, { $sort: { createdAt: -1 }, ...query }, limit)
      if (reset) records.clear()
      for (const record of found) if (accept(record) && !records.has(record._id)) records.set(record._id, record)
      redraw()
    } catch (error) {
      fill(element, h('p', { class: 'status error' }, errorText(error)))
    }
  }
  refreshers.add(() => load(true))
  return { element, records, redraw, loaded: load() }
}
