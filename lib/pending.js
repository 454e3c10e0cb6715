'use strict'
// What JavaScript keeps per core slot: the Promise's resolving functions and the command name for
// awaited messages, and the payload and handle for queued ones. Plain arrays indexed by slot id:
// no object, closure or string is built per message.

const resolvers = []
const rejecters = []
const commands = []
/** Queued messages: { cmd, payload, handle } until the worker announces the namespace. */
const queued = []

function hold(slot, resolve, reject, cmd) {
  resolvers[slot] = resolve
  rejecters[slot] = reject
  commands[slot] = cmd
}

function isAwaited(slot) {
  return rejecters[slot] !== undefined
}

function queue(slot, message) {
  queued[slot] = message
}

function queuedMessage(slot) {
  return queued[slot]
}

function commandOf(slot) {
  return commands[slot]
}

function forget(slot) {
  resolvers[slot] = undefined
  rejecters[slot] = undefined
  commands[slot] = undefined
  queued[slot] = undefined
}

function resolve(slot, value) {
  const fn = resolvers[slot]
  forget(slot)
  if (fn !== undefined) fn(value)
}

function reject(slot, reason) {
  const fn = rejecters[slot]
  forget(slot)
  if (fn !== undefined) fn(reason)
}

/** Slots JavaScript still holds something for (tests check it drains to 0). */
function held() {
  let count = 0
  for (let slot = 0; slot < queued.length || slot < rejecters.length; slot++) {
    if (rejecters[slot] !== undefined || queued[slot] !== undefined) count++
  }
  return count
}

module.exports = { hold, isAwaited, queue, queuedMessage, commandOf, forget, resolve, reject, held }
