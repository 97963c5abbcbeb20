// qs.stringify as @feathersjs/rest-client calls it (qs defaults), for the Python client's
// encoder. Reads one JSON value per stdin line and answers each with one JSON line,
// {"qs": qs.stringify(value)}, or {"error": message}.
// Driven by tests/interop/test_client_querystring_qs.py: one process answers every input.

import { createInterface } from 'node:readline'
import qs from 'qs'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  let answer
  try {
    answer = { qs: qs.stringify(JSON.parse(line)) }
  } catch (error) {
    answer = { error: String(error && error.message) }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
