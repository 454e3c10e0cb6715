'use strict'
// The receiving side: one bus for every envelope that reaches this process, and the handler
// protocol (ack callback, thenable, throw) that turns a handler's outcome into one acknowledgement.

const context = require('./context')
const pending = require('./pending')
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
 */
function messageBus(message, handle) {
  if (message === null || typeof message !== 'object') return
  const envelope = message.__clusterphone
  if (envelope === undefined) return
  try {
    receive(this === process ? peers.thePrimary() : peers.ofWorker(this), envelope, handle)
  } catch (err) {
    // Nothing a peer sends may throw into Node's event loop.
    process.emitWarning(`clusterphone: dropped an envelope that could not be handled: ${err && err.message}`)
  }
}

function receive(peer, envelope, handle) {
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) {
    context.core.receive((peer.lanes + NS_INVALID) * 16, NaN)
    return
  }
  if (hasOwn.call(envelope, 'ack')) receiveAck(peer, envelope.ns, envelope.ack, envelope.reply, envelope.error)
  else receiveMessage(peer, envelope.ns, envelope.cmd, envelope.seq, envelope.payload, handle, envelope.from)
}

/** The record of an envelope's `ns`, if it names one we know. */
function namespaceOf(nsName) {
  return typeof nsName === 'string' && nsName !== '' ? hooks.findNamespace(nsName) : undefined
}

/** The namespace part of a lane (lib/native.js): the record's id, or what kind of name it was. */
function laneNamespace(nsName, ns) {
  if (ns !== undefined) return ns.id
  return typeof nsName === 'string' && nsName !== '' ? NS_UNKNOWN : NS_INVALID
}

function receiveAck(peer, nsName, seq, reply, error) {
  const ns = namespaceOf(nsName)
  const lane = peer.lanes + laneNamespace(nsName, ns)
  const result = context.core.receive(lane * 16 + (FLAG_OBJECT | FLAG_ACK), typeof seq === 'number' ? seq : NaN)
  if (debug.enabled) debug('receive %s ns=%s seq=%s %s', peer.label, nsName, seq, result >= 0 ? 'acknowledgement' : 'acknowledgement (nothing awaits it)')
  if (result >= 0) settleFromAck(result, error, reply)
  else if (result === RECEIVED.UNMATCHED_ACK && ns.foreign !== null) settleForeign(peer, ns.foreign, seq, reply, error)
}

function receiveMessage(peer, nsName, cmd, seq, payload, handle, from) {
  const ns = namespaceOf(nsName)
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

function settleFromAck(slot, error, reply) {
  if (error) pending.reject(slot, errors.fromErrorAck(error))
  else pending.resolve(slot, reply)
}

/** Calls the namespace's own handler for `cmd` and sees to exactly one acknowledgement. */
function deliver(peer, ns, cmd, seq, payload, handle, from) {
  const handler = hooks.handlerOf(ns, cmd)
  if (handler === undefined) {
    sendAck(peer, ns.name, seq, null, errors.UNHANDLED)
    return
  }
  const reply = new Reply(peer, ns.name, seq, cmd)
  let result
  try {
    if (!peer.isParent) result = handler(peer.target, payload, handle, reply.callback)
    else if (typeof from === 'number') result = handler(payload, handle, reply.callback, from) // relayed
    else result = handler(payload, handle, reply.callback)
  } catch (err) {
    // Both warnings go where 1.x printed them (stdout, console.log), word for word.
    if (reply.settled) console.log(`WARNING: handler for ${cmd} threw an exception *after* already acknowledging. You have a bug in your handler :)`, stackOf(err))
    else reply.fail(err)
    return
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) return
  let then
  try {
    then = result.then
  } catch (err) {
    if (!reply.settled) reply.fail(err)
    return
  }
  if (typeof then !== 'function') return
  if (reply.settled) {
    console.log(`WARNING: Handler for ${cmd} invoked node-style acknowledgement callback, but then returned a promise. Ignoring the promise.`)
    return
  }
  reply.follow(result, then)
}

/** What 1.x printed for a thrown value: its `stack` (undefined for most non-Errors). */
function stackOf(err) {
  if (err === null || err === undefined) return undefined
  try {
    return err.stack
  } catch {
    return undefined
  }
}

/** One acknowledgement owed to the sender of a message. */
class Reply {
  constructor(peer, nsName, seq, cmd) {
    this.peer = peer
    this.nsName = nsName
    this.seq = seq
    this.cmd = cmd
    this.settled = false
    this.called = false
    const reply = this
    // ack(reply) as 1.0.1; ack(err, reply) Node style as the 1.x README.
    this.callback = function ack(errOrReply, replyValue) {
      if (reply.called) throw errors.ackedTwice(cmd)
      reply.called = true
      if (reply.settled) return
      if (arguments.length >= 2) {
        if (errOrReply !== null && errOrReply !== undefined) reply.fail(errOrReply)
        else reply.succeed(replyValue)
      } else {
        reply.succeed(errOrReply)
      }
    }
  }

  succeed(value) {
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
      // ack(promise) waits for it, as 1.x's resolve(promise) did.
      this.settled = true
      Promise.resolve(value).then(
        (v) => sendAck(this.peer, this.nsName, this.seq, v, undefined),
        (e) => sendAck(this.peer, this.nsName, this.seq, null, errors.toErrorAck(e)),
      )
      return
    }
    this.settled = true
    sendAck(this.peer, this.nsName, this.seq, value, undefined)
  }

  fail(err) {
    this.settled = true
    sendAck(this.peer, this.nsName, this.seq, null, errors.toErrorAck(err))
  }

  follow(thenable, then) {
    this.settled = true
    let done = false
    const onReply = (value) => {
      if (done) return
      done = true
      sendAck(this.peer, this.nsName, this.seq, value, undefined)
    }
    const onError = (err) => {
      if (done) return
      done = true
      sendAck(this.peer, this.nsName, this.seq, null, errors.toErrorAck(err))
    }
    try {
      then.call(thenable, onReply, onError)
    } catch (err) {
      onError(err)
    }
  }
}

module.exports = { messageBus, hooks, sendAck, RELAY }
