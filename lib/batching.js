'use strict'
// The batching handshake and the reading of batches (the batches themselves: lib/outbox.js).
//
// A 2.x worker (or opted-in child) says "I read batches" when it loads; a 2.x primary that hears
// it marks that worker and says the same back. Both messages are Node-internal (`cmd:
// "NODE_CLUSTERPHONE"`): 1.x, plain `cluster` code and users' 'message' listeners never see them,
// and a peer that never answers (1.x, or no clusterphone at all) simply never gets batches, so
// the wire stays 1.x's with every peer that is not 2.x.
//
// A batch that arrives is emitted as the 'message' events its envelopes would have been, on the
// same channel object, so the message bus, a 1.x beside us and the user's own listeners each see
// every envelope, in order, exactly as if it had been written alone.
//
// Once a peer reads batches, its channel's writes (`_send`, which `send` calls), `disconnect` and
// (for a worker or child) `kill` are guarded, and so are `process.kill` and `process.abort`:
// anything written to it some other way (the user's own `worker.send`, cluster's internal
// messages, 1.x in the same process), and a signal sent through it or by pid, first writes what
// is gathered, so nothing overtakes a message sent before it.

const cluster = require('node:cluster')
const context = require('./context')
const peers = require('./peers')
const outbox = require('./outbox')
const debug = require('./debug')

const { BATCH_COMMAND } = outbox

function ignoreError() {}

/**
 * The batch format we read (lib/outbox.js). A peer that offers another one (an earlier 2.x wrote
 * JSON text inside its batches) never gets batches from us, nor we from it.
 */
const BATCH_FORMAT = 2

/**
 * Tells the peer's side we read batches; `answer` asks it to say whether it does too. `probe`
 * arrives only under `advanced` serialization, which keeps undefined values (JSON drops them): so
 * the other side learns how the channel serializes, and so how to take values (lib/outbox.js).
 */
function offer(channel, answer) {
  try {
    channel.send({ cmd: BATCH_COMMAND, batch: BATCH_FORMAT, answer, probe: undefined }, undefined, undefined, ignoreError)
  } catch {
    // A channel already closed: no batches then.
  }
}

/** An internal message from `peer` over `channel`: a handshake or a batch; anything else is not ours. */
function onInternalMessage(peer, channel, message) {
  if (message === null || typeof message !== 'object' || message.cmd !== BATCH_COMMAND) return
  const headers = message.h
  if (Array.isArray(headers)) {
    const values = message.v
    if (Array.isArray(values)) {
      const envelopes = []
      outbox.unpack(headers, values, (envelope) => envelopes.push(envelope), !peer().isParent)
      emitMessages(channel, envelopes, 0)
    }
    return
  }
  if (message.batch !== BATCH_FORMAT) return
  const from = peer()
  if (message.answer === true) offer(channel, false)
  if (from.batching || from.goneReason !== null) return
  startBatching(from, channel, Object.prototype.hasOwnProperty.call(message, 'probe'))
}

/**
 * One 'message' event per envelope. A listener that throws does what it does in Node's own emit,
 * where each message is its own tick: the error reaches 'uncaughtException' (or ends the
 * process) before the next envelope is emitted.
 */
function emitMessages(channel, envelopes, from) {
  for (let i = from; i < envelopes.length; i++) {
    try {
      channel.emit('message', envelopes[i], undefined)
    } catch (err) {
      process.nextTick(rethrow, err)
      if (i + 1 < envelopes.length) process.nextTick(emitMessages, channel, envelopes, i + 1)
      return
    }
  }
}

/** Throws `err` from its own tick, as a listener's error in Node's own emit would surface. */
function rethrow(err) {
  throw err
}

function startBatching(peer, channel, advanced) {
  if (debug.enabled) debug('batching with %s%s', peer.label, advanced ? ' (advanced)' : '')
  // Node's `send` writes through `_send`, looked up when called: guarding it covers the user's
  // `send`, one saved before batching started (`process.send.bind(process)` in a logger, a spy)
  // and ours, with one wrapper per write instead of two. A channel without it has `send` guarded.
  if (typeof channel._send === 'function') guardInternalSend(peer, channel)
  else guard(peer, channel, 'send')
  guard(peer, channel, 'disconnect')
  // A signal to the peer (worker.kill(), child.kill()) must not overtake what this tick sent it.
  if (channel !== process) guard(peer, channel, 'kill')
  guardProcessExits()
  peer.copies = advanced
  peer.batching = true
}

let processGuarded = false

/**
 * `process.kill` (a signal to a peer by pid, or to this process itself) and `process.abort()` first
 * write what this tick gathered for every peer: a process that ends itself this way runs no 'exit'
 * listener, and 1.x had written each message when it was sent.
 */
function guardProcessExits() {
  if (processGuarded) return
  processGuarded = true
  runFirst(process, 'kill', outbox.flushGathered)
  runFirst(process, 'abort', outbox.flushGathered)
}

/** Wraps `channel[method]` so that it first writes what is gathered for `peer`. */
function guard(peer, channel, method) {
  runFirst(channel, method, () => {
    if (peer.gathered !== 0) outbox.flush(peer)
  })
}

/** Wraps `target[method]`, if it is a function, so that `before()` runs first. */
function runFirst(target, method, before) {
  const original = target[method]
  if (typeof original !== 'function') return
  target[method] = function () {
    before()
    return original.apply(this, arguments)
  }
}

/**
 * `guard` for Node's `_send(message, handle, options, callback)`, the one written on every
 * message: named parameters instead of `arguments`, which an unoptimized function (a worker's
 * first few thousand messages) would allocate on every call.
 */
function guardInternalSend(peer, channel) {
  const original = channel._send
  channel._send = function (message, handle, options, callback) {
    if (peer.gathered !== 0) outbox.flush(peer)
    return original.call(this, message, handle, options, callback)
  }
}

/** Listens for the handshake and batches on a worker's (or child's) channel. */
function listenTo(target) {
  const channel = peers.channelOf(target)
  if (typeof channel.on !== 'function') return
  channel.on('internalMessage', (message) => onInternalMessage(() => peers.ofWorker(target), channel, message))
}

function setUp() {
  if (context.isPrimary) {
    cluster.on('fork', listenTo)
    for (const worker of Object.values(cluster.workers ?? {})) {
      // Forked before we loaded: its offer may be gone, so ask.
      listenTo(worker)
      if (worker.isConnected()) offer(worker.process, true)
    }
  }
  if (context.hasParent) {
    process.on('internalMessage', (message) => onInternalMessage(peers.thePrimary, process, message))
    offer(process, true)
  }
  // Whatever a tick gathered is written before the process goes: first of the 'exit' listeners,
  // so one added earlier that throws cannot keep it from being written.
  process.prependListener('exit', outbox.flushAll)
}

module.exports = { setUp, listenTo }
