'use strict'
// Loads the compiled core. Where it looks, in order:
// 1. CLUSTERPHONE_NATIVE_PATH, if set (a path to a `.node` file; nothing else is tried then);
// 2. the binary `npm install` built from source next to the package (a clone, `npm run build`);
// 3. this platform's prebuilt binary package, `clusterphone-<triple>`, which npm installs from the
//    root package's optionalDependencies (only the one whose os/cpu/libc fit);
// 4. the generated `binding.js` (napi build --js), which knows every napi-rs layout and fallback.
// When none fits, users get an error that names the platform and what to do, instead of a bare
// "Cannot find module".

const fs = require('node:fs')
const path = require('node:path')
const { nativeTarget } = require('./platform')

const PACKAGE_DIR = path.join(__dirname, '..')

/**
 * The binary `npm install` built next to the package, if there is exactly one for this platform
 * and arch: requiring it directly skips compiling the generated loader, which matters for how
 * fast a freshly forked worker is ready. Anything else goes through the steps after it.
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

/** What package.json says: the targets with a prebuilt binary and where the source lives. */
function packageInfo() {
  let manifest = {}
  try {
    manifest = require('../package.json')
  } catch {
    // Only the error message uses it.
  }
  const prebuilt = Object.keys(manifest.optionalDependencies || {})
    .filter((name) => name.startsWith('clusterphone-'))
    .map((name) => name.slice('clusterphone-'.length))
  const repository = manifest.repository
  const url = typeof repository === 'string' ? repository : repository?.url
  return { prebuilt, source: url ? `its git repository, ${url.replace(/^git\+/, '')}` : 'its git repository' }
}

/** The Error thrown when no binary loads: platform, arch, libc, what was looked for, what to do. */
function missingBinaryError(target, override, cause) {
  const { platform, arch, libc, triple, fileName, packageName } = target
  const { prebuilt, source } = packageInfo()
  const where = override
    ? `CLUSTERPHONE_NATIVE_PATH=${override} (set in the environment, so nothing else was tried)`
    : `${fileName} in ${PACKAGE_DIR}, and the package ${packageName}`
  const isPrebuilt = prebuilt.includes(triple)
  let advice = isPrebuilt
    ? `${packageName} is the prebuilt binary for this platform, an optional dependency of clusterphone: ` +
      'reinstall without --omit=optional / --no-optional (if it still is missing, npm hit its optional ' +
      'dependencies bug: delete node_modules and package-lock.json, then run `npm install` again).'
    : `No prebuilt binary is published for ${triple} (prebuilt: ${prebuilt.join(', ') || 'none'}).`
  if (override) {
    advice =
      'Point CLUSTERPHONE_NATIVE_PATH at an existing clusterphone .node file, or unset it' +
      (isPrebuilt ? ` to load ${packageName} (the prebuilt binary npm installs here).` : '.') +
      (isPrebuilt ? '' : ` ${advice}`)
  }
  const error = new Error(
    `clusterphone: no usable native binary for this platform (platform: ${platform}, arch: ${arch}, ` +
      `libc: ${libc || 'n/a (not Linux)'}). Looked for ${where}.\n${advice}\n` +
      'To build it from source: install the Rust toolchain (https://rustup.rs), get the clusterphone ' +
      `source (${source}), run \`npm install\` there (it builds ${fileName}), then install ` +
      'that directory (`npm install /path/to/clusterphone`) or set CLUSTERPHONE_NATIVE_PATH to the ' +
      'built .node file.',
    { cause },
  )
  error.code = 'ERR_CLUSTERPHONE_NATIVE_MISSING'
  error.platform = platform
  error.arch = arch
  error.libc = libc
  error.packageName = packageName
  return error
}

function loadCore() {
  const override = process.env.CLUSTERPHONE_NATIVE_PATH
  try {
    if (override) return require(path.resolve(override))
    const built = builtBinary()
    if (built !== undefined) return require(built)
  } catch (cause) {
    throw missingBinaryError(nativeTarget(), override, cause)
  }
  const target = nativeTarget()
  try {
    return require(target.packageName)
  } catch {
    // Not installed (or it does not load here): binding.js tries every layout and keeps the errors.
  }
  try {
    return require('../binding.js')
  } catch (cause) {
    throw missingBinaryError(target, override, cause)
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
    expireSlot: binding.coreExpireSlot,
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
