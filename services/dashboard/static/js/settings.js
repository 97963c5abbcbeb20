// A strategy type's settings (HaasOnline's shape: key, name, type `number`/`option`/..., value,
// options, min, max, step) as form inputs, and the values a form holds for them.
import { h } from './dom.js'

/** Inputs for `settings` (the type's list), named `setting.<key>`, holding the defaults. */
export function settingsInputs (settings) {
  return settings.map((setting) => {
    const name = `setting.${setting.key}`
    const input = setting.type === 'option'
      ? h('select', { name }, ...setting.options.map((option) => h('option', { value: option, selected: option === setting.value }, option)))
      : setting.type === 'boolean'
        ? h('select', { name }, h('option', { value: 'true', selected: setting.value === true }, 'yes'), h('option', { value: 'false', selected: setting.value === false }, 'no'))
        : h('input', {
          name, type: setting.type === 'number' ? 'number' : 'text', value: String(setting.value ?? ''), step: setting.step ?? 'any',
          min: setting.min ?? null, max: setting.max ?? null, size: '7'
        })
    return h('label', { title: setting.description || '' }, setting.name || setting.key, input)
  })
}

/** `{key: value}` of the `setting.<key>` fields of a form's values, typed as `settings` say. */
export function settingsValues (values, settings) {
  const result = {}
  for (const setting of settings) {
    const raw = values[`setting.${setting.key}`]
    if (raw === undefined || raw === '') continue
    result[setting.key] = setting.type === 'number' ? Number(raw) : setting.type === 'boolean' ? raw === 'true' : raw
  }
  return result
}
