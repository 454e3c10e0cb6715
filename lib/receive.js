'use strict'
// The receiving side: one bus for every envelope that reaches this process, and the handler
// protocol (ack callback, thenable, throw) that turns a handler's outcome into one acknowledgement.

const context = require('./context')
const pending = require('./pending')
const ackPromise = require('./ack-promise')
const peers = require('./peers')
const errors = require('./errors')
const debug = require('./debug')

const {
  NS_UNKNOWN,
  NS_INVALID,
  FLAG_OBJECT,
  FLAG_ACK,
  FLAG_CMD_OK,
  FLAG_WORKER_READY,
  RECEIVED,
} = require('./native')

const hasOwn = Object.prototype.hasOwnProperty
/** The internal command a worker sends to have the primary relay a message (lib/relay.js). */
const RELAY = 'relay'

/** Filled in by lib/namespaces.js. */
const hooks = {
  /** name → namespace record, or undefined. */
  findNamespace: (_name) => undefined,
  /** (record, cmd) → the namespace's own handler function, or undefined. */
  handlerOf: (_record, _cmd) => undefined,
  onWorkerReady: (_peer, _payload) => {},
  /** (peer, internalNsName, seq, payload): a worker asks the primary to relay a message (lib/relay.js). */
  onRelay: null,
}

function sendAck(peer, nsName, seq, reply, error) {
  if (debug.enabled) debug('ack %s ns=%s seq=%d%s', peer.label, nsName, seq, error === undefined ? '' : ' error')
  peer.sendAck(nsName, seq, reply, error)
}

/**
 * The message bus: `this` is the Worker a message came from (primary) or `process` (worker).
 * Also installed as `process.__clusterphone.messageBus` so 1.x listeners dispatch here.
 *
 * The path from here to a handler (or a settled acknowledgement) is a few flat functions rather
 * than many small ones: a worker answering one message at a time runs it a few thousand times
 * before V8 optimizes it, and until then every call and every bytecode counts (measured: a
 * worker's first 4000 messages, see the README's design section).
 */
function messageBus(message, handle) {
  if (message === null || typeof message !== 'object') return
  const envelope = message.__clusterphone
  if (envelope === undefined) return
  try {
    const peer = this === process ? peers.thePrimary() : peers.ofWorker(this)
    if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) context.core.receive((peer.lanes + NS_INVALID) * 16, NaN)
    else if (hasOwn.call(envelope, 'ack')) receiveAck(peer, envelope)
    else receiveMessage(peer, envelope, handle)
  } catch (err) {
    // Nothing a peer sends may throw into Node's event loop.
    process.emitWarning(`clusterphone: dropped an envelope that could not be handled: ${err && err.message}`)
  }
}

/** The namespace part of a lane (lib/native.js) for an envelope's `ns` and its record, if any. */
function laneNamespace(nsName, ns) {
  if (ns !== undefined) return ns.id
  return typeof nsName === 'string' && nsName !== '' ? NS_UNKNOWN : NS_INVALID
}

function receiveAck(peer, envelope) {
  const nsName = envelope.ns
  const seq = envelope.ack
  const reply = envelope.reply
  const error = envelope.error
  const ns = typeof nsName === 'string' && nsName !== '' ? hooks.findNamespace(nsName) : undefined
  const lane = peer.lanes + laneNamespace(nsName, ns)
  const result = context.core.receive(lane * 16 + (FLAG_OBJECT | FLAG_ACK), typeof seq === 'number' ? seq : NaN)
  if (debug.enabled) debug('receive %s ns=%s seq=%s %s', peer.label, nsName, seq, result >= 0 ? 'acknowledgement' : 'acknowledgement (nothing awaits it)')
  if (result >= 0) {
    if (error) pending.reject(result, errors.fromErrorAck(error))
    else pending.resolve(result, reply)
  } else if (result === RECEIVED.UNMATCHED_ACK && ns.foreign !== null) {
    settleForeign(peer, ns.foreign, seq, reply, error)
  }
}

function receiveMessage(peer, envelope, handle) {
  const nsName = envelope.ns
  const cmd = envelope.cmd
  const seq = envelope.seq
  const payload = envelope.payload
  const from = envelope.from
  const ns = typeof nsName === 'string' && nsName !== '' ? hooks.findNamespace(nsName) : undefined
  const lane = peer.lanes + laneNamespace(nsName, ns)
  const flags = FLAG_OBJECT | (typeof cmd === 'string' && cmd !== '' ? FLAG_CMD_OK : 0) | (cmd === 'workerReady' ? FLAG_WORKER_READY : 0)
  const result = context.core.receive(lane * 16 + flags, typeof seq === 'number' ? seq : NaN)
  if (debug.enabled) debug('receive %s ns=%s seq=%s cmd=%s', peer.label, nsName, seq, cmd)
  if (result === RECEIVED.DELIVER) {
    if (ns.internal && cmd === RELAY && !peer.isParent && hooks.onRelay !== null) hooks.onRelay(peer, ns.name, seq, payload)
    else deliver(peer, ns, cmd, seq, payload, handle, from)
  } else if (result === RECEIVED.ANNOUNCE) {
    if (!peer.isParent) hooks.onWorkerReady(peer, payload)
  } else if (result === RECEIVED.UNKNOWN_NAMESPACE) {
    sendAck(peer, nsName, seq, null, errors.UNKNOWN_NAMESPACE)
  } else if (result === RECEIVED.UNHANDLED) {
    sendAck(peer, nsName, seq, null, errors.UNHANDLED)
  }
}

/** An acknowledgement for a message another library in this process sent (1.x's `getPending`). */
function settleForeign(peer, entry, seq, reply, error) {
  if (typeof entry.getPending !== 'function') return
  const held = entry.getPending.call(peer.target, seq)
  if (!Array.isArray(held) || typeof held[0] !== 'function' || typeof held[1] !== 'function') return
  if (!held[0].monitored) return
  if (error) held[1](errors.fromErrorAck(error))
  else held[0](reply)
}

/**
 * Calls the namespace's own handler for `cmd` and sees to exactly one acknowledgement. Its state
 * lives in the `ack` closure's variables, not in an object beside it: one allocation per message
 * fewer.
 */
function deliver(peer, ns, cmd, seq, payload, handle, from) {
  const nsName = ns.name
  const handler = hooks.handlerOf(ns, cmd)
  if (handler === undefined) {
    sendAck(peer, nsName, seq, null, errors.UNHANDLED)
    return
  }
  /** The acknowledgement is decided (sent, or following a promise). */
  let settled = false
  /** `ack` was called. */
  let called = false
  // ack(reply) as 1.0.1; ack(err, reply) Node style as the 1.x README. A reply goes from
  // `replyWith` (which follows a thenable) to the peer, not through the module's `sendAck` as well:
  // a call fewer made V8 compile less while a worker warms up (counted over its first 2000 replies,
  // 135.7k machine instructions each, the same as with `replyWith`'s check written inline here).
  const ack = function ack(errOrReply, replyValue) {
    if (called) throw errors.ackedTwice(cmd)
    called = true
    if (settled) return
    settled = true
    let reply = errOrReply
    if (arguments.length >= 2) {
      if (errOrReply !== null && errOrReply !== undefined) {
        sendAck(peer, nsName, seq, null, errors.toErrorAck(errOrReply))
        return
      }
      reply = replyValue
    }
    // ack(thenable) waits for it, as 1.x's resolve(thenable) did.
    replyWith(peer, nsName, seq, reply, 0)
  }
  let result
  try {
    if (!peer.isParent) result = handler(peer.target, payload, handle, ack)
    else if (typeof from === 'number') result = handler(payload, handle, ack, from) // relayed
    else result = handler(payload, handle, ack)
  } catch (err) {
    // Both warnings go where 1.x printed them (stdout, console.log), word for word.
    if (settled) {
      console.log(`WARNING: handler for ${cmd} threw an exception *after* already acknowledging. You have a bug in your handler :)`, errors.stackOf(err))
    } else {
      settled = true
      sendAck(peer, nsName, seq, null, errors.toErrorAck(err))
    }
    return
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return
  let then
  try {
    then = result.then
  } catch (err) {
    if (!settled) {
      settled = true
      sendAck(peer, nsName, seq, null, errors.toErrorAck(err))
    }
    return
  }
  if (typeof then !== 'function') return
  if (settled) {
    console.log(`WARNING: Handler for ${cmd} invoked node-style acknowledgement callback, but then returned a promise. Ignoring the promise.`)
    // Ignored means ignored: its rejection must not end the process as an unhandled one.
    if (result instanceof Promise) {
      try {
        ackPromise.markHandled(result)
      } catch {
        // A subclass whose species constructor throws: nothing more to do for it.
      }
    }
    return
  }
  settled = true
  follow(peer, nsName, seq, result, then, 1)
}

/**
 * How many thenables deep a reply is followed. A chain that never reaches a value (a thenable
 * fulfilled with itself, a cycle of them) gets an error acknowledgement instead of running
 * forever; a Promise would loop there, starving the event loop, and bluebird overflowed its stack.
 */
const MAX_FOLLOWED = 64

/**
 * Acknowledges with `reply`, or with what it settles to if it is a thenable (an object or function
 * with a `then` method, read once; a `then` getter that throws makes an error acknowledgement).
 * `depth`: how many thenables led to it.
 */
function replyWith(peer, nsName, seq, reply, depth) {
  if (reply !== null && (typeof reply === 'object' || typeof reply === 'function')) {
    let then
    try {
      then = reply.then
    } catch (err) {
      sendAck(peer, nsName, seq, null, errors.toErrorAck(err))
      return
    }
    if (typeof then === 'function') {
      if (depth < MAX_FOLLOWED) follow(peer, nsName, seq, reply, then, depth + 1)
      else refuseEndless(peer, nsName, seq)
      return
    }
  }
  if (debug.enabled) debug('ack %s ns=%s seq=%d', peer.label, nsName, seq)
  peer.sendAck(nsName, seq, reply, undefined)
}

/** The error acknowledgement of a reply thenable that never settles to a value. */
function refuseEndless(peer, nsName, seq) {
  sendAck(peer, nsName, seq, null, errors.toErrorAck(errors.endlessThenable(MAX_FOLLOWED)))
}

/**
 * Acknowledges with what `thenable` settles to (only its first outcome), followed as a Promise
 * follows it: a thenable it is fulfilled with is waited for too.
 */
function follow(peer, nsName, seq, thenable, then, depth) {
  let done = false
  const onReply = (value) => {
    if (done) return
    done = true
    if (value === thenable) refuseEndless(peer, nsName, seq)
    else replyWith(peer, nsName, seq, value, depth)
  }
  const onError = (err) => {
    if (done) return
    done = true
    sendAck(peer, nsName, seq, null, errors.toErrorAck(err))
  }
  try {
    then.call(thenable, onReply, onError)
  } catch (err) {
    onError(err)
  }
}

module.exports = { messageBus, hooks, sendAck, RELAY }
