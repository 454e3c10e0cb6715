'use strict'
// The process-wide state every clusterphone version shares on `process.__clusterphone`
// ({ namespaces, workerDataAccessor, version, messageBus | messageHandler }, as 1.x's nucleus.js
// defines it). The first copy to load binds the one channel listener, which dispatches to whatever
// bus is installed there; the newest version installs its bus. 0.1.x dispatches through
// `messageHandler` and 1.0.1 through `messageBus`, so we take over both.

const cluster = require('node:cluster')
/**
 * package.json's version, written here by scripts/sync-versions.js on `npm version` (a test checks
 * they agree): reading package.json cost every worker's start ~0.3 ms.
 */
const VERSION = '2.0.0'
const context = require('./context')

const hasOwn = Object.prototype.hasOwnProperty

/** Numeric major.minor.patch comparison; a prerelease ranks below its release. */
function compareVersions(a, b) {
  const parse = (v) => {
    const [release, pre] = String(v).split('-', 2)
    const parts = release.split('.').map((n) => parseInt(n, 10) || 0)
    return [parts[0] || 0, parts[1] || 0, parts[2] || 0, pre === undefined ? 1 : 0]
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1
  return 0
}

let state = process.__clusterphone
/** Another library (1.x, or another copy of 2.x) shares this process. */
let legacy = state !== undefined && state !== null
/** Entries we published, to tell ours from another library's. */
const ours = new WeakSet()

function install(messageBus) {
  const first = !legacy
  /** Our bus takes every envelope: we loaded first, or after an older library. */
  let newest = first
  if (first) {
    state = process.__clusterphone = {
      namespaces: {},
      workerDataAccessor: Symbol('clusterphone'),
      version: VERSION,
      messageBus,
      messageHandler: messageBus,
    }
  } else if (!state.version || compareVersions(VERSION, state.version) > 0) {
    // The newest bus handles every envelope.
    const bus = context.isPrimary ? onceEach(messageBus) : messageBus
    state.version = VERSION
    state.messageBus = bus
    state.messageHandler = bus
    newest = true
  }
  context.dispatch = (peer, message, handle) => {
    const bus = state.messageBus || state.messageHandler
    bus.call(peer, message, handle)
  }
  if (context.isPrimary && newest) {
    // Loaded after 1.x too: 1.x listens to each worker from its 'fork' on, so nobody heard a
    // worker forked before it loaded. The bus (`onceEach`) then takes an envelope that reaches it
    // through both listeners once.
    cluster.on('message', (worker, message, handle) => {
      const bus = state.messageBus || state.messageHandler
      bus.call(worker, message, handle)
    })
  }
  // Beside a 1.x, a forked child that is itself a primary has its parent to us: 1.x listened to
  // cluster workers only. The listener calls the bus itself: one call less on every message.
  if (context.hasParent && (first || context.isPrimary)) {
    process.on('message', (message, handle) => {
      const bus = state.messageBus || state.messageHandler
      bus.call(process, message, handle)
    })
  }
}

/**
 * The bus of a primary where 1.x loaded first: 2.x's cluster listener and 1.x's per-worker one
 * both hand it the same message object, which it handles the first time only.
 */
function onceEach(messageBus) {
  const handled = new WeakSet()
  return function bus(message, handle) {
    if (message !== null && typeof message === 'object') {
      if (handled.has(message)) return
      handled.add(message)
    }
    messageBus.call(this, message, handle)
  }
}

/** Makes a namespace entry visible to other copies and versions, unless one is already there. */
function publish(name, entry) {
  if (hasOwn.call(state.namespaces, name)) return
  ours.add(entry)
  // An own property even for names like "__proto__", which plain assignment would not make.
  Object.defineProperty(state.namespaces, name, { value: entry, writable: true, enumerable: true, configurable: true })
}

/** The entry another library made for `name`, if any. */
function foreignEntry(name) {
  if (!hasOwn.call(state.namespaces, name)) return undefined
  const entry = state.namespaces[name]
  if (entry === null || typeof entry !== 'object' || ours.has(entry)) return undefined
  return entry
}

/** 1.x loaded after us (its `ns` was written onto our default namespace). */
function noteLegacyLoad() {
  legacy = true
}

/** Readiness is per worker and shared: tell 1.x (its flag in the worker's data) too. */
function markLegacyReady(worker) {
  if (!legacy || worker === null || typeof worker !== 'object') return
  const accessor = state.workerDataAccessor
  let data = worker[accessor]
  if (data === undefined || data === null) data = worker[accessor] = {}
  data.isReady = true
}

/**
 * Whether a 1.x in this process already saw `worker` announce itself (its flag in the worker's
 * data): a worker forked and announced before 2.x loaded is ready for 2.x too, readiness being
 * per worker and shared (SPEC §5, §6).
 */
function isLegacyReady(worker) {
  if (!legacy || worker === null || typeof worker !== 'object') return false
  const accessor = state.workerDataAccessor
  if (accessor === undefined || accessor === null) return false
  const data = worker[accessor]
  return data !== null && typeof data === 'object' && data.isReady === true
}

/**
 * A worker announced namespace `name`, which 1.x made: send what 1.x queued for it in the worker's
 * data, as 1.x's own workerReady would, without 1.x's extra `clusterphone:online`.
 */
function flushForeign(worker, name, onSent) {
  const data = worker[state.workerDataAccessor]
  const nsData = data !== null && typeof data === 'object' ? data[name] : undefined
  if (nsData === null || typeof nsData !== 'object' || !Array.isArray(nsData.queued)) return
  while (nsData.queued.length > 0) {
    const item = nsData.queued.shift()
    worker.send({ __clusterphone: { ns: name, cmd: item.cmd, seq: item.seq, payload: item.payload } }, item.fd, undefined, onSent)
  }
}

/** Key of the running 2.x module on the shared state (1.x ignores it). */
const INSTANCE = 'clusterphone2'

/** Makes this module the one every other copy of 2.x in the process returns. */
function register(defaultNamespace) {
  Object.defineProperty(state, INSTANCE, { value: defaultNamespace, configurable: true, writable: false, enumerable: false })
}

module.exports = { install, publish, foreignEntry, noteLegacyLoad, markLegacyReady, isLegacyReady, flushForeign, register }
