'use strict'
// Namespaces: the objects users get from `ns(name)`, their core ids, and their entries in the
// table every clusterphone in this process shares on `process.__clusterphone.namespaces`
// ({ interface, getPending(seq), workerReady(worker) }, 1.x's format).
//
// A namespace clusterphone 1.x made first is adopted,
// not replaced: our record points at its entry, our interface shares its `handlers` object, its
// acknowledgements are settled through its `getPending`, its queue is flushed when a worker
// announces it, and our sequence numbers in it start at 2^32 so they never collide with its own.

const context = require('./context')
const pending = require('./pending')
const peers = require('./peers')
const send = require('./send')
const receive = require('./receive')
const shared = require('./shared')
const errors = require('./errors')
const debug = require('./debug')

const hasOwn = Object.prototype.hasOwnProperty
const INTERNAL_NAME = 'clusterphone'
/** Where our sequence numbers start in a namespace shared with another library. */
const ADOPTED_SEQUENCE_BASE = 2 ** 32

/** name → record { id, name, internal, iface, foreign } */
const records = new Map()
/** core id → record */
const byId = []

function newRecord(name, id, foreign) {
  const record = { id, name, internal: id === context.core.internalNamespace(), iface: null, foreign }
  records.set(name, record)
  byId[id] = record
  if (foreign !== null) context.core.setSequenceBase(id, ADOPTED_SEQUENCE_BASE)
  return record
}

/** Our entry in the shared table, for a bus newer than ours (ours never calls these). */
function publish(record) {
  shared.publish(record.name, {
    interface: record.iface,
    getPending(seq) {
      const peer = this === process ? peers.thePrimary() : peers.ofWorker(this)
      const slot = context.core.settle(peer.lanes + record.id, seq)
      if (slot < 0) return undefined
      const resolve = (reply) => pending.resolve(slot, reply)
      resolve.monitored = true
      return [resolve, (err) => pending.reject(slot, err)]
    },
    workerReady(worker) {
      onWorkerReady(peers.ofWorker(worker), { targetNs: record.name })
    },
  })
}

/**
 * A 2.x method on a namespace (or the module): not enumerable, so the object's keys stay exactly
 * 1.x's (`name`, `handlers`, `sendTo` or `sendToMaster`, and `ns`, `ackTimeout` on the module).
 */
function addMethod(target, name, fn) {
  Object.defineProperty(target, name, { value: fn, writable: true, enumerable: false, configurable: true })
}

/** Turns `target` into the interface object: `{ name, handlers, sendTo | sendToMaster }`. */
function makeInterface(target, record) {
  const iface = target ?? {}
  iface.name = record.name
  iface.handlers = record.foreign !== null ? record.foreign.interface.handlers : {}
  if (context.isPrimary) {
    iface.sendTo = function sendTo(worker, cmd, payload, handle, forceQueueHandle) {
      return send.sendToWorker(record, worker, cmd, payload, handle, forceQueueHandle)
    }
    addMethod(iface, 'broadcast', function broadcast(cmd, payload) {
      return require('./broadcast').broadcast(record, cmd, payload)
    })
  }
  if (context.hasParent) {
    addMethod(iface, 'sendToWorker', function sendToWorker(workerId, cmd, payload) {
      return require('./relay').sendToWorker(internal, record, workerId, cmd, payload)
    })
    iface.sendToMaster = function sendToMaster(cmd, payload, handle) {
      return send.sendToPrimary(record, cmd, payload, handle)
    }
  }
  record.iface = iface
  return iface
}

/**
 * The namespace `name`: the object this name already has, or a new one. `target` is the object to
 * turn into the interface (the callable default namespace), or a fresh one.
 */
function open(name, target) {
  const key = name ? String(name) : ''
  // The core refuses "" and the private name with the SPEC's errors.
  const id = context.core.openNamespace(key)
  const known = records.get(key)
  if (known !== undefined && known.iface !== null) return known.iface
  const foreign = known !== undefined ? known.foreign : shared.foreignEntry(key)
  const record = known ?? newRecord(key, id, foreign ?? null)
  const iface = makeInterface(target, record)
  if (foreign === null || foreign === undefined) {
    publish(record)
    // A namespace 1.x made was announced by 1.x already.
    if (context.hasParent) announce(key)
  }
  return iface
}

/** The record for an incoming envelope's namespace, adopting one another library made. */
function find(name) {
  const known = records.get(name)
  if (known !== undefined) return known
  const foreign = shared.foreignEntry(name)
  if (foreign === undefined) return undefined
  return newRecord(name, context.core.openNamespace(name), foreign)
}

/** A worker tells the primary it can take messages in namespace `name`. */
function announce(name) {
  send.notifyPrimary(internal, 'workerReady', { targetNs: name })
}

function onWorkerReady(peer, payload) {
  const target = payload !== null && typeof payload === 'object' ? payload.targetNs : undefined
  if (typeof target !== 'string' || target === '') return
  const record = target === INTERNAL_NAME ? undefined : find(target)
  shared.markLegacyReady(peer.target)
  const announced = context.core.announce(peer.id, record === undefined ? -1 : record.id)
  if (record !== undefined) {
    if (announced.length > 1) send.flush(peer, record, announced)
    if (record.foreign !== null) shared.flushForeign(peer.target, target, peer.onSent)
  }
  if (announced[0] === 1 && typeof peer.target.emit === 'function') peer.target.emit('clusterphone:online')
}

/** A deadline passed: the acknowledgement rejects with the SPEC's timeout error. */
function onExpired(slot, peerId, nsId, seq) {
  const peer = peers.byPeerId(peerId)
  const record = byId[nsId]
  if (debug.enabled) debug('timeout %s ns=%s cmd=%s seq=%d', peer?.label, record?.name, pending.commandOf(slot), seq)
  pending.reject(
    slot,
    errors.timedOut(pending.commandOf(slot), seq, peer === undefined ? `peer ${peerId}` : peer.label, record === undefined ? nsId : record.name),
  )
}

/** The handler for `cmd`: an own property of the namespace's handlers (ours, then the adopted library's). */
function handlerOf(record, cmd) {
  // The namespace's own handler, looked up here rather than through `ownFunction`: a small
  // function called on every message is one V8 compiles on its own early in a worker's life
  // (counted over a worker's first 4000 replies: ~1.1k fewer machine instructions each).
  const iface = record.iface
  if (iface !== null) {
    const handlers = iface.handlers
    if (handlers !== null && typeof handlers === 'object' && hasOwn.call(handlers, cmd)) {
      const handler = handlers[cmd]
      if (typeof handler === 'function') return handler
    }
  }
  if (record.foreign === null) return undefined
  return ownFunction(record.foreign.interface?.handlers, cmd)
}

function ownFunction(handlers, cmd) {
  if (handlers === null || typeof handlers !== 'object') return undefined
  if (!hasOwn.call(handlers, cmd)) return undefined
  const handler = handlers[cmd]
  return typeof handler === 'function' ? handler : undefined
}

context.onExpired = onExpired
receive.hooks.findNamespace = find
receive.hooks.handlerOf = handlerOf
receive.hooks.onWorkerReady = onWorkerReady
if (context.isPrimary) {
  receive.hooks.onRelay = (peer, internalName, seq, payload) =>
    require('./relay').onRelay(peer, internalName, seq, payload, (name) => openRecord(name))
}

/** The record of namespace `name`, opening it here if only workers used it so far. */
function openRecord(name) {
  open(name)
  return records.get(name)
}

const internal = createInternal()

function createInternal() {
  const foreign = shared.foreignEntry(INTERNAL_NAME) ?? null
  const record = newRecord(INTERNAL_NAME, context.core.internalNamespace(), foreign)
  // Our own interface even beside 1.x: internal commands are handled here, not through handlers.
  const iface = { name: INTERNAL_NAME, handlers: {} }
  if (context.isPrimary) iface.sendTo = (worker, cmd, payload) => send.sendToWorker(record, worker, cmd, payload, undefined, false)
  if (context.hasParent) iface.sendToMaster = (cmd, payload) => send.sendToPrimary(record, cmd, payload, undefined)
  record.iface = iface
  if (foreign === null) publish(record)
  return record
}

module.exports = { open, find, addMethod }
