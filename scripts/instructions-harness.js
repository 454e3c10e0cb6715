'use strict'
// One side of a round trip, with the channel's writes stubbed out (they return at once, as a
// synchronous write does) and the other side's messages emitted as Node delivers them: what
// scripts/instructions.js counts under valgrind. Not a benchmark: no IPC, no timing.
//
// Env: SIDE=primary|worker, MODE=plain|floor|clusterphone (or a directory holding a build), SIZE=0 (88 B) or bytes,
// SERIALIZATION=json|advanced, WARM and N round trips, PID_FILE (the process that does the work
// writes its pid there).
//   plain:        worker.send / process.send of the payload, echoed.
//   floor:        scripts/floor, the benchmark's floor column: what the API asks for on top,
//                 written by hand (the 1.x envelope both ways, a native Promise per message
//                 settled by its reply, a callback on each write, one setImmediate per turn).
//   clusterphone: this package.
// Both libraries run the same code here: sendTo(...).ackd() and a handler that calls ack(payload).

const cluster = require('node:cluster')
const fs = require('node:fs')
const path = require('node:path')
const v8 = require('node:v8')
const { payloadOf } = require('./payloads')

const SIDE = process.env.SIDE || 'primary'
const MODE = process.env.MODE || 'clusterphone'
const LIBRARIES = { clusterphone: path.join(__dirname, '..'), floor: path.join(__dirname, 'floor') }
const lib = MODE === 'plain' ? null : require(LIBRARIES[MODE] ?? path.resolve(MODE))

const payload = payloadOf(Number(process.env.SIZE || 0))
const noop = () => {}
const ADVANCED = process.env.SERIALIZATION === 'advanced'
if (ADVANCED && cluster.isPrimary) cluster.setupPrimary({ serialization: 'advanced' })

/** A message as the other side's channel would hand it over: parsed from JSON, or deserialized. */
const decode = ADVANCED ? (written) => v8.deserialize(written.subarray(4)) : (written) => JSON.parse(written)

/**
 * Replaces the pipe write of `owner`'s channel: what is written (a string under JSON, a buffer
 * with its 4-byte length under `advanced`) is kept, nothing is sent.
 */
function stubWrites(owner) {
  const handleKey = Object.getOwnPropertySymbols(owner).find((s) => String(s).includes('kChannelHandle'))
  if (handleKey === undefined) throw new Error('this Node keeps its channel handle elsewhere')
  const written = []
  const keep = (req, data) => {
    written.push(data)
    return 0
  }
  owner[handleKey].writeUtf8String = keep
  owner[handleKey].writeBuffer = keep
  return written
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve))

async function measure(roundTrip) {
  fs.writeFileSync(process.env.PID_FILE || '/dev/null', String(process.pid))
  for (let i = 0; i < Number(process.env.WARM || 5000); i++) await roundTrip(i)
  for (let i = 0; i < Number(process.env.N || 10000); i++) await roundTrip(i)
}

async function primarySide(worker) {
  const written = stubWrites(worker.process)
  let settle = null
  let send
  if (MODE === 'plain') {
    worker.on('message', () => settle())
    send = () => new Promise((resolve) => {
      settle = resolve
      worker.send(payload)
    })
  } else {
    send = () => lib.sendTo(worker, 'echo', payload).ackd().then(noop)
  }
  await measure(async () => {
    const done = send()
    const data = written.pop()
    await nextTurn()
    // The reply, as the worker's side would have written it and Node read it.
    const sent = decode(data)
    const envelope = sent.__clusterphone
    worker.process.emit('message', MODE === 'plain' ? sent : { __clusterphone: { ns: envelope.ns, ack: envelope.seq, reply: envelope.payload } })
    await done
  })
}

async function workerSide() {
  const written = stubWrites(process)
  const payloadText = JSON.stringify(payload)
  const encode = ADVANCED ? (message) => v8.serialize(message) : (message) => JSON.stringify(message)
  const decodeInput = ADVANCED ? (data) => v8.deserialize(data) : (data) => JSON.parse(data)
  if (MODE === 'plain') process.on('message', (message) => process.send(message))
  else lib.handlers.echo = (received, handle, ack) => ack(received)
  await measure(async (i) => {
    let input
    if (!ADVANCED) input = MODE === 'plain' ? payloadText : `{"__clusterphone":{"ns":"_","cmd":"echo","seq":${i + 1000},"payload":${payloadText}}}`
    else input = encode(MODE === 'plain' ? payload : { __clusterphone: { ns: '_', cmd: 'echo', seq: i + 1000, payload } })
    process.emit('message', decodeInput(input))
    await nextTurn()
    if (written.pop() === undefined) throw new Error('no reply was written')
  })
}

if (cluster.isPrimary) {
  const worker = cluster.fork()
  if (SIDE === 'worker') worker.on('exit', () => process.exit(0))
  else {
    // The libraries write to a worker once it announced itself ('clusterphone:online').
    worker.on(lib === null ? 'online' : 'clusterphone:online', () =>
      setTimeout(() => {
        primarySide(worker).then(() => {
          worker.kill()
          process.exit(0)
        })
      }, 300),
    )
  }
} else if (SIDE === 'worker') {
  setTimeout(() => workerSide().then(() => process.exit(0)), 300)
} else if (lib !== null) {
  lib.handlers.echo = noop
}
