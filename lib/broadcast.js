'use strict'
// `ns.broadcast(cmd, payload)` in the primary: one message to every live worker (queued for those
// not ready yet), and one acknowledgement that gathers every worker's outcome like
// `Promise.allSettled`: `{ worker, status: "fulfilled", value }` or `{ worker, status:
// "rejected", reason }`. A worker that dies settles its entry at once (its own message does).

const cluster = require('node:cluster')
const peers = require('./peers')
const send = require('./send')
const ackPromise = require('./ack-promise')
const { checkWithin, checkSignal, deliverTo } = require('./message')
const { currentTurn, isCurrentTurn } = require('./turn')
const errors = require('./errors')

class BroadcastMessage {
  constructor(sent) {
    /** [{ worker, message }] */
    this.sent = sent
    this.turn = currentTurn()
    this.promise = undefined
  }

  within(ms) {
    const timeout = checkWithin(this, ms)
    for (const { message } of this.sent) message.within(timeout)
    return this
  }

  signal(abortSignal) {
    checkSignal(this, abortSignal)
    for (const { message } of this.sent) message.signal(abortSignal)
    return this
  }

  acknowledged(cb) {
    if (!isCurrentTurn(this.turn)) throw errors.onlyImmediately()
    if (this.promise === undefined) {
      const promise = ackPromise.create()
      const { resolve } = ackPromise.captured
      Promise.all(
        this.sent.map(({ worker, message }) =>
          message.acknowledged().then(
            (value) => ({ worker, status: 'fulfilled', value }),
            (reason) => ({ worker, status: 'rejected', reason }),
          ),
        ),
      ).then(resolve)
      this.promise = promise
    }
    if (typeof cb === 'function') deliverTo(this.promise, cb)
    return this.promise
  }

  ackd(cb) {
    return this.acknowledged(cb)
  }
}

function liveWorkers() {
  const workers = cluster.workers ?? {}
  return Object.keys(workers)
    .map((id) => workers[id])
    .filter((worker) => worker !== undefined && !peers.isWorkerGone(worker))
}

function broadcast(ns, cmd, payload) {
  const sent = liveWorkers().map((worker) => ({ worker, message: send.sendToWorker(ns, worker, cmd, payload, undefined, false) }))
  // No worker at all: still validate the command as a send would.
  if (sent.length === 0) send.commandOf(cmd)
  return new BroadcastMessage(sent)
}

module.exports = { broadcast }
