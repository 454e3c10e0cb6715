'use strict'
// What JavaScript keeps per core slot: the Promise, its resolving functions and the command name for
// awaited messages, and the payload and handle for queued ones. Plain arrays indexed by slot id:
// no object, closure or string is built per message.

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
const rejecters = []
const commands = []
/** Queued messages: { cmd, payload, handle } until the worker announces the namespace. */
const queued = []
/** Called when a slot is forgotten (removes an AbortSignal listener); rare, so sparse. */
const cleanups = []
/** Slots holding anything; at 0 long arrays drop their length, so a burst leaves no heap behind. */
let count = 0
const KEEP_LENGTH = 1024

function hold(slot, promise, resolve, reject, cmd) {
  if (rejecters[slot] === undefined && queued[slot] === undefined) count++
  maybeUnhandled[slot] = promise
  lastHeld = slot
  resolvers[slot] = resolve
  rejecters[slot] = reject
  commands[slot] = cmd
}

function isAwaited(slot) {
  return rejecters[slot] !== undefined
}

/** Whether `slot` still holds the awaited message that was held with `reject`. */
function holds(slot, reject) {
  return rejecters[slot] === reject
}

function queue(slot, message) {
  if (rejecters[slot] === undefined && queued[slot] === undefined) count++
  queued[slot] = message
}

function queuedMessage(slot) {
  return queued[slot]
}

function commandOf(slot) {
  return commands[slot]
}

function forget(slot) {
  if (rejecters[slot] === undefined && queued[slot] === undefined) return
  maybeUnhandled[slot] = undefined
  resolvers[slot] = undefined
  rejecters[slot] = undefined
  commands[slot] = undefined
  queued[slot] = undefined
  if (cleanups[slot] !== undefined) runCleanup(slot)
  if (--count === 0 && Math.max(rejecters.length, queued.length) > KEEP_LENGTH) {
    maybeUnhandled.length = 0
    resolvers.length = 0
    rejecters.length = 0
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

function resolve(slot, value) {
  const fn = resolvers[slot]
  forget(slot)
  if (fn !== undefined) fn(value)
}

function reject(slot, reason) {
  const fn = rejecters[slot]
  const promise = maybeUnhandled[slot]
  forget(slot)
  if (fn === undefined) return
  if (promise !== undefined) ackPromise.markHandled(promise)
  fn(reason)
}

/** Slots JavaScript still holds something for (tests check it drains to 0). */
function held() {
  return count
}

module.exports = { hold, holds, isAwaited, queue, queuedMessage, commandOf, forget, onForget, alsoOnForget, resolve, reject, held }
