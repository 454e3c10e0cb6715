'use strict'
// The floor: what clusterphone's API costs per message on Node before any library work, written by
// hand so the benchmark can run it as one more column (`npm run bench -- --floor`).
//
// It does only what no implementation of the SPEC can skip:
//   - the 1.x envelope, both ways (the wire format is fixed);
//   - a native Promise per `ackd()`, settled by the reply;
//   - a callback on every write (without one, a write to a worker that died emits 'error' on its
//     ChildProcess, which kills a primary with no listener);
//   - one setImmediate per sending turn (`within`/`ackd` are only valid in the send's turn);
//   - a closure per received message for `ack`.
// Everything else the SPEC asks for is left out, so no implementation can be faster: no default
// timeout (only `within` arms one), no readiness queue, no envelope checks, no `.error`, no
// namespaces but the default, no handles, no deaths, no `sendToMaster`. Do not use it for
// anything but measuring.

const cluster = require('node:cluster')

const noop = () => {}
const handlers = Object.create(null)

let turn = 0
let turnOpen = false
const endTurn = () => {
  turn++
  turnOpen = false
}

/** Per worker: its sequence counter and the resolving functions of the awaited replies. */
class Peer {
  constructor(worker) {
    this.seq = 0
    this.waiting = new Map()
    worker.process.on('message', (message) => {
      const envelope = message !== null && typeof message === 'object' ? message.__clusterphone : undefined
      if (envelope === undefined) return
      if (envelope.cmd === 'workerReady') return worker.emit('clusterphone:online')
      const settle = this.waiting.get(envelope.ack)
      if (settle === undefined) return
      this.waiting.delete(envelope.ack)
      if (settle.timer !== undefined) clearTimeout(settle.timer)
      if (envelope.error === undefined) settle.resolve(envelope.reply)
      else settle.reject(new Error('message handler threw an error'))
    })
  }
}

const peers = new WeakMap()
function peerOf(worker) {
  let peer = peers.get(worker)
  if (peer === undefined) {
    peer = new Peer(worker)
    peers.set(worker, peer)
  }
  return peer
}

class Message {
  constructor(peer, seq) {
    this.peer = peer
    this.seq = seq
    this.turn = turn
    this.ms = 0
  }

  within(ms) {
    this.ms = ms
    return this
  }

  ackd() {
    if (this.turn !== turn) throw new Error('within() and ackd() are only valid immediately after sending')
    const { peer, seq, ms } = this
    return new Promise((resolve, reject) => {
      const settle = { resolve, reject, timer: undefined }
      if (ms > 0) {
        settle.timer = setTimeout(() => {
          peer.waiting.delete(seq)
          reject(new Error(`message ${seq} timed out`))
        }, ms)
      }
      peer.waiting.set(seq, settle)
    })
  }
}

function sendTo(worker, cmd, payload) {
  const peer = peerOf(worker)
  const seq = ++peer.seq
  worker.process.send({ __clusterphone: { ns: '_', cmd, seq, payload } }, undefined, undefined, noop)
  if (!turnOpen) {
    turnOpen = true
    setImmediate(endTurn)
  }
  return new Message(peer, seq)
}

if (cluster.isPrimary) {
  cluster.on('fork', peerOf)
} else {
  process.on('message', (message) => {
    const envelope = message !== null && typeof message === 'object' ? message.__clusterphone : undefined
    if (envelope === undefined) return
    const handler = handlers[envelope.cmd]
    if (handler === undefined) return
    const { ns, seq } = envelope
    handler(envelope.payload, undefined, (reply) => {
      process.send({ __clusterphone: { ns, ack: seq, reply } }, undefined, undefined, noop)
    })
  })
  const ready = { __clusterphone: { ns: 'clusterphone', cmd: 'workerReady', seq: 1, payload: { targetNs: '_' } } }
  process.send(ready, undefined, undefined, noop)
}

module.exports = { handlers, sendTo }
