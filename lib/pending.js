'use strict'
// What JavaScript keeps per core slot: the Promise, its resolve function and the command name for
// awaited messages, and the payload and handle for queued ones. Plain arrays indexed by slot id:
// no object, closure or string is built per message.
//
// Only `resolve` is kept: a rejection resolves with a thenable that rejects (`Rejection`). The
// promise's reject function is then garbage from the start, ~65 B less per pending message (a
// native Promise, its resolving functions and the caller's `.then` are ~340 B on Node 20; with
// `resolve` alone, ~274 B). Such a rejection settles one promise job later than a direct one, so
// a settlement made after it in the same run of JavaScript (the next acknowledgement of a batch)
// goes through a thenable too until that job has run: every acknowledgement settles in the order
// it arrived.

const ackPromise = require('./ack-promise')

/**
 * The promise of an awaited message that may have no handler yet, marked handled if it rejects
 * (lib/ack-promise.js). A `.then` on the promise of the message held last (`.ackd().then(...)`,
 * the usual case) clears it, so a burst of timeouts pays nothing for promises that are handled.
 */
const maybeUnhandled = []
let lastHeld = -1
ackPromise.onThen((promise) => {
  if (lastHeld >= 0 && maybeUnhandled[lastHeld] === promise) maybeUnhandled[lastHeld] = undefined
})
const resolvers = []
const commands = []
/** Queued messages: { cmd, payload, handle } until the worker announces the namespace. */
const queued = []
/** Called when a slot is forgotten (removes an AbortSignal listener); rare, so sparse. */
const cleanups = []
/** Slots holding anything; at 0 long arrays drop their length, so a burst leaves no heap behind. */
let count = 0
const KEEP_LENGTH = 1024

function hold(slot, promise, resolve, cmd) {
  if (resolvers[slot] === undefined && queued[slot] === undefined) count++
  maybeUnhandled[slot] = promise
  lastHeld = slot
  resolvers[slot] = resolve
  commands[slot] = cmd
}

function isAwaited(slot) {
  return resolvers[slot] !== undefined
}

/** Whether `slot` still holds the awaited message that was held with `resolve`. */
function holds(slot, resolve) {
  return resolvers[slot] === resolve
}

function queue(slot, message) {
  if (resolvers[slot] === undefined && queued[slot] === undefined) count++
  queued[slot] = message
}

function queuedMessage(slot) {
  return queued[slot]
}

function commandOf(slot) {
  return commands[slot]
}

function forget(slot) {
  if (resolvers[slot] === undefined && queued[slot] === undefined) return
  maybeUnhandled[slot] = undefined
  resolvers[slot] = undefined
  commands[slot] = undefined
  queued[slot] = undefined
  if (cleanups[slot] !== undefined) runCleanup(slot)
  if (--count === 0 && Math.max(resolvers.length, queued.length) > KEEP_LENGTH) {
    maybeUnhandled.length = 0
    resolvers.length = 0
    commands.length = 0
    queued.length = 0
    cleanups.length = 0
  }
}

/** Runs `fn` once when `slot` is forgotten (settled, expired, flushed unawaited, peer gone). */
function onForget(slot, fn) {
  runCleanup(slot)
  cleanups[slot] = fn
}

/**
 * Runs `fn` too when `slot` is forgotten, after what `onForget` registered. Only for what comes
 * after `acknowledged()` (a fake timer's clearing), when no `signal()` can replace that any more.
 */
function alsoOnForget(slot, fn) {
  const first = cleanups[slot]
  cleanups[slot] =
    first === undefined
      ? fn
      : () => {
          try {
            first()
          } finally {
            fn()
          }
        }
}

/** Runs and drops what `onForget` registered for `slot`, if anything. */
function runCleanup(slot) {
  const cleanup = cleanups[slot]
  if (cleanup === undefined) return
  cleanups[slot] = undefined
  try {
    cleanup()
  } catch {
    // It calls into what the user gave (an AbortSignal-like object, a fake clearTimeout): if that
    // throws, the slot is still forgotten and its acknowledgement still settles.
  }
}

/** A thenable that rejects with `reason`: what `reject` resolves a promise with. */
class Rejection {
  constructor(reason) {
    this.reason = reason
  }

  then(onFulfilled, onRejected) {
    onRejected(this.reason)
  }
}

/** A thenable that fulfils with `value`: a resolution that must not overtake a `Rejection`. */
class Fulfilment {
  constructor(value) {
    this.value = value
  }

  then(onFulfilled) {
    onFulfilled(this.value)
  }
}

/** A `Rejection` was handed out and its promise job has not run yet. */
let rejectionInFlight = false
const resolvedPromise = Promise.resolve()
const promiseThen = Promise.prototype.then
function rejectionsDone() {
  rejectionInFlight = false
}

function resolve(slot, value) {
  const fn = resolvers[slot]
  forget(slot)
  if (fn === undefined) return
  if (rejectionInFlight) fn(new Fulfilment(value))
  else fn(value)
}

/** Rejects through `resolve`: one promise job later, with later settlements of this run behind it. */
function rejectThrough(resolve, reason) {
  resolve(new Rejection(reason))
  if (!rejectionInFlight) {
    rejectionInFlight = true
    // Queued after the Rejection's job, and before any job of a thenable handed out after this.
    promiseThen.call(resolvedPromise, rejectionsDone)
  }
}

/**
 * Rejects a promise nobody could have handled yet (not returned yet), with `reject` when nothing
 * is in flight, else after the `Rejection`s handed out before it in this run.
 */
function rejectNew(promise, resolve, reject, reason) {
  ackPromise.markHandled(promise)
  if (rejectionInFlight) rejectThrough(resolve, reason)
  else reject(reason)
}

function reject(slot, reason) {
  const fn = resolvers[slot]
  const promise = maybeUnhandled[slot]
  forget(slot)
  if (fn === undefined) return
  if (promise !== undefined) ackPromise.markHandled(promise)
  rejectThrough(fn, reason)
}

/** Slots JavaScript still holds something for (tests check it drains to 0). */
function held() {
  return count
}

module.exports = { hold, holds, isAwaited, queue, queuedMessage, commandOf, forget, onForget, alsoOnForget, resolve, reject, rejectNew, held }
