// DOM helpers: elements are built with textContent, never from HTML strings, so whatever a
// record holds is shown as text.

/** `h('tr', {class: 'x', dataset: {id}}, child, ...)`: an element; strings become text nodes,
 *  `on<Event>` attributes become listeners, null/false children are skipped. */
export function h (tag, attributes = {}, ...children) {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2).toLowerCase(), value)
    else if (name === 'dataset') Object.assign(element.dataset, value)
    else if (name === 'class') element.className = value
    else if (name in element && typeof value !== 'string') element[name] = value
    else element.setAttribute(name, value === true ? '' : value)
  }
  element.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== false)
    .map((child) => (child instanceof Node ? child : document.createTextNode(String(child)))))
  return element
}

/** Replace the children of `element`. */
export function fill (element, ...children) {
  element.replaceChildren()
  element.append(...children.flat().filter(Boolean))
  return element
}

/** A panel: `<section id=...><h2>title</h2>...body</section>`. */
export function panel (id, title, ...body) {
  return h('section', { class: 'panel', id }, h('h2', {}, title), ...body)
}

/** A number for people: `digits` significant decimals, '—' for null. */
export function number (value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  const magnitude = Math.abs(value)
  const decimals = magnitude >= 1000 ? 2 : magnitude >= 1 ? Math.max(digits, 2) : Math.max(digits, 6)
  return Number(value).toLocaleString('en-US', { minimumFractionDigits: 0, maximumFractionDigits: decimals })
}

/** A signed percentage ('+1.25 %'). */
export function percent (value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—'
  return `${value > 0 ? '+' : ''}${Number(value).toFixed(2)} %`
}

/** A local date-time for an ISO string or milliseconds. */
export function when (value) {
  if (value === null || value === undefined) return '—'
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString([], { hour12: false })
}

/** The message of a Feathers error (with its machine code) for a status line. */
export function errorText (error) {
  const code = error && error.data && error.data.code
  const fields = error && error.errors && typeof error.errors === 'object'
    ? Object.entries(error.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join(', ')}`).join('; ')
    : ''
  return [error && error.message, fields, code ? `(${code})` : ''].filter(Boolean).join(' ')
}

/** A form's fields as an object of strings. */
export function formValues (form) {
  return Object.fromEntries(new FormData(form).entries())
}

/** Run `work` for a form's submit: the button is disabled meanwhile and `status` shows the error. */
export function onSubmit (form, status, work) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const button = form.querySelector('button[type=submit]')
    if (button) button.disabled = true
    status.textContent = ''
    status.classList.remove('error')
    try {
      await work(formValues(form))
    } catch (error) {
      status.textContent = errorText(error)
      status.classList.add('error')
    } finally {
      if (button) button.disabled = false
    }
  })
}

/** Every record of a paginated `find` (pages of the service's size), up to `max`. */
export async function findAll (service, query = {}, max = 500) {
  const records = []
  for (;;) {
    const page = await service.find({ query: { ...query, $skip: records.length } })
    const data = Array.isArray(page) ? page : page.data
    records.push(...data)
    if (Array.isArray(page) || data.length === 0 || records.length >= Math.min(page.total, max)) return records
  }
}
