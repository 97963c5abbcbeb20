// qs.parse as a Feathers 5 Koa server runs it (koa-qs "extended" mode: qs defaults), next to
// the same parse with cryptorobot's one deliberate option difference (arrayLimit 1000).
// Reads one JSON-encoded query string per stdin line and answers each with one JSON line,
// {"qs": <qs.parse(s)>, "qs1000": <qs.parse(s, {arrayLimit: 1000})>}, or {"error": message}.
// Driven by tests/interop/test_querystring_qs.py: one process answers every input.

import { createInterface } from 'node:readline'
import qs from 'qs'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  let answer
  try {
    const raw = JSON.parse(line)
    answer = { qs: qs.parse(raw), qs1000: qs.parse(raw, { arrayLimit: 1000 }) }
  } catch (error) {
    answer = { error: String(error && error.message) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
