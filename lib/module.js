'use strict'
// The public module, built once per process: the default namespace "_" (callable:
// `clusterphone(name)` is `ns(name)`), with `ns` and `ackTimeout`.

const cluster = require('node:cluster')
const childProcess = require('node:child_process')
const context = require('./context')
const shared = require('./shared')
const { messageBus } = require('./receive')
const peers = require('./peers')
const pending = require('./pending')
const errors = require('./errors')

shared.install(messageBus)
peers.setUp()
require('./batching').setUp()

const namespaces = require('./namespaces')

function ns(name) {
  return namespaces.open(name)
}

function clusterphone(name) {
  return namespaces.open(name)
}
// A function's own `name` is read-only; the default namespace's name is "_".
Object.defineProperty(clusterphone, 'name', { value: '_', writable: true, enumerable: true, configurable: true })

const defaultNamespace = namespaces.open('_', clusterphone)

if (defaultNamespace === clusterphone) {
  // A clusterphone 1.x loaded after us writes its own `ns` and `ackTimeout` onto this shared
  // object; `ns` stays ours, and the 1.x default (10000) written right after it is not taken as
  // the user's setting.
  let foreignLoad = false
  /** What the user assigned, read back as written (a string stays a string, as on 1.x's plain property). */
  let assignedTimeout = context.settings.ackTimeout
  Object.defineProperty(clusterphone, 'ns', {
    enumerable: true,
    configurable: true,
    get: () => ns,
    set: (value) => {
      if (value !== ns) {
        foreignLoad = true
        shared.noteLegacyLoad()
      }
    },
  })
  Object.defineProperty(clusterphone, 'ackTimeout', {
    enumerable: true,
    configurable: true,
    get: () => assignedTimeout,
    set: (value) => {
      if (foreignLoad) {
        foreignLoad = false
        return
      }
      const timeout = typeof value === 'number' ? value : parseInt(value, 10)
      if (!(timeout > 0)) throw errors.timeoutNotANumber()
      context.settings.ackTimeout = timeout
      assignedTimeout = value
    },
  })
}

if (defaultNamespace === clusterphone) {
  /**
   * Backpressure: resolves when the channel to `worker` (primary) or to the primary (worker) takes
   * writes again, at once when it does now; rejects if the peer is gone.
   */
  namespaces.addMethod(clusterphone, 'whenWritable', function whenWritable(worker) {
    // In a worker, its own `cluster.worker` writes to the primary too.
    if (context.hasParent && (worker === undefined || worker === cluster.worker)) return peers.thePrimary().whenWritable()
    // Only a channel's owner: any other object would get a peer record that nothing removes.
    if (!(worker instanceof cluster.Worker) && !(worker instanceof childProcess.ChildProcess)) return Promise.reject(errors.workerRequired())
    const peer = peers.ofWorker(worker)
    if (peer.goneReason === null && peers.isWorkerGone(worker)) peers.gone(peer, errors.workerDied())
    return peer.whenWritable()
  })

  /**
   * `child_process.fork()` for a child that talks clusterphone with this process: `sendTo(child)`
   * here and `sendToMaster()` there work as with cluster workers (readiness, queueing, death).
   */
  namespaces.addMethod(clusterphone, 'fork', function fork(modulePath, args, options) {
    const argv = Array.isArray(args) ? args : []
    const opts = (Array.isArray(args) ? options : args) ?? {}
    const child = childProcess.fork(modulePath, argv, { ...opts, env: { ...(opts.env ?? process.env), CLUSTERPHONE_CHILD: '1' } })
    peers.ofWorker(child)
    return child
  })

  /**
   * What the library holds right now (for tests and debugging; not a stable API): the core's
   * peers, slots, pending acknowledgements, queued messages and deadline entries, and the slots
   * JavaScript holds resolvers or payloads for. All zero once traffic settles and workers are gone.
   */
  Object.defineProperty(clusterphone, '_stats', {
    enumerable: false,
    configurable: true,
    value: () => ({ ...context.core.stats(), held: pending.held() }),
  })
}

shared.register(defaultNamespace)

module.exports = defaultNamespace
