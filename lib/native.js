'use strict'
// Loads the compiled core. The generated `binding.js` (napi build --js) knows where each platform's
// binary lives; when none fits, users get an error that says what to do instead of a bare
// "Cannot find module".

const fs = require('node:fs')
const path = require('node:path')

const PACKAGE_DIR = path.join(__dirname, '..')

/**
 * The binary `npm install` built next to the package, if there is exactly one for this platform
 * and arch: requiring it directly skips compiling the generated loader, which matters for how
 * fast a freshly forked worker is ready. Anything else goes through binding.js.
 */
function builtBinary() {
  const prefix = `clusterphone.${process.platform}-${process.arch}`
  let names
  try {
    names = fs.readdirSync(PACKAGE_DIR)
  } catch {
    return undefined
  }
  const found = names.filter((name) => name.startsWith(prefix) && name.endsWith('.node'))
  return found.length === 1 ? path.join(PACKAGE_DIR, found[0]) : undefined
}

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
    if (override) return require(path.resolve(override))
    const built = builtBinary()
    return built !== undefined ? require(built) : require('../binding.js')
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

/** The core of this thread (src/binding.rs), as an object with methods. */
function createCore() {
  const binding = loadCore()
  const internal = binding.coreInternalNamespace()
  return {
    internalNamespace: () => internal,
    openNamespace: binding.coreOpenNamespace,
    setSequenceBase: binding.coreSetSequenceBase,
    addPeer: binding.coreAddPeer,
    addClock: binding.coreAddClock,
    useClock: binding.coreUseClock,
    send: binding.coreSend,
    sendHandle: binding.coreSendHandle,
    watchSent: binding.coreWatchSent,
    watchQueued: binding.coreWatchQueued,
    settle: binding.coreSettle,
    receive: binding.coreReceive,
    announce: binding.coreAnnounce,
    cancel: binding.coreCancel,
    expire: binding.coreExpire,
    peerGone: binding.corePeerGone,
    stats: binding.coreStats,
  }
}

// Argument packing, as src/binding.rs documents it: a lane is `peer * 65536 + ns`; an envelope
// is `lane * 16 + flags`, whose namespace part may be NS_UNKNOWN or NS_INVALID.
const LANE_PEER = 65536
const NS_UNKNOWN = 0xfffe
const NS_INVALID = 0xffff
const FLAG_OBJECT = 1
const FLAG_ACK = 2
const FLAG_CMD_OK = 4
const FLAG_WORKER_READY = 8
const RECEIVED = {
  IGNORE: -1,
  DELIVER: -2,
  UNKNOWN_NAMESPACE: -3,
  UNHANDLED: -4,
  UNMATCHED_ACK: -5,
  ANNOUNCE: -6,
}

module.exports = {
  createCore,
  LANE_PEER,
  NS_UNKNOWN,
  NS_INVALID,
  FLAG_OBJECT,
  FLAG_ACK,
  FLAG_CMD_OK,
  FLAG_WORKER_READY,
  RECEIVED,
}
