// Feathers 5 serving what bench/realtime.py loads: `strategies` (the seeded records, paginated
// like the Python sides) and `messages` (created and patched by the load), both from Feathers'
// memory adapter; every connection joins `everybody`, and every event is published to it.
// Usage: node server.mjs RECORDS_JSON_FILE PORT — prints `ready PORT` once listening on 127.0.0.1.
import { readFileSync } from 'node:fs'
import { feathers } from '@feathersjs/feathers'
import { koa, rest, bodyParser, errorHandler } from '@feathersjs/koa'
import socketio from '@feathersjs/socketio'
import { MemoryService } from '@feathersjs/memory'

const records = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const paginate = { default: 25, max: 100 }
const app = koa(feathers())
app.use(errorHandler())
app.use(bodyParser())
app.configure(rest())
app.configure(socketio())
app.use('strategies', new MemoryService({ id: '_id', paginate, store: Object.fromEntries(records.map((r) => [r._id, r])) }))
app.use('messages', new MemoryService({ id: '_id' }))
app.on('connection', (connection) => app.channel('everybody').join(connection))
app.publish(() => app.channel('everybody'))

const port = Number(process.argv[3])
const server = await app.listen(port, '127.0.0.1')
const ready = () => console.log(`ready ${port}`)
if (server.listening) ready()
else server.once('listening', ready)
