'use strict'
// Peers on the other end of the channel: every cluster worker and forked child in the primary,
// the primary (or parent) in a worker (or child). Each has a small record (its core id, its label for error messages, why it is gone) kept
// on the Worker object under a symbol, and a send callback made once per peer, not per message,
// so a failed write is never an unhandled 'error' event.

const cluster = require('node:cluster')
const { ChildProcess } = require('node:child_process')
const context = require('./context')
const shared = require('./shared')
const pending = require('./pending')
const errors = require('./errors')
const { LANE_PEER } = require('./native')
const outbox = require('./outbox')
const debug = require('./debug')

const kPeer = Symbol('clusterphone.peer')
const byId = new Map()

class Peer {
  constructor(target, ready, label, isParent) {
    this.id = context.core.addPeer(ready)
    /** The primary (or parent) as seen from a worker (or child): handlers get no peer argument. */
    this.isParent = isParent
    /** Add a namespace id to get this peer's lane in it (lib/native.js). */
    this.lanes = this.id * LANE_PEER
    this.target = target
    this.channel = channelOf(target)
    this.label = label
    /** Why acknowledgements to this peer can no longer arrive, once it is gone. */
    this.goneReason = null
    /**
     * Backpressure (see `whenWritable`): writes made and completed (send callbacks run in write
     * order), and the write whose `send()` returned false, the channel's queue being full.
     */
    this.writes = 0
    this.written = 0
    this.blockedAt = 0
    this.drained = null
    /** The peer reads batches (lib/batching.js); then a busy tick's writes are gathered (lib/outbox.js). */
    this.batching = false
    /** The channel serializes with `advanced`: values with no exact copy are not gathered. */
    this.copies = false
    /** Whether it was written to in this tick (lib/outbox.js), and what is gathered to be written when it ends. */
    this.burst = 0
    this.gathered = 0
    this.records = []
    /** The gathered records' values, in order (lib/outbox.js). */
    this.values = []
    /** A value too large, or with no exact copy, came this tick: the rest of it writes at once. */
    this.gatheringStopped = false
    /** Messages still to write at once after a value too large to copy (lib/outbox.js). */
    this.gatherPause = 0
    /**
     * Writes in progress: a getter or `toJSON` run while one is serialized may send to this peer
     * too, and that message is written at once, ahead of it, as 1.x wrote it.
     */
    this.writing = 0
    this.onSent = (err) => {
      this.written++
      outbox.wrote(this)
      if (err) gone(this, this.isParent ? errors.sendFailed(err) : errors.workerDied(err))
      else if (this.blockedAt !== 0 && this.written >= this.blockedAt) this.unblock()
    }
    byId.set(this.id, this)
  }

  /**
   * Sends an envelope, or gathers it into a batch in a busy tick (lib/outbox.js). Either way its
   * payload is taken now (serialized, or copied under `advanced`), and it throws if the payload
   * does not serialize.
   */
  sendMessage(nsName, cmd, seq, payload, handle) {
    if (this.batching && handle === undefined && outbox.shouldGather(this) && outbox.gatherMessage(this, nsName, cmd, seq, payload)) return
    // Key order as 1.x wrote each direction, for listeners that look at the text.
    const envelope = this.isParent ? { ns: nsName, seq, cmd, payload } : { ns: nsName, cmd, seq, payload }
    this.write({ __clusterphone: envelope }, handle)
  }

  /** Sends an acknowledgement; never throws (a reply that does not serialize becomes an error). */
  sendAck(nsName, seq, reply, error) {
    try {
      if (this.batching && outbox.shouldGather(this) && outbox.gatherAck(this, nsName, seq, reply, error)) return
      this.write({ __clusterphone: { ns: nsName, ack: seq, reply, error } }, undefined)
    } catch (err) {
      // A BigInt under JSON, a cycle: the sender gets that as an error instead of a timeout.
      if (error === undefined) this.sendAck(nsName, seq, undefined, errors.toErrorAck(err))
    }
  }

  /** Writes one message; the callback turns a failed write into rejected acknowledgements. */
  write(message, handle) {
    let ok
    this.writing++
    try {
      ok = this.target.send(message, handle, undefined, this.onSent)
    } finally {
      this.writing--
    }
    this.writes++
    if (!ok && this.goneReason === null) this.blockedAt = this.writes
    return ok
  }

  /**
   * Why nothing can be written to this peer now, or null: a closed channel to the primary fails a
   * write with the error `process.send` gives (also in the tick that closed it, before Node's
   * 'disconnect' event); a peer gone otherwise with the reason it went.
   */
  unreachable() {
    if (this.isParent && this.target.connected === false) return errors.channelClosed()
    return this.goneReason
  }

  /** Resolves once the write that found the queue full has gone out (at once when none did). */
  whenWritable() {
    const unreachable = this.unreachable()
    if (unreachable !== null) return Promise.reject(unreachable)
    if (this.gathered !== 0) outbox.flush(this)
    if (this.blockedAt === 0) return Promise.resolve()
    if (this.drained === null) {
      let resolve, reject
      const promise = new Promise((res, rej) => {
        resolve = res
        reject = rej
      })
      this.drained = { promise, resolve, reject }
    }
    return this.drained.promise
  }

  unblock() {
    this.blockedAt = 0
    const drained = this.drained
    this.drained = null
    if (drained !== null) drained.resolve()
  }
}

/** The object Node's channel lives on: a Worker's ChildProcess, or the target itself. */
function channelOf(target) {
  return target.process ?? target
}

/** The record of a cluster Worker or a forked ChildProcess, made on first sight. */
function ofWorker(worker) {
  let peer = worker[kPeer]
  if (peer === undefined) {
    if (worker instanceof ChildProcess) return ofChild(worker)
    peer = new Peer(worker, shared.isLegacyReady(worker), `worker ${worker.id}`, false)
    worker[kPeer] = peer
  }
  return peer
}

/**
 * A `child_process.fork()` child: cluster's events do not cover it, so its messages, exit and
 * disconnect are listened to here, from its first sight (fork it with `clusterphone.fork()`, or
 * send to it in the tick that forked it, so its readiness announcement is not missed).
 */
function ofChild(child) {
  const peer = new Peer(child, false, `child ${child.pid}`, false)
  child[kPeer] = peer
  child.on('message', (message, handle) => context.dispatch(child, message, handle))
  require('./batching').listenTo(child)
  child.once('disconnect', () => gone(peer, errors.workerDied(undefined, child.exitCode, child.signalCode)))
  child.once('exit', (code, signal) => gone(peer, errors.workerDied(undefined, code, signal)))
  return peer
}

/** A worker (or child) whose channel is closed counts as dead, even before its state says so. */
function isWorkerGone(worker) {
  if (worker.state === 'dead') return true
  if (typeof worker.isConnected === 'function') return !worker.isConnected()
  if (typeof worker.connected === 'boolean') return !worker.connected
  return worker.process?.connected === false
}

/** The peer is gone: every acknowledgement awaited from it, sent or queued, rejects now. */
function gone(peer, reason) {
  if (peer.goneReason !== null) return
  peer.goneReason = reason
  byId.delete(peer.id)
  peer.records = []
  peer.values = []
  peer.gathered = 0
  if (peer.drained !== null) {
    peer.drained.promise.catch(() => {})
    peer.drained.reject(reason)
    peer.drained = null
  }
  const slots = context.core.peerGone(peer.id)
  if (debug.enabled) debug('gone %s: %d acknowledgements or queued messages dropped', peer.label, slots.length)
  for (let i = 0; i < slots.length; i++) pending.reject(slots[i], reason)
}

function byPeerId(id) {
  return byId.get(id)
}

let primary = null

function setUp() {
  if (context.hasParent) {
    primary = new Peer(process, true, cluster.isWorker ? 'master' : 'parent', true)
    process.on('disconnect', () => gone(primary, errors.primaryGone()))
  }
  if (context.isPrimary) {
    // 'disconnect' usually comes first; exitCode/signal are filled in when already known.
    cluster.on('disconnect', (worker) => {
      const peer = worker[kPeer]
      if (peer !== undefined) gone(peer, errors.workerDied(undefined, worker.process?.exitCode ?? null, worker.process?.signalCode ?? null))
    })
    cluster.on('exit', (worker, code, signal) => {
      const peer = worker[kPeer]
      if (peer !== undefined) gone(peer, errors.workerDied(undefined, code ?? null, signal ?? null))
    })
  }
}

function thePrimary() {
  return primary
}

module.exports = { ofWorker, channelOf, isWorkerGone, gone, byPeerId, thePrimary, setUp }
