'use strict'
// Every message the JavaScript layer words itself, in one place. The core's own messages
// (namespace names, dead workers, queued handles) come from Rust.

const UNKNOWN_NAMESPACE = 'Unknown namespace.'
const UNHANDLED = 'Unhandled message type'
const HANDLER_THREW = 'Message handler threw an error: '

/** Marks an error as the library's own, as bluebird's `.error()` expects. */
function operational(error) {
  Object.defineProperty(error, 'isOperational', {
    value: true,
    enumerable: false,
    writable: true,
    configurable: true,
  })
  return error
}

function timedOut(cmd, seq, peerLabel, nsName) {
  return operational(
    new Error(
      `Timed out waiting for acknowledgement for message ${cmd} with seq ${seq} to ${peerLabel} in namespace ${nsName}`,
    ),
  )
}

function workerDied(cause) {
  const error = new Error('Undeliverable message: worker died before we could get acknowledgement', cause ? { cause } : undefined)
  return operational(error)
}

function primaryGone() {
  return operational(
    new Error('Undeliverable message: disconnected from the primary (worker died or was disconnected) before we could get acknowledgement'),
  )
}

/** The sender's view of an error acknowledgement: `"Unknown namespace."` or `{ msg, origMessage, origStack }`. */
function fromErrorAck(error) {
  if (error !== null && typeof error === 'object' && typeof error.msg === 'string') {
    const result = operational(new Error(error.msg))
    result.origMessage = error.origMessage
    result.origStack = error.origStack
    return result
  }
  return operational(new Error(safeString(error)))
}

/** The wire form of whatever a handler threw or rejected with. */
function toErrorAck(thrown) {
  const origMessage = thrown instanceof Error ? thrown.message : messageOf(thrown)
  const stack = thrown !== null && typeof thrown === 'object' ? thrown.stack : undefined
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

function safeString(value) {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

function commandRequired() {
  return new TypeError('Command is required.')
}

function workerRequired() {
  return new TypeError('Worker must be specified')
}

function onlyImmediately() {
  return new Error('within() / acknowledged() calls are only valid immediately after sending a message.')
}

function withinAfterAcknowledged() {
  return new Error('within() must be called *before* acknowledged()')
}

function timeoutNotANumber() {
  return new Error('Timeout must be a number')
}

function ackedTwice(cmd) {
  return new Error(`Acknowledgement callback invoked twice from handler for ${cmd}. Sounds like a bug in your handler.`)
}

module.exports = {
  UNKNOWN_NAMESPACE,
  UNHANDLED,
  operational,
  timedOut,
  workerDied,
  primaryGone,
  fromErrorAck,
  toErrorAck,
  commandRequired,
  workerRequired,
  onlyImmediately,
  withinAfterAcknowledged,
  timeoutNotANumber,
  ackedTwice,
}
