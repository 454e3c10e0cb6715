'use strict'
// Sending: `sendTo` in the primary, `sendToMaster` in a worker, and flushing a worker's queue when
// it announces a namespace. One core call per message decides its sequence number and whether it
// goes out now or waits; the payload and handle stay here.

const { setImmediate: nodeSetImmediate } = require('node:timers')
const context = require('./context')
const pending = require('./pending')
const peers = require('./peers')
const errors = require('./errors')
const { Message } = require('./message')
const debug = require('./debug')
const { CLOSED_TURN } = require('./turn')

/** The command as 1.x took it: turned into a string; empty, null, undefined or [] are refused. */
function commandOf(cmd) {
  const command = cmd ? String(cmd) : ''
  if (!command) throw errors.commandRequired()
  return command
}

/** Writes a message; `from` is the worker a relayed one comes from (2.x only; 1.x ignores it). */
function write(peer, nsName, cmd, seq, payload, handle, from) {
  if (from === undefined) peer.sendMessage(nsName, cmd, seq, payload, handle)
  else peer.write({ __clusterphone: { ns: nsName, cmd, seq, payload, from } }, handle)
}

/** `from`: the id of the worker a relayed message comes from (lib/relay.js). */
function sendToWorker(ns, worker, cmd, payload, handle, forceQueueHandle, from) {
  if (worker === null || (typeof worker !== 'object' && typeof worker !== 'function')) throw errors.workerRequired()
  const peer = peers.ofWorker(worker)
  if (peer.goneReason === null && peers.isWorkerGone(worker)) peers.gone(peer, errors.workerDied())
  // A gone peer is unknown to the core, which throws the SPEC's "worker is dead" error.
  const command = peer.goneReason !== null || (typeof cmd === 'string' && cmd !== '') ? cmd : commandOf(cmd)
  const core = context.core
  const lane = peer.lanes + ns.id
  const result = handle ? core.sendHandle(lane, forceQueueHandle === true) : core.send(lane)
  if (result > 0) {
    if (debug.enabled) debug('send %s ns=%s cmd=%s seq=%d', peer.label, ns.name, command, result)
    if (from === undefined) peer.sendMessage(ns.name, command, result, payload, handle)
    else write(peer, ns.name, command, result, payload, handle, from)
    return new Message(peer, ns, command, result, -1, undefined)
  }
  const slot = -result - 1
  if (debug.enabled) debug('queue %s ns=%s cmd=%s (not ready)', peer.label, ns.name, command)
  const message = new Message(peer, ns, command, 0, slot, undefined)
  pending.queue(slot, { message, payload, handle, from })
  return message
}

function sendToPrimary(ns, cmd, payload, handle) {
  const command = typeof cmd === 'string' && cmd !== '' ? cmd : commandOf(cmd)
  const peer = peers.thePrimary()
  // In a worker a failed send never throws: the acknowledgement rejects with the reason.
  const unreachable = peer.unreachable()
  if (unreachable !== null) return new Message(peer, ns, command, 0, -1, unreachable)
  const seq = context.core.send(peer.lanes + ns.id)
  if (debug.enabled) debug('send %s ns=%s cmd=%s seq=%d', peer.label, ns.name, command, seq)
  try {
    peer.sendMessage(ns.name, command, seq, payload, handle)
  } catch (err) {
    return new Message(peer, ns, command, seq, -1, errors.sendFailed(err))
  }
  return new Message(peer, ns, command, seq, -1, undefined)
}

/**
 * Sends to the primary what nobody awaits or configures (the readiness announcement): no message
 * object, so no same-turn window to open, which keeps the first `setImmediate` (~0.2 ms to set up)
 * out of a worker's start. A write that fails is the channel closing, which 'disconnect' handles.
 */
function notifyPrimary(ns, cmd, payload) {
  const peer = peers.thePrimary()
  if (peer.unreachable() !== null) return
  const seq = context.core.send(peer.lanes + ns.id)
  if (debug.enabled) debug('send %s ns=%s cmd=%s seq=%d', peer.label, ns.name, cmd, seq)
  try {
    peer.sendMessage(ns.name, cmd, seq, payload, undefined)
  } catch {
    // Only a closed channel can fail it: the payload is ours.
  }
}

/**
 * Sends what the core handed back from `announce` (`[firstTime, slot, seq, ...]`), in order. A
 * message that cannot be written (its payload does not serialize) rejects its own acknowledgement
 * and does not stop the rest.
 */
function flush(peer, ns, announced) {
  for (let i = 1; i < announced.length; i += 2) {
    const slot = announced[i]
    const seq = announced[i + 1]
    const queued = pending.queuedMessage(slot)
    if (queued === undefined) continue
    const { message, payload, handle, from } = queued
    message.slot = -1
    message.seq = seq
    const awaited = pending.isAwaited(slot)
    if (!awaited) pending.forget(slot)
    if (debug.enabled) debug('flush %s ns=%s cmd=%s seq=%d', peer.label, ns.name, message.cmd, seq)
    try {
      write(peer, ns.name, message.cmd, seq, payload, handle, from)
    } catch (err) {
      const reason = errors.sendFailed(err)
      message.failure = reason
      if (awaited && context.core.settle(peer.lanes + ns.id, seq) === slot) pending.reject(slot, reason)
    }
  }
}

/**
 * `sendToPrimary` whose payload is made when the current turn ends, once `within()` and
 * `acknowledged()` can no longer be called (`makePayload(message)`); the sequence number is taken
 * now. The write is a `setImmediate` scheduled after the turn's own (lib/turn.js), so it sees the
 * message's final settings even when they were made after an `await` in the same turn. A send is
 * not a timer, so fake timers must not hold it back (`writeSoon`); under one, the turn's window
 * may still be open at the write: it closes for this message.
 */
function sendToPrimaryLater(ns, cmd, label, makePayload) {
  const peer = peers.thePrimary()
  const unreachable = peer.unreachable()
  if (unreachable !== null) return new Message(peer, ns, label, 0, -1, unreachable)
  const seq = context.core.send(peer.lanes + ns.id)
  const message = new Message(peer, ns, label, seq, -1, undefined)
  writeSoon(() => {
    message.turn = CLOSED_TURN
    if (peer.goneReason !== null) return
    if (debug.enabled) debug('send %s ns=%s cmd=%s seq=%d', peer.label, ns.name, cmd, seq)
    try {
      peer.sendMessage(ns.name, cmd, seq, makePayload(message), undefined)
    } catch (err) {
      const reason = errors.sendFailed(err)
      message.failure = reason
      const slot = context.core.settle(peer.lanes + ns.id, seq)
      if (slot >= 0) pending.reject(slot, reason)
    }
  })
  return message
}

/**
 * Runs `write` once, in the first check phase that comes: on Node's `setImmediate` as it was at
 * load and, when the global one is another now, on that too. Fake timers replace both the global
 * and `node:timers` (Node's `mock.timers`, sinon's): loaded under a fake that is gone now, the
 * first alone would never run; sent under one, the second alone would wait for its ticks.
 */
function writeSoon(write) {
  let done = false
  const once = () => {
    if (done) return
    done = true
    write()
  }
  nodeSetImmediate(once)
  const current = globalThis.setImmediate
  if (current !== nodeSetImmediate) current(once)
}

module.exports = { sendToWorker, sendToPrimary, sendToPrimaryLater, notifyPrimary, flush, commandOf }
