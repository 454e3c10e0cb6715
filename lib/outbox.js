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
// where `kind` says which values the envelope has (JSON drops undefined ones). Each value is
// serialized when it is sent, as a single write would: JSON text from `JSON.stringify({ payload })`,
// so `toJSON` sees the same key. So a payload changed after `sendTo` returned is sent as it was, and
// a payload that does not serialize throws from `sendTo` as always. The receiving side turns
// each record back into the very envelope a single write would have carried and emits it as a
// 'message' (lib/batching.js): every listener sees what it saw from 1.x.
//
// Under `advanced` serialization a batch holds the envelopes themselves, `{ cmd, e: [envelope…] }`,
// and V8 serializes them once when the tick ends; so each value is copied when it is sent
// (lib/copy.js), and a value that cannot be copied exactly is written on its own. A V8
// serialization per record instead cost more than the batch saved (measured ×0.61 of plain
// cluster against ×0.73 without batching, 88 B, 100 outstanding): one `v8.serialize` +
// `deserialize` of an envelope is ~6.5 µs, a 32-envelope batch ~1.4 µs an envelope.
//
// Order is kept: anything else written to the peer's channel (a handle, a relayed message, the
// user's own `worker.send`, `disconnect()`) first writes what is gathered (lib/batching.js guards
// the channel's `send`), and so does `whenWritable` and the process's 'exit'.

const debug = require('./debug')
const { copyPlain, NOT_PLAIN } = require('./copy')

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

/**
 * JSON channels: serialized length above which a gathered value ends gathering for the rest of
 * the tick. A batch carries each value as JSON text inside JSON, escaped once more and unescaped
 * on the other side: for a large value that costs more than the write it saves. Measured in CPU per round trip
 * (primary + worker, 100 outstanding): 512 B payloads 30.5 µs batched, 37.5 µs written one by one;
 * 1 KB payloads 57 µs batched, 48.5 µs one by one (plain cluster 47 µs).
 */
const LARGE_VALUE = 512

const ACK = 1
const HAS_VALUE = 2
const HAS_ERROR = 4

/** Peers written to in this tick; reset (and their gathered records written) when it ends. */
let touched = []
let scheduled = false
const resolved = Promise.resolve()
/** Set at process exit: nothing is gathered any more (no tick end would write it). */
let exiting = false

function endTick() {
  scheduled = false
  const peers = touched
  touched = []
  for (let i = 0; i < peers.length; i++) {
    const peer = peers[i]
    peer.burst = 0
    peer.gatheringStopped = false
    if (peer.gathered !== 0) flush(peer)
  }
}

/**
 * Whether to gather this write instead of making it now: only for a peer that reads batches,
 * once this tick already wrote `WRITE_THROUGH` messages to it, and nothing this tick was too large
 * (JSON) or had no exact copy (`advanced`).
 */
function shouldGather(peer) {
  if (peer.burst >= WRITE_THROUGH) return !exiting && !peer.gatheringStopped
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

/**
 * A value serialized as a single write would under its key (`toJSON` sees the same key): its JSON
 * text, or undefined when JSON drops it. Throws what that write would have thrown. One literal per
 * key keeps the objects' shapes constant.
 */
function serializePayload(value) {
  return fromJson(JSON.stringify({ payload: value }), 11)
}

function serializeReply(value) {
  return fromJson(JSON.stringify({ reply: value }), 9)
}

function serializeError(value) {
  return fromJson(JSON.stringify({ error: value }), 9)
}

/** The value's text in '{"key":…}', or undefined for '{}'. */
function fromJson(json, prefixLength) {
  return json.length === 2 ? undefined : json.slice(prefixLength, -1)
}

/** Adds a record's serialized value; a large one ends gathering for the rest of the tick. */
function pushValue(peer, value) {
  peer.records.push(value)
  if (value.length > LARGE_VALUE) peer.gatheringStopped = true
}

/** A value with no exact copy: it, and the rest of the tick, is written at once (no more copying). */
function notGathered(peer) {
  peer.gatheringStopped = true
  return false
}

/**
 * Gathers a message. False when it must be written on its own instead (a value `advanced`
 * serialization gets no exact copy of); throws, gathering nothing, if its payload does not serialize.
 */
function gatherMessage(peer, nsName, cmd, seq, payload) {
  if (peer.copies) {
    const copy = copyPlain(payload)
    if (copy === NOT_PLAIN) return notGathered(peer)
    peer.records.push({ __clusterphone: { ns: nsName, cmd, seq, payload: copy } })
  } else {
    const value = serializePayload(payload)
    peer.records.push(value === undefined ? 0 : HAS_VALUE, nsName, cmd, seq)
    if (value !== undefined) pushValue(peer, value)
  }
  if (++peer.gathered >= MAX_BATCH) flush(peer)
  return true
}

/** Gathers an acknowledgement, as `gatherMessage` does a message. */
function gatherAck(peer, nsName, seq, reply, error) {
  if (peer.copies) {
    const replyCopy = copyPlain(reply)
    const errorCopy = copyPlain(error)
    if (replyCopy === NOT_PLAIN || errorCopy === NOT_PLAIN) return notGathered(peer)
    peer.records.push({ __clusterphone: { ns: nsName, ack: seq, reply: replyCopy, error: errorCopy } })
  } else {
    const replyValue = serializeReply(reply)
    const errorValue = error === undefined ? undefined : serializeError(error)
    peer.records.push(ACK | (replyValue === undefined ? 0 : HAS_VALUE) | (errorValue === undefined ? 0 : HAS_ERROR), nsName, seq)
    if (replyValue !== undefined) pushValue(peer, replyValue)
    if (errorValue !== undefined) pushValue(peer, errorValue)
  }
  if (++peer.gathered >= MAX_BATCH) flush(peer)
  return true
}

/** Writes what is gathered for `peer` as one batch. */
function flush(peer) {
  const records = peer.records
  const count = peer.gathered
  peer.records = []
  peer.gathered = 0
  if (peer.goneReason !== null) return
  if (debug.enabled) debug('batch %s: %d messages', peer.label, count)
  // Everything in it is serialized (JSON) or an exact copy of plain data (`advanced`): nothing
  // here can throw but a closed channel, which the write's callback reports (lib/peers.js).
  peer.write(peer.copies ? { cmd: BATCH_COMMAND, e: records } : { cmd: BATCH_COMMAND, b: records }, undefined)
}

/** The process is exiting: write what is gathered, and from now on write at once. */
function flushAll() {
  exiting = true
  for (let i = 0; i < touched.length; i++) if (touched[i].gathered !== 0) flush(touched[i])
}

/**
 * Calls `each(message)` with the message each record of `batch` stands for, as a single write
 * would have carried it. A malformed record ends the batch (a 2.x peer never writes one); one
 * whose value does not deserialize is skipped.
 */
function unpack(records, each) {
  for (let i = 0; i < records.length; ) {
    const at = i
    const kind = records[at]
    if (typeof kind !== 'number') return
    const isAck = (kind & ACK) !== 0
    const hasValue = (kind & HAS_VALUE) !== 0
    const hasError = isAck && (kind & HAS_ERROR) !== 0
    // The next record's place is known before anything is read, so a bad value cannot stall.
    i = at + (isAck ? 3 : 4) + (hasValue ? 1 : 0) + (hasError ? 1 : 0)
    let envelope
    try {
      if (!isAck) {
        envelope = { ns: records[at + 1], cmd: records[at + 2], seq: records[at + 3] }
        if (hasValue) envelope.payload = JSON.parse(records[at + 4])
      } else {
        envelope = { ns: records[at + 1], ack: records[at + 2] }
        if (hasValue) envelope.reply = JSON.parse(records[at + 3])
        if (hasError) envelope.error = JSON.parse(records[at + 3 + (hasValue ? 1 : 0)])
      }
    } catch {
      continue
    }
    each({ __clusterphone: envelope })
  }
}

module.exports = { BATCH_COMMAND, shouldGather, gatherMessage, gatherAck, flush, flushAll, unpack }
