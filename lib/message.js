'use strict'
// The object `sendTo`/`sendToMaster` return: `within(ms)`, `acknowledged(cb)` / `ackd(cb)`.
// Methods live on the prototype; a message nobody awaits costs this one small object and nothing
// in the core.

const context = require('./context')
const pending = require('./pending')
const errors = require('./errors')
const ackPromise = require('./ack-promise')
const { currentTurn, isCurrentTurn } = require('./turn')

class Message {
  /**
   * @param peer   the receiving peer's record (lib/peers.js)
   * @param ns     the namespace record (lib/namespaces.js)
   * @param seq    sequence number of a message already written, 0 while queued
   * @param slot   core slot of a queued message, -1 once written
   * @param failure an error the acknowledgement rejects with (a send that failed in a worker)
   */
  constructor(peer, ns, cmd, seq, slot, failure) {
    this.peer = peer
    this.ns = ns
    this.cmd = cmd
    this.seq = seq
    this.slot = slot
    this.failure = failure
    this.timeout = context.settings.ackTimeout
    this.turn = currentTurn()
    this.promise = undefined
    this.abortSignal = undefined
  }

  within(ms) {
    this.timeout = checkWithin(this, ms)
    return this
  }

  /**
   * Cancels with an AbortSignal: when it aborts, the acknowledgement rejects with an AbortError
   * and a message still queued is never sent. An already aborted signal does that at once.
   */
  signal(abortSignal) {
    this.abortSignal = checkSignal(this, abortSignal)
    if (this.slot >= 0) {
      if (abortSignal.aborted) cancelSlot(this.slot, abortSignal)
      else cancelOnAbort(this.slot, abortSignal)
    }
    return this
  }

  acknowledged(cb) {
    if (!isCurrentTurn(this.turn)) throw errors.onlyImmediately()
    let promise = this.promise
    if (promise === undefined) promise = this.promise = this.await()
    if (typeof cb === 'function') deliverTo(promise, cb)
    return promise
  }

  /** Registers the acknowledgement with the core and arms the clock's timer. */
  await() {
    const promise = ackPromise.create()
    const { resolve, reject } = ackPromise.captured
    if (this.failure !== undefined) {
      pending.rejectNew(promise, resolve, reject, this.failure)
      return promise
    }
    const abortSignal = this.abortSignal
    if (abortSignal !== undefined && abortSignal.aborted) {
      pending.rejectNew(promise, resolve, reject, errors.aborted(abortSignal.reason))
      return promise
    }
    const peer = this.peer
    if (peer.goneReason !== null) {
      pending.rejectNew(promise, resolve, reject, peer.goneReason)
      return promise
    }
    const core = context.core
    const clock = context.clocks.current()
    const now = clock.now()
    const deadline = now + this.timeout
    let slot = this.slot
    if (slot >= 0) {
      core.watchQueued(slot, deadline)
    } else {
      slot = core.watchSent(peer.lanes + this.ns.id, this.seq, deadline)
      if (slot < 0) {
        // -1: the peer went away since the send.
        pending.rejectNew(promise, resolve, reject, peer.goneReason ?? errors.workerDied())
        return promise
      }
    }
    pending.hold(slot, promise, resolve, this.cmd)
    // A queued message listens since signal(); a sent one from now on.
    if (abortSignal !== undefined && this.slot < 0) cancelOnAbort(slot, abortSignal)
    if (clock.timerPerMessage) clock.armFor(slot, resolve, deadline, this.timeout)
    else if (deadline < clock.armedAt) clock.arm(deadline, now)
    return promise
  }
}

// The alias is the same function: one call less per awaited message.
Object.defineProperty(Message.prototype, 'ackd', { value: Message.prototype.acknowledged, writable: true, configurable: true, enumerable: false })

/** `within(ms)` on a message (or broadcast) `message`: the timeout, or the SPEC's errors. */
function checkWithin(message, ms) {
  if (!isCurrentTurn(message.turn)) throw errors.onlyImmediately()
  if (message.promise !== undefined) throw errors.withinAfterAcknowledged()
  const timeout = typeof ms === 'number' ? ms : parseInt(ms, 10)
  if (!(timeout > 0)) throw errors.timeoutNotANumber()
  return timeout
}

/** `signal(abortSignal)` on a message (or broadcast): the signal, or an error. */
function checkSignal(message, abortSignal) {
  if (!isCurrentTurn(message.turn)) throw errors.onlyImmediately()
  if (message.promise !== undefined) throw errors.signalAfterAcknowledged()
  if (
    abortSignal === null ||
    typeof abortSignal !== 'object' ||
    typeof abortSignal.aborted !== 'boolean' ||
    typeof abortSignal.addEventListener !== 'function' ||
    typeof abortSignal.removeEventListener !== 'function'
  ) {
    throw errors.notAnAbortSignal()
  }
  return abortSignal
}

/**
 * The `cb(err, reply)` form of `acknowledged(cb)`, called as 1.x's bluebird `nodeify` called it:
 * `cb(null)` when there is no reply, `cb(null, reply)` otherwise, `cb(err)` on failure.
 */
function deliverTo(promise, cb) {
  promise.then(
    (reply) => (reply === undefined ? cb(null) : cb(null, reply)),
    (err) => cb(err),
  )
}

/** Gives up on what `slot` holds: never sent if queued, rejected with an AbortError if awaited. */
function cancelSlot(slot, abortSignal) {
  if (context.core.cancel(slot)) pending.reject(slot, errors.aborted(abortSignal.reason))
}

/**
 * Per signal, the slots it cancels, behind one 'abort' listener: a listener per message would pass
 * EventTarget's threshold of 10 and print a leak warning for one signal given to many messages
 * (a `broadcast(...).signal(s)` to 11 workers).
 */
const watched = new WeakMap()

/** Cancels `slot` when the signal aborts; the slot leaves the watch when it is forgotten. */
function cancelOnAbort(slot, abortSignal) {
  let watch = watched.get(abortSignal)
  if (watch === undefined) {
    const slots = new Set()
    const onAbort = () => {
      watched.delete(abortSignal)
      for (const watchedSlot of slots) cancelSlot(watchedSlot, abortSignal)
    }
    watch = { slots, onAbort }
    watched.set(abortSignal, watch)
    abortSignal.addEventListener('abort', onAbort, { once: true })
  }
  watch.slots.add(slot)
  pending.onForget(slot, () => {
    watch.slots.delete(slot)
    if (watch.slots.size === 0 && watched.get(abortSignal) === watch) {
      watched.delete(abortSignal)
      abortSignal.removeEventListener('abort', watch.onAbort)
    }
  })
}

module.exports = { Message, checkWithin, checkSignal, deliverTo }
