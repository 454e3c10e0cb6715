'use strict'
// Batching between two 2.x peers: when one tick writes many messages to a peer that said it reads
// batches (lib/batching.js), the first goes out as an ordinary 1.x envelope and the rest are
// gathered and written as one channel message at the end of the tick (promise jobs included).
// One write, one parse and one event on the other side instead of one each per message: that is
// where plain `cluster` messaging spends its time for small pipelined messages.
//
// A batch is Node-internal on the wire (`cmd` starts with `NODE_`, so it arrives as
// 'internalMessage'): `{ cmd, h: [header…], v: [value…] }`. Headers are flat, and the values
// (payloads, replies, errors) sit in their own array in order, which both serializations write
// and read faster than an envelope object per message (measured below):
//   message:          kind, ns, cmd, seq         values: payload?
//   acknowledgement:  kind | ACK, ns, seq        values: reply?, error?
// where `kind` says which values the envelope has (JSON drops undefined ones; `advanced` keeps
// them, so there every value is there).
//
// The channel serializes the batch when the tick ends, so each value is taken when it is sent, as
// a single write would take it: a payload changed after `sendTo` returned goes out as it was, and
// one that does not serialize throws from `sendTo` as always. Plain data (primitives, plain
// objects, dense arrays) of up to 40 values is copied (lib/copy.js); more of it is written on its
// own, with the rest of that tick. Under JSON anything else is serialized now
// (`JSON.stringify({ payload })`, so `toJSON` sees the same key) and parsed back, or carried as
// its text when large; under `advanced` it is written on its own, with the rest of that tick.
// The receiving side turns each record back into the very envelope a single write would have
// carried and emits it as a 'message' (lib/batching.js): every listener sees what it saw from 1.x.
//
// Measured (88 B, 100 outstanding, CPU per round trip in each process): JSON text per value inside
// the batch (escaped again, parsed twice) 11.1 / 10.1 µs, 84k round trips/s; these values 9.9 /
// 9.0 µs, 93k/s (plain cluster 9.3 µs each side, ~100k/s). Under `advanced`, against an envelope
// object per message: 45k → 50k round trips/s. A V8 serialization per record instead cost more
// than the batch saved: one `v8.serialize` + `deserialize` of an envelope is ~6.5 µs.
//
// Order is kept: anything else written to the peer's channel (a handle, a relayed message, the
// user's own `worker.send`, `disconnect()`) first writes what is gathered (lib/batching.js guards
// the channel's writes), and so does `whenWritable` and the process's 'exit'. While a handle is
// in flight nothing is gathered (see `shouldGather`).

const debug = require('./debug')
const { copyPlain, NOT_PLAIN, TOO_LARGE } = require('./copy')

/** The internal command of batches and of the batching handshake. */
const BATCH_COMMAND = 'NODE_CLUSTERPHONE'
/**
 * Messages per peer and tick written at once before gathering starts: a tick with one message
 * (a request, a reply) behaves exactly as 1.x, written before `sendTo` returns. Measured with
 * values copied into batches (100 outstanding, interleaved runs, round trips/s): 88 B JSON 1: ~115k,
 * 2: ~110k, 8: ~98k, 16: ~97k (plain cluster ~110k); fan-out to 4 workers 1: 104-137k, 8:
 * 96-103k; 88 B `advanced` 1: 65-69k, 8: 51-56k; 1 KB the same. (When values travelled as JSON
 * text, 2 and 8 made no difference.)
 *
 * That one write costs no tick-end job: the peer's `burst` goes back to 0 when Node reports the
 * write done (`wrote`, from the write's callback, which Node runs in the next `process.nextTick`
 * round for a write the pipe took at once). Only a second write in the tick starts gathering and
 * schedules the tick-end job. A process answering one message at a time (a worker's reply, a
 * primary keeping one request per worker outstanding) runs no promise job of ours per message:
 * counted over a process's first 2000 round trips, the worker ran 144.8k machine instructions a
 * round trip against 147.3k with a job per tick, the primary 170.8k against 175.9k.
 *
 * Not a setting: `shouldGather` writes exactly one at once (its `BURST_WROTE` state), and this
 * says how many for the tests that read it.
 */
const WRITE_THROUGH = 1

/**
 * After a value too large to copy, how many of a peer's next messages are written at once without
 * trying to gather them. A copy that gives up has walked `MAX_WEIGHT` values first: while V8 has
 * not optimized it (a few hundred attempts a second never get it there) that took ~16 µs, and
 * traffic of 1 KB records paid it once a tick for nothing (measured: fan-out 1 KB × 100, workers
 * 48.5 µs a round trip against 43.8 without the attempt; docs/performance.md).
 */
const PAUSE_AFTER_TOO_LARGE = 256

/** A peer's `burst`: nothing written this tick; one written at once; in `touched` (gathering). */
const BURST_NONE = 0
const BURST_WROTE = 1
const BURST_TOUCHED = 2
/**
 * Records per batch. Larger batches gain nothing for small messages and cost pipelining for big
 * ones (the peer parses nothing until the whole batch is in): 1 KB × 1000 outstanding did
 * ~40k round trips/s at 32 against ~22k at 256.
 */
const MAX_BATCH = 32

/**
 * JSON channels: serialized length above which a value that is not copied travels as its JSON
 * text (parsing it back would cost more than the receiver's parse of the text), and ends
 * gathering for the rest of the tick: a batch carrying text escapes it once more and the receiver
 * parses it twice, which for a large value costs more than the write it saves (CPU per round trip,
 * primary + worker, 100 outstanding: 512 B payloads 30.5 µs batched, 37.5 µs one by one; 1 KB
 * 57 µs batched, 48.5 µs one by one).
 */
const LARGE_VALUE = 512

const ACK = 1
const HAS_VALUE = 2
const HAS_ERROR = 4
/** The record's value (payload or reply) / error is JSON text, to be parsed by the receiver. */
const VALUE_IS_TEXT = 8
const ERROR_IS_TEXT = 16

// JSON as it was when the library loaded, as Node's channel keeps its own: a JSON.stringify the
// application replaces later (to take BigInts, say) must not make a batch take what a single
// write refuses.
const { stringify, parse } = JSON
const ObjectPrototype = Object.prototype
const ArrayPrototype = Array.prototype

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
    peers[i].burst = BURST_NONE
    peers[i].gatheringStopped = false
  }
  for (let i = 0; i < peers.length; i++) {
    if (peers[i].gathered === 0) continue
    try {
      flush(peers[i])
    } catch (err) {
      // Only a patched toJSON that throws can get here; nothing may throw into this promise job.
      process.emitWarning(`clusterphone: a batch to ${peers[i].label} could not be written: ${err && err.message}`)
    }
  }
}

/**
 * Whether to gather this write instead of making it now: only for a peer that reads batches,
 * once this tick already wrote `WRITE_THROUGH` messages to it, nothing this tick was too large
 * or had no exact copy, and no write to it is being serialized (a message sent from a getter or
 * `toJSON` of one goes out first, as in 1.x).
 */
function shouldGather(peer) {
  if (peer.writing !== 0) return false
  // A handle in flight: Node holds every write in `_handleQueue` until the other side takes the
  // handle, then writes them through `_send`, whose guard would put a batch gathered meanwhile
  // ahead of them. Written at once instead, they wait in that queue in order.
  if (peer.channel._handleQueue) return false
  if (peer.burst === BURST_NONE && peer.gathered === 0) {
    peer.burst = BURST_WROTE
    return false
  }
  if (peer.gatherPause !== 0) {
    peer.gatherPause--
    return false
  }
  if (peer.burst !== BURST_TOUCHED) {
    peer.burst = BURST_TOUCHED
    touched.push(peer)
    if (!scheduled) {
      scheduled = true
      // A promise job: it runs once this tick's callbacks are done, after the promise jobs
      // already queued (the `.then`s that send the next messages), and no fake-timer library
      // can hold it back. Measured ~15% more pipelined round trips than process.nextTick.
      resolved.then(endTick)
    }
  }
  return !exiting && !peer.gatheringStopped
}

/**
 * A write to `peer` is done (its callback ran): a later message is the first of its tick again,
 * unless the peer is gathering, which the tick-end job ends.
 */
function wrote(peer) {
  if (peer.burst === BURST_WROTE) peer.burst = BURST_NONE
}

/**
 * A value serialized as a single write would under its key (`toJSON` sees the same key): its JSON
 * text, or undefined when JSON drops it. Throws what that write would have thrown. One literal per
 * key keeps the objects' shapes constant.
 */
function serializePayload(value) {
  return fromJson(stringify({ payload: value }), 11)
}

function serializeReply(value) {
  return fromJson(stringify({ reply: value }), 9)
}

function serializeError(value) {
  return fromJson(stringify({ error: value }), 9)
}

/** The value's text in '{"key":…}', or undefined for '{}'. */
function fromJson(json, prefixLength) {
  return json.length === 2 ? undefined : json.slice(prefixLength, -1)
}

/**
 * A `toJSON` on Object.prototype or Array.prototype would be called on a batch's own objects and
 * arrays, and on the copies in it: JSON channels gather nothing then, and a batch gathered before
 * one appeared is written message by message.
 */
function toJsonPatched() {
  return ObjectPrototype.toJSON !== undefined || ArrayPrototype.toJSON !== undefined
}

/** A value JSON drops (undefined, a function, a symbol): its record says it has none. */
const ABSENT = Symbol('clusterphone.absent')

/** A large value's JSON text, carried as text (`VALUE_IS_TEXT`). */
class JsonText {
  constructor(text) {
    this.text = text
  }
}

/**
 * JSON channels: what a gathered value is written as, taken when it is sent. Plain data is
 * copied (its copy serializes as it did); more of it than a copy takes is `NOT_PLAIN`, written on
 * its own (serialized once, there), and pauses gathering toward `peer`; anything else is
 * serialized now, as a single write would (throwing what that write would throw), and parsed
 * back, or kept as text when large. `ABSENT` when JSON drops it.
 */
function jsonValue(peer, value, serialize) {
  if (value === undefined) return ABSENT
  const copy = copyPlain(value, true)
  if (copy === TOO_LARGE) return pauseGathering(peer)
  if (copy !== NOT_PLAIN) return copy
  const text = serialize(value)
  if (text === undefined) return ABSENT
  return text.length > LARGE_VALUE ? new JsonText(text) : parse(text)
}

/** `advanced` channels: a copy, or `NOT_PLAIN` for anything the copy does not take. */
function advancedValue(peer, value) {
  const copy = copyPlain(value, false)
  return copy === TOO_LARGE ? pauseGathering(peer) : copy
}

/** A value too large to copy: written on its own, and the peer's next messages are too. */
function pauseGathering(peer) {
  peer.gatherPause = PAUSE_AFTER_TOO_LARGE
  return NOT_PLAIN
}

/** A value with no exact copy: it, and the rest of the tick, is written at once. */
function notGathered(peer) {
  peer.gatheringStopped = true
  return false
}

/** Adds a gathered value; one carried as text ends gathering for the rest of the tick. */
function pushValue(peer, value) {
  if (value instanceof JsonText) {
    peer.values.push(value.text)
    peer.gatheringStopped = true
  } else {
    peer.values.push(value)
  }
}

/** The kind bits for a value: whether there is one, and whether it travels as text. */
function valueBits(value, hasBit, textBit) {
  if (value === ABSENT) return 0
  return value instanceof JsonText ? hasBit | textBit : hasBit
}

/**
 * Gathers a message. False when it must be written on its own instead (under `advanced`, a value
 * with no exact copy; under JSON, a patched `toJSON`); throws, gathering nothing, if its payload
 * does not serialize.
 */
function gatherMessage(peer, nsName, cmd, seq, payload) {
  let value
  if (peer.copies) value = advancedValue(peer, payload)
  else value = toJsonPatched() ? NOT_PLAIN : jsonValue(peer, payload, serializePayload)
  if (value === NOT_PLAIN) return notGathered(peer)
  peer.records.push(valueBits(value, HAS_VALUE, VALUE_IS_TEXT), nsName, cmd, seq)
  if (value !== ABSENT) pushValue(peer, value)
  if (++peer.gathered >= MAX_BATCH) flush(peer)
  return true
}

/** Gathers an acknowledgement, as `gatherMessage` does a message. */
function gatherAck(peer, nsName, seq, reply, error) {
  let replyValue, errorValue
  if (peer.copies) {
    replyValue = advancedValue(peer, reply)
    errorValue = advancedValue(peer, error)
  } else if (toJsonPatched()) {
    replyValue = NOT_PLAIN
  } else {
    replyValue = jsonValue(peer, reply, serializeReply)
    errorValue = jsonValue(peer, error, serializeError)
  }
  if (replyValue === NOT_PLAIN || errorValue === NOT_PLAIN) return notGathered(peer)
  peer.records.push(ACK | valueBits(replyValue, HAS_VALUE, VALUE_IS_TEXT) | valueBits(errorValue, HAS_ERROR, ERROR_IS_TEXT), nsName, seq)
  if (replyValue !== ABSENT) pushValue(peer, replyValue)
  if (errorValue !== ABSENT) pushValue(peer, errorValue)
  if (++peer.gathered >= MAX_BATCH) flush(peer)
  return true
}

/** Writes what is gathered for `peer` as one batch. */
function flush(peer) {
  const records = peer.records
  const values = peer.values
  const count = peer.gathered
  peer.records = []
  peer.values = []
  peer.gathered = 0
  if (peer.goneReason !== null) return
  if (!peer.copies && toJsonPatched()) {
    // Patched since these were gathered: a batch's arrays would not arrive as arrays.
    unpack(records, values, (message) => peer.write(message, undefined), peer.isParent)
    return
  }
  if (debug.enabled) debug('batch %s: %d messages', peer.label, count)
  // Everything in it is plain data, copied, parsed from JSON or JSON text: nothing here throws
  // but a closed channel, which the write's callback reports (lib/peers.js).
  peer.write({ cmd: BATCH_COMMAND, h: records, v: values }, undefined)
}

/** The process is exiting: write what is gathered, and from now on write at once. */
function flushAll() {
  exiting = true
  flushGathered()
}

/** Writes what this tick gathered for every peer, now; later messages of the tick gather again. */
function flushGathered() {
  for (let i = 0; i < touched.length; i++) if (touched[i].gathered !== 0) flush(touched[i])
}

/**
 * Calls `each(message)` with the message each record of a batch stands for, as a single write
 * would have carried it: `headers` are the flat records, `values` their values in order. A
 * malformed record ends the batch, and one whose text does not parse is skipped (a 2.x peer never
 * writes either). `fromWorker`: the batch came from a worker, whose messages 1.x wrote as
 * `{ ns, seq, cmd, payload }` (the primary's as `{ ns, cmd, seq, payload }`).
 */
function unpack(headers, values, each, fromWorker) {
  let next = 0
  for (let at = 0; at < headers.length; ) {
    const kind = headers[at]
    if (typeof kind !== 'number') return
    const isAck = (kind & ACK) !== 0
    const hasValue = (kind & HAS_VALUE) !== 0
    const hasError = isAck && (kind & HAS_ERROR) !== 0
    const value = hasValue ? values[next++] : undefined
    const error = hasError ? values[next++] : undefined
    let envelope
    try {
      if (!isAck) {
        envelope = fromWorker
          ? { ns: headers[at + 1], seq: headers[at + 3], cmd: headers[at + 2] }
          : { ns: headers[at + 1], cmd: headers[at + 2], seq: headers[at + 3] }
        if (hasValue) envelope.payload = (kind & VALUE_IS_TEXT) !== 0 ? parse(value) : value
      } else {
        envelope = { ns: headers[at + 1], ack: headers[at + 2] }
        if (hasValue) envelope.reply = (kind & VALUE_IS_TEXT) !== 0 ? parse(value) : value
        if (hasError) envelope.error = (kind & ERROR_IS_TEXT) !== 0 ? parse(error) : error
      }
    } catch {
      envelope = undefined
    }
    at += isAck ? 3 : 4
    if (envelope !== undefined) each({ __clusterphone: envelope })
  }
}

module.exports = { BATCH_COMMAND, WRITE_THROUGH, PAUSE_AFTER_TOO_LARGE, shouldGather, wrote, gatherMessage, gatherAck, flush, flushAll, flushGathered, unpack }
