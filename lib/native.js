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

module.exports = { loadCore }
