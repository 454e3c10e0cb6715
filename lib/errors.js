'use strict'
// Every error the JavaScript layer makes, in one place, each with a stable `code` users can
// branch on. The core's own messages (namespace names, dead workers, queued handles) come from
// Rust with codes of their own (src/core/error.rs).

const UNKNOWN_NAMESPACE = 'Unknown namespace.'
const UNHANDLED = 'Unhandled message type'
const HANDLER_THREW = 'Message handler threw an error: '

const CODES = {
  TIMEOUT: 'ERR_CLUSTERPHONE_TIMEOUT',
  WORKER_DIED: 'ERR_CLUSTERPHONE_WORKER_DIED',
  HANDLER: 'ERR_CLUSTERPHONE_HANDLER',
  UNHANDLED: 'ERR_CLUSTERPHONE_UNHANDLED',
  UNKNOWN_NAMESPACE: 'ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE',
  ABORTED: 'ERR_CLUSTERPHONE_ABORTED',
  SEND_FAILED: 'ERR_CLUSTERPHONE_SEND_FAILED',
  INVALID_ARG: 'ERR_CLUSTERPHONE_INVALID_ARG',
  UNKNOWN_WORKER: 'ERR_CLUSTERPHONE_UNKNOWN_WORKER',
}

/**
 * Marks an error as the library's own, as bluebird's `.error()` expects (non-enumerable
 * `isOperational`), and gives it `code` unless it has one (Node's own errors keep theirs).
 */
function operational(error, code) {
  Object.defineProperty(error, 'isOperational', {
    value: true,
    enumerable: false,
    writable: true,
    configurable: true,
  })
  if (code !== undefined && error.code === undefined) error.code = code
  return error
}

function withCode(error, code) {
  error.code = code
  return error
}

function timedOut(cmd, seq, peerLabel, nsName) {
  return operational(
    new Error(`Timed out waiting for acknowledgement for message ${cmd} with seq ${seq} to ${peerLabel} in namespace ${nsName}`),
    CODES.TIMEOUT,
  )
}

/** The worker (or child process) went away; `exitCode`/`signal` as far as they are known yet. */
function workerDied(cause, exitCode = null, signal = null) {
  const error = new Error('Undeliverable message: worker died before we could get acknowledgement', cause ? { cause } : undefined)
  error.exitCode = exitCode
  error.signal = signal
  return operational(error, CODES.WORKER_DIED)
}

function primaryGone() {
  return operational(
    new Error('Undeliverable message: disconnected from the primary (worker died or was disconnected) before we could get acknowledgement'),
    CODES.WORKER_DIED,
  )
}

/** A write that failed: Node's own error where there is one (it keeps its code). */
function sendFailed(cause) {
  if (cause instanceof Error) return operational(cause, CODES.SEND_FAILED)
  return operational(new Error(`Send failed: ${safeString(cause)}`), CODES.SEND_FAILED)
}

/**
 * A send from a worker whose channel to the primary is closed: the error `process.send` reports
 * then (Node's ERR_IPC_CHANNEL_CLOSED), made here because Node reports it only a tick later.
 */
function channelClosed() {
  const error = new Error('Channel closed')
  error.code = 'ERR_IPC_CHANNEL_CLOSED'
  return sendFailed(error)
}

function aborted(reason) {
  const error = new Error('The acknowledgement was aborted', reason !== undefined ? { cause: reason } : undefined)
  error.name = 'AbortError'
  return operational(error, CODES.ABORTED)
}

/** The sender's view of an error acknowledgement: `"Unknown namespace."` or `{ msg, origMessage, origStack }`. */
function fromErrorAck(error) {
  if (error !== null && typeof error === 'object' && typeof error.msg === 'string') {
    // A relayed answer (2.x) carries the code the primary saw.
    const code = typeof error.code === 'string' && error.code.startsWith('ERR_CLUSTERPHONE_') ? error.code : CODES.HANDLER
    const result = operational(new Error(error.msg), code)
    result.origMessage = error.origMessage
    result.origStack = error.origStack
    return result
  }
  const message = safeString(error)
  const code = message === UNKNOWN_NAMESPACE ? CODES.UNKNOWN_NAMESPACE : message === UNHANDLED ? CODES.UNHANDLED : CODES.HANDLER
  return operational(new Error(message), code)
}

/**
 * The wire form of whatever a handler threw or rejected with: three strings, so it always
 * serializes. Never throws: a `message` or `stack` getter (or a Proxy trap) that throws leaves
 * that part empty, and the acknowledgement still goes.
 */
function toErrorAck(thrown) {
  let origMessage = ''
  try {
    const message = thrown instanceof Error ? thrown.message : messageOf(thrown)
    origMessage = typeof message === 'string' ? message : safeString(message)
  } catch {
    // A hostile `message`: the acknowledgement goes without it.
  }
  const stack = stackOf(thrown)
  return {
    msg: HANDLER_THREW + origMessage,
    origMessage,
    origStack: typeof stack === 'string' ? stack.split('\n').slice(1).join('\n') : '',
  }
}

function messageOf(value) {
  if (value !== null && typeof value === 'object' && typeof value.message === 'string') return value.message
  return safeString(value)
}

/** A thrown value's `stack` as 1.x read it (undefined for most non-Errors, or when reading it throws). */
function stackOf(thrown) {
  if (thrown === null || (typeof thrown !== 'object' && typeof thrown !== 'function')) return undefined
  try {
    return thrown.stack
  } catch {
    return undefined
  }
}

/** `String(value)`, for any value: one whose conversion throws gets its tag, or a placeholder. */
function safeString(value) {
  try {
    return String(value)
  } catch {
    try {
      return Object.prototype.toString.call(value)
    } catch {
      return '[unprintable value]'
    }
  }
}

/** A handler's thenable never settled to a value: it was fulfilled with itself, or too deep a chain. */
function endlessThenable(maxDepth) {
  return new TypeError(`Chaining cycle or chain too deep: the reply thenable never settled to a value (it was fulfilled with itself, or through more than ${maxDepth} thenables)`)
}

function commandRequired() {
  return withCode(new TypeError('Command is required.'), CODES.INVALID_ARG)
}

function workerRequired() {
  return withCode(new TypeError('Worker must be specified'), CODES.INVALID_ARG)
}

function onlyImmediately() {
  return withCode(new Error('within() / acknowledged() calls are only valid immediately after sending a message.'), CODES.INVALID_ARG)
}

function withinAfterAcknowledged() {
  return withCode(new Error('within() must be called *before* acknowledged()'), CODES.INVALID_ARG)
}

function timeoutNotANumber() {
  return withCode(new Error('Timeout must be a number'), CODES.INVALID_ARG)
}

function signalAfterAcknowledged() {
  return withCode(new Error('signal() must be called *before* acknowledged()'), CODES.INVALID_ARG)
}

function workerIdRequired() {
  return withCode(new TypeError('sendToWorker() takes the target worker id (a positive integer)'), CODES.INVALID_ARG)
}

function notAnAbortSignal() {
  return withCode(new TypeError('signal() takes an AbortSignal'), CODES.INVALID_ARG)
}

function ackedTwice(cmd) {
  return new Error(`Acknowledgement callback invoked twice from handler for ${cmd}. Sounds like a bug in your handler.`)
}

module.exports = {
  CODES,
  UNKNOWN_NAMESPACE,
  UNHANDLED,
  operational,
  timedOut,
  workerDied,
  primaryGone,
  channelClosed,
  sendFailed,
  aborted,
  fromErrorAck,
  toErrorAck,
  endlessThenable,
  stackOf,
  commandRequired,
  workerRequired,
  onlyImmediately,
  withinAfterAcknowledged,
  timeoutNotANumber,
  notAnAbortSignal,
  workerIdRequired,
  signalAfterAcknowledged,
  ackedTwice,
}
