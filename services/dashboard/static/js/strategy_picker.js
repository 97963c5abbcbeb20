// Choosing what to run: one of the user's strategies, or a type of the catalogue
// (`strategies/types`) with its settings as inputs. Shared by the traders and backtests forms.
import { fill, findAll, h } from './dom.js'
import { settingsInputs, settingsValues } from './settings.js'

/**
 * `strategyPicker(client, {onError})` -> `{select, settings, chosen(values)}`: `select` and the
 * `settings` box go into a form; `chosen(formValues)` is `{strategy}` (one of yours) or
 * `{type, settings}` (a type and the settings typed in).
 */
export function strategyPicker (client, { onError = () => {} } = {}) {
  const strategies = client.service('strategies')
  const select = h('select', { name: 'strategy', required: true })
  const settings = h('div', { class: 'settings row-form inner' })
  let types = []
  let mine = []

  function chosenType () {
    return select.value.startsWith('type:') ? types.find((type) => `type:${type.type}` === select.value) : null
  }
  function showSettings () {
    const type = chosenType()
    fill(settings, ...(type ? settingsInputs(type.settings) : [h('span', { class: 'muted' }, 'The strategy\'s own settings.')]))
  }
  async function refresh () {
    mine = await findAll(strategies)
    const before = select.value
    fill(select,
      h('optgroup', { label: 'New strategy of type' }, ...types.map((type) => h('option', { value: `type:${type.type}` }, type.name))),
      mine.length > 0 && h('optgroup', { label: 'Your strategies' }, ...mine.map((strategy) =>
        h('option', { value: strategy._id }, `${strategy.name} (${strategy.type}, ${strategy.pair})`))))
    if (before && [...select.options].some((option) => option.value === before)) select.value = before
    else showSettings()
  }
  select.addEventListener('change', showSettings)
  for (const event of ['created', 'patched', 'removed']) strategies.on(event, () => refresh().catch(onError))
  client.service('strategies/types').find().then((found) => {
    types = Array.isArray(found) ? found : found.data
    return refresh().then(showSettings)
  }).catch(onError)

  return {
    select,
    settings,
    chosen (values) {
      const type = chosenType()
      if (type) return { type, settings: settingsValues(values, type.settings) }
      return { strategy: mine.find((strategy) => strategy._id === values.strategy) }
    }
  }
}
