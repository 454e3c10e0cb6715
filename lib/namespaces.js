'use strict'
// Namespaces: the objects users get from `ns(name)`, their core ids, and the process-wide table
// 1.x shares on `process.__clusterphone` (so a 1.x loaded after us finds our namespaces, and the
// bus of the newest version, ours, handles every envelope once).

const context = require('./context')
const pending = require('./pending')
const peers = require('./peers')
const send = require('./send')
const receive = require('./receive')
const shared = require('./shared')
const errors = require('./errors')

const INTERNAL_NAME = 'clusterphone'
const kRecord = Symbol('clusterphone.namespace')

/** name → record { id, name, internal, iface } */
const records = new Map()
/** core id → record */
const byId = []

function createRecord(name, id, iface) {
  const record = { id, name, internal: id === context.core.internalNamespace(), iface }
  records.set(name, record)
  byId[id] = record
  shared.publish(name, {
    interface: iface,
    [kRecord]: record,
    // For a newer bus than ours (1.x's message-bus.js protocol); ours never calls these.
    getPending(seq) {
      const peer = context.isPrimary ? peers.ofWorker(this) : peers.thePrimary()
      const slot = context.core.settle(peer.id, record.id, seq)
      if (slot < 0) return undefined
      const resolve = (reply) => pending.resolve(slot, reply)
      resolve.monitored = true
      return [resolve, (err) => pending.reject(slot, err)]
    },
    workerReady(worker) {
      onWorkerReady(peers.ofWorker(worker), { targetNs: name })
    },
  })
  return record
}

/** The interface object of a namespace: `{ name, handlers, sendTo | sendToMaster }`. */
function makeInterface(target, name) {
  target.name = name
  target.handlers = {}
  return target
}

function attachSend(iface, record) {
  if (context.isPrimary) {
    iface.sendTo = function sendTo(worker, cmd, payload, handle, forceQueueHandle) {
      return send.sendToWorker(record, worker, cmd, payload, handle, forceQueueHandle)
    }
  } else {
    iface.sendToMaster = function sendToMaster(cmd, payload, handle) {
      return send.sendToPrimary(record, cmd, payload, handle)
    }
  }
}

/**
 * The namespace `name` (a new one, or the one this name already has). `target` is the object to
 * turn into the interface (the callable default namespace), or a fresh one.
 */
function open(name, target) {
  const key = name ? String(name) : ''
  // The core refuses "" and the private name with the SPEC's errors.
  const id = context.core.openNamespace(key)
  const existing = records.get(key)
  if (existing !== undefined) return existing.iface
  const fromOtherCopy = shared.interfaceOf(key)
  if (fromOtherCopy !== undefined) return fromOtherCopy
  return define(key, id, target)
}

function define(name, id, target) {
  const iface = makeInterface(target ?? {}, name)
  const record = createRecord(name, id, iface)
  attachSend(iface, record)
  if (!context.isPrimary && !record.internal) announce(name)
  return iface
}

/** A worker tells the primary it can take messages in namespace `name`. */
function announce(name) {
  internal.iface.sendToMaster('workerReady', { targetNs: name })
}

function onWorkerReady(peer, payload) {
  const target = payload !== null && typeof payload === 'object' ? payload.targetNs : undefined
  if (typeof target !== 'string' || target === '') return
  const record = records.get(target)
  const announced = context.core.announce(peer.id, record === undefined || record.internal ? -1 : record.id)
  if (record !== undefined && announced.length > 1) send.flush(peer, record, announced)
  if (announced[0] === 1 && typeof peer.target.emit === 'function') peer.target.emit('clusterphone:online')
}

/** A deadline passed: the acknowledgement rejects with the SPEC's timeout error. */
context.onExpired = (slot, peerId, nsId, seq) => {
  const peer = peers.byPeerId(peerId)
  const record = byId[nsId]
  const cmd = pending.commandOf(slot)
  pending.reject(slot, errors.timedOut(cmd, seq, peer === undefined ? `peer ${peerId}` : peer.label, record === undefined ? nsId : record.name))
}

receive.hooks.findNamespace = (name) => records.get(name)
receive.hooks.onWorkerReady = onWorkerReady

const internal = createInternal()

function createInternal() {
  const id = context.core.internalNamespace()
  const iface = makeInterface({}, INTERNAL_NAME)
  const record = createRecord(INTERNAL_NAME, id, iface)
  attachSend(iface, record)
  return record
}

module.exports = { open, define, records }
