'use strict'
// Worker to worker: `ns.sendToWorker(id, cmd, payload)` in a worker goes to the primary as the
// internal command "relay" { to, ns, cmd, payload, within }; the primary sends it on to worker
// `id` (whose handler gets the sender's id as a fourth argument) and, when the sender awaits an
// acknowledgement (`within` is its timeout), sends the target's answer back. Both ends need 2.x.

const cluster = require('node:cluster')
const peers = require('./peers')
const send = require('./send')
const errors = require('./errors')
const { sendAck, RELAY } = require('./receive')

/** In a worker: the message to worker `id`, written at the end of this turn. */
function sendToWorker(internal, ns, id, cmd, payload) {
  const command = send.commandOf(cmd)
  if (!Number.isSafeInteger(id) || id <= 0) throw errors.workerIdRequired()
  // The label names what a timeout error names: the user's command, target and namespace (the
  // seq and namespace after it are the hop to the primary's).
  return send.sendToPrimaryLater(internal, RELAY, `${command} (to worker ${id} in namespace ${ns.name})`, (message) => ({
    to: id,
    ns: ns.name,
    cmd: command,
    payload,
    within: message.promise !== undefined ? message.timeout : null,
  }))
}

/**
 * In the primary: forwards a relay from worker `from` (its `seq` in the internal namespace). The
 * reply goes back only when the sender awaits it (`within`); a relay that cannot be made always
 * gets its error acknowledgement, as any envelope with a usable seq that cannot be handled does
 * (SPEC §5): a sender that awaits nothing drops it.
 */
function onRelay(from, internalName, seq, body, openNamespace) {
  if (body === null || typeof body !== 'object') {
    sendAck(from, internalName, seq, null, errors.UNHANDLED)
    return
  }
  const awaited = typeof body.within === 'number' && body.within > 0
  const answer = (reply, error) => {
    if (awaited || error !== undefined) sendAck(from, internalName, seq, reply, error)
  }
  const workers = cluster.workers ?? {}
  const target = Number.isSafeInteger(body.to) ? workers[body.to] : undefined
  if (target === undefined || peers.isWorkerGone(target)) {
    answer(null, relayError(`No live worker with id ${body.to}.`, errors.CODES.UNKNOWN_WORKER))
    return
  }
  let message
  try {
    const record = openNamespace(typeof body.ns === 'string' ? body.ns : '')
    message = send.sendToWorker(record, target, body.cmd, body.payload, undefined, false, from.target.id)
  } catch (err) {
    answer(null, relayError(err.message, err.code))
    return
  }
  if (!awaited) return
  message
    .within(body.within)
    .acknowledged()
    .then(
      (reply) => answer(reply, undefined),
      (err) => answer(null, relayError(err.message, err.code, err.origMessage, err.origStack)),
    )
}

/**
 * An error acknowledgement in 1.x's shape ({ msg, origMessage, origStack }), with 2.x's code; the
 * library's own errors have no original message or stack of a handler, so theirs stand in.
 */
function relayError(msg, code, origMessage, origStack) {
  return { msg, origMessage: origMessage ?? msg, origStack: origStack ?? '', code }
}

module.exports = { sendToWorker, onRelay }
