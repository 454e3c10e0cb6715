'use strict'
// Loads the compiled core. The generated `binding.js` (napi build --js) knows where each platform's
// binary lives; when none fits, users get an error that says what to do instead of a bare
// "Cannot find module".

const path = require('node:path')

function platformName() {
  const { platform, arch } = process
  if (platform !== 'linux') return `${platform}-${arch}`
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
  const libc = report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'
  return `${platform}-${arch}-${libc}`
}

function loadCore() {
  const override = process.env.CLUSTERPHONE_NATIVE_PATH
  try {
    return override ? require(path.resolve(override)) : require('../binding.js')
  } catch (cause) {
    const target = platformName()
    const error = new Error(
      `clusterphone: no native binary for ${target} (looked for ${override || `clusterphone.${target}.node and the package clusterphone-${target}`}). ` +
        'Build it from source: install the Rust toolchain (https://rustup.rs), then run `npm install` ' +
        '(or `npm run build`) in the clusterphone package directory.',
      { cause },
    )
    error.code = 'ERR_CLUSTERPHONE_NATIVE_MISSING'
    throw error
  }
}

/** `core.send` flags; must match src/binding.rs. */
const SEND_HAS_HANDLE = 1
const SEND_FORCE_QUEUE = 2

/** The core of this thread (src/binding.rs), as an object with methods. */
function createCore() {
  const binding = loadCore()
  const {
    coreOpenNamespace,
    coreSetSequenceBase,
    coreAddPeer,
    coreAddClock,
    coreSend,
    coreWatchSent,
    coreWatchQueued,
    coreSettle,
    coreReceive,
    coreAnnounce,
    coreExpire,
    corePeerGone,
    coreStats,
  } = binding
  const internal = binding.coreInternalNamespace()
  return {
    internalNamespace: () => internal,
    openNamespace: coreOpenNamespace,
    setSequenceBase: coreSetSequenceBase,
    addPeer: coreAddPeer,
    addClock: coreAddClock,
    send: (peer, ns, hasHandle, forceQueue) =>
      coreSend(peer, ns, (hasHandle ? SEND_HAS_HANDLE : 0) | (forceQueue ? SEND_FORCE_QUEUE : 0)),
    watchSent: coreWatchSent,
    watchQueued: coreWatchQueued,
    settle: coreSettle,
    receive: coreReceive,
    announce: coreAnnounce,
    expire: coreExpire,
    peerGone: corePeerGone,
    stats: coreStats,
  }
}

module.exports = { createCore }
