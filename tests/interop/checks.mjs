// What every interop script shares: one JSON line per check on stdout,
// {"check": name, "ok": bool, "detail": ...}, and an exit code of 1 when any check failed.

export const CHECK_TIMEOUT = 15000

let failures = 0

export function report (check, ok, detail) {
  if (!ok) failures += 1
  process.stdout.write(JSON.stringify({ check, ok, detail: detail === undefined ? null : detail }) + '\n')
}

export function describeError (error) {
  if (!error || typeof error !== 'object') return { thrown: String(error) }
  const described = { class: error.constructor && error.constructor.name, message: error.message }
  for (const key of ['name', 'code', 'className', 'data', 'errors', 'actual', 'expected']) {
    if (error[key] !== undefined) described[key] = error[key]
  }
  return described
}

export function withTimeout (promise, ms, what) {
  let timer
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

// Runs one check; its body returns the detail to print or throws (assert) to fail it.
// With `skip` set (an earlier check it depends on failed) it is reported as failed unrun;
// `timeout` (ms) bounds the body.
export async function check (name, body, { skip = false, timeout = CHECK_TIMEOUT } = {}) {
  if (skip) {
    report(name, false, { skipped: 'an earlier check this one depends on failed' })
    return false
  }
  try {
    const detail = await withTimeout(Promise.resolve().then(body), timeout, name)
    report(name, true, detail)
    return true
  } catch (error) {
    report(name, false, describeError(error))
    return false
  }
}

// Awaits a promise that must reject; returns the error.
export async function rejection (promise) {
  try {
    return { unexpectedResult: await promise }
  } catch (error) {
    return error
  }
}

// Runs the scenarios, then exits: 0 when every check passed, 1 otherwise, 2 on a crash.
export function finish (main) {
  main().then(
    () => {
      process.stderr.write(`${failures} check(s) failed\n`)
      process.exit(failures ? 1 : 0)
    },
    (error) => {
      report('client.crashed', false, describeError(error))
      process.exit(2)
    }
  )
}
