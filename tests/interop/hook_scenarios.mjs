// Runs hook scenarios through @feathersjs/feathers itself: the reference for cryptorobot's hook
// runner. Reads one JSON scenario per stdin line and answers each with one JSON line,
// {"trace": [...], "outcome": {...}}. tests/interop/hook_scenarios.py runs the same scenarios
// through cryptorobot (the format is described there); test_hooks_feathers.py compares.

import { createInterface } from 'node:readline'
import { feathers } from '@feathersjs/feathers'
import * as errors from '@feathersjs/errors'

const ARGUMENTS = {
  find: [],
  get: [7],
  create: [{ x: 1 }],
  update: [7, { x: 1 }],
  patch: [7, { x: 1 }],
  remove: [7]
}

const describe = (error) => (error ? `${error.name}:${error.message}` : null)
const resultOf = (context) => (context.result === undefined ? null : context.result)
const originalOf = (context) => (context.original ? describe(context.original.error) : '-')

function record (trace, label, context, caught) {
  const entry = [label, context.type, describe(context.error), resultOf(context), originalOf(context)]
  if (caught !== undefined) entry.push(describe(caught))
  trace.push(entry)
}

// Applies a hook's actions; returns what the hook returns (a value to merge, or undefined).
function act (actions, name, context, caught) {
  let returned
  for (const action of actions || []) {
    const [verb, errorName] = action.split(':')
    if (verb === 'throw') throw new errors[errorName](name)
    else if (verb === 'rethrow') throw caught
    else if (verb === 'set_error') context.error = new errors[errorName](name)
    else if (verb === 'clear_error') context.error = undefined
    else if (verb === 'set_result') context.result = { by: name }
    else if (verb === 'set_result_null') context.result = null
    else if (verb === 'return_result') returned = { result: { by: name } }
    else if (verb === 'return_error') returned = { error: new errors[errorName](name) }
    else throw new Error(`unknown action ${action}`)
  }
  return returned
}

function regularHook (trace, spec) {
  return async (context) => {
    record(trace, spec.name, context)
    return act(spec.do, spec.name, context)
  }
}

function aroundHook (trace, spec) {
  return async (context, next) => {
    record(trace, `${spec.name}:in`, context)
    act(spec.in, spec.name, context)
    if (spec.next !== false) {
      if (spec.catch) {
        try {
          await next()
        } catch (caught) {
          record(trace, `${spec.name}:catch`, context, caught)
          act(spec.catch, spec.name, context, caught)
        }
      } else {
        await next()
      }
    }
    record(trace, `${spec.name}:out`, context)
    act(spec.out, spec.name, context)
  }
}

function hookMap (trace, registration) {
  if (Array.isArray(registration)) return registration.map((spec) => aroundHook(trace, spec))
  const map = {}
  for (const [kind, byMethod] of Object.entries(registration)) {
    map[kind] = {}
    const build = kind === 'around' ? aroundHook : regularHook
    for (const [method, specs] of Object.entries(byMethod)) {
      map[kind][method] = specs.map((spec) => build(trace, spec))
    }
  }
  return map
}

async function run (scenario) {
  const trace = []
  const method = (name) => async () => {
    trace.push(['method', name])
    if (scenario.fail) throw new errors[scenario.fail]('method')
    return { method: name }
  }
  const app = feathers()
  app.use('things', Object.fromEntries(Object.keys(ARGUMENTS).map((name) => [name, method(name)])))
  for (const event of ['created', 'updated', 'patched', 'removed']) {
    app.service('things').on(event, (data) => trace.push(['event', event, data === undefined ? null : data]))
  }
  for (const registration of scenario.app || []) app.hooks(hookMap(trace, registration))
  for (const registration of scenario.service || []) app.service('things').hooks(hookMap(trace, registration))
  let outcome
  try {
    const result = await app.service('things')[scenario.method](...ARGUMENTS[scenario.method])
    outcome = { result: result === undefined ? null : result }
  } catch (error) {
    outcome = { error: describe(error), code: error.code === undefined ? null : error.code }
  }
  return { trace, outcome }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  let answer
  try {
    answer = await run(JSON.parse(line))
  } catch (error) {
    answer = { crash: String(error && error.stack) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
