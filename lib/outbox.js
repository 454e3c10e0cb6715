'use strict'
// Batching between two 2.x peers: when one tick writes many messages to a peer that said it reads
// batches (lib/batching.js), the first few go out as ordinary 1.x envelopes and the rest are
// gathered and written as one channel message at the end of the tick (promise jobs included).
// One write, one parse and one event on the other side instead of one each per message: that is
// where plain `cluster` messaging spends its time for small pipelined messages.
//
// A batch is Node-internal on the wire (`cmd` starts with `NODE_`, so it arrives as
// 'internalMessage'), and holds flat records, which JSON writes and reads faster than objects:
//   message:          [kind, ns, cmd, seq, payload?]
//   acknowledgement:  [kind | ACK, ns, seq, reply?, error?]
// where `kind` says which keys the envelope has, as JSON would have dropped an undefined one. The
// receiving side turns each record back into the very envelope a single write would have carried
// and emits it as a 'message' (lib/batching.js): every listener sees what it saw from 1.x.
//
// Order is kept: anything else written to the peer's channel (a handle, a relayed message, the
// user's own `worker.send`, `disconnect()`) first writes what is gathered (lib/batching.js guards
// the channel's `send`), and so does `whenWritable` and the process's 'exit'.

const context = require('./context')
const pending = require('./pending')
const errors = require('./errors')
const debug = require('./debug')

/** The internal command of batches and of the batching handshake. */
const BATCH_COMMAND = 'NODE_CLUSTERPHONE'
/**
 * Messages per peer and tick written at once, one by one, before gathering starts: a tick with a
 * few messages behaves exactly as 1.x (written before `sendTo` returns, which throws if the payload
 * does not serialize). Measured: 4, 8 or 16 make no difference to pipelined throughput.
 */
const WRITE_THROUGH = 8
/**
 * Records per batch. Larger batches gain nothing for small messages and cost pipelining for big
 * ones (the peer parses nothing until the whole batch is in): 1 KB × 1000 outstanding did
 * ~40k round trips/s at 32 against ~22k at 256.
 */
const MAX_BATCH = 32

const ACK = 1
const HAS_VALUE = 2
const HAS_ERROR = 4

/** Peers written to in this tick; reset (and their gathered records written) when it ends. */
let touched = []
let scheduled = false
const resolved = Promise.resolve()

function endTick() {
  scheduled = false
  const peers = touched
  touched = []
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i]
    peer.burst = 0
    if (peer.gathered !== 0) flush(peer)
  }
}

/**
 * Whether to gather this write instead of making it now: only for a peer that reads batches,
 * once this tick already wrote `WRITE_THROUGH` messages to it.
 */
function shouldGather(peer) {
  if (peer.burst >= WRITE_THROUGH) return true
  if (peer.burst++ === 0) {
    touched.push(peer)
    if (!scheduled) {
      scheduled = true
      // A promise job: it runs once this tick's callbacks are done, after the promise jobs
      // already queued (the `.then`s that send the next messages), and no fake-timer library
      // can hold it back. Measured ~15% more pipelined round trips than process.nextTick.
      resolved.then(endTick)
    }
  }
  return false
}

/** Whether the envelope keeps a key with this value: JSON drops undefined, functions, symbols. */
function kept(peer, value) {
  if (peer.advanced) return true
  return value !== undefined && typeof value !== 'function' && typeof value !== 'symbol'
}

/** Gathers a message; `message` (lib/message.js) learns of a write that failed. */
function gatherMessage(peer, nsName, cmd, seq, payload, message) {
  const records = peer.records
  if (kept(peer, payload)) records.push(HAS_VALUE, nsName, cmd, seq, payload)
  else records.push(0, nsName, cmd, seq)
  peer.owners.push(message)
  if (++peer.gathered >= MAX_BATCH) flush(peer)
}

function gatherAck(peer, nsName, seq, reply, error) {
  const records = peer.records
  const hasReply = kept(peer, reply)
  const hasError = kept(peer, error)
  records.push(ACK | (hasReply ? HAS_VALUE : 0) | (hasError ? HAS_ERROR : 0), nsName, seq)
  if (hasReply) records.push(reply)
  if (hasError) records.push(error)
  peer.owners.push(null)
  if (++peer.gathered >= MAX_BATCH) flush(peer)
}

/** Writes what is gathered for `peer` as one batch (a single record as a plain envelope). */
function flush(peer) {
  const records = peer.records
  const owners = peer.owners
  const count = peer.gathered
  peer.records = []
  peer.owners = []
  peer.gathered = 0
  if (peer.goneReason !== null) return
  if (debug.enabled) debug('batch %s: %d messages', peer.label, count)
  if (count === 1) {
    writeOneByOne(peer, records, owners)
    return
  }
  try {
    peer.write({ cmd: BATCH_COMMAND, b: records }, undefined)
  } catch {
    // One of them does not serialize: write each alone, so only that one fails.
    writeOneByOne(peer, records, owners)
  }
}

/** Writes the gathered records as ordinary envelopes; a failed one fails only itself. */
function writeOneByOne(peer, records, owners) {
  let owner = 0
  unpack(records, (message) => {
    const sender = owners[owner++]
    try {
      peer.write(message, undefined)
    } catch (err) {
      const envelope = message.__clusterphone
      if (sender !== null) failMessage(peer, sender, err)
      // A reply that does not serialize: the sender gets that as an error acknowledgement.
      else if (envelope.error === undefined) peer.sendAck(envelope.ns, envelope.ack, undefined, errors.toErrorAck(err))
    }
  })
}

/** A gathered message could not be written: its acknowledgement rejects with why. */
function failMessage(peer, message, err) {
  const reason = errors.sendFailed(err)
  message.failure = reason
  const slot = context.core.settle(peer.lanes + message.ns.id, message.seq)
  if (slot >= 0) pending.reject(slot, reason)
}

/** Writes every peer's gathered records now (the process is exiting). */
function flushAll() {
  for (let i = 0; i < touched.length; i++) if (touched[i].gathered !== 0) flush(touched[i])
}

/**
 * Calls `each(message)` with the message each record stands for, as a single write would have
 * carried it. A malformed record ends the batch (a 2.x peer never writes one).
 */
function unpack(records, each) {
  for (let i = 0; i < records.length; ) {
    const kind = records[i]
    if (typeof kind !== 'number') return
    const ns = records[i + 1]
    let envelope
    if ((kind & ACK) === 0) {
      envelope = (kind & HAS_VALUE) !== 0 ? { ns, cmd: records[i + 2], seq: records[i + 3], payload: records[i + 4] } : { ns, cmd: records[i + 2], seq: records[i + 3] }
      i += (kind & HAS_VALUE) !== 0 ? 5 : 4
    } else {
      envelope = { ns, ack: records[i + 2] }
      i += 3
      if ((kind & HAS_VALUE) !== 0) envelope.reply = records[i++]
      if ((kind & HAS_ERROR) !== 0) envelope.error = records[i++]
    }
    each({ __clusterphone: envelope })
  }
}

module.exports = { BATCH_COMMAND, shouldGather, gatherMessage, gatherAck, flush, flushAll, unpack }
