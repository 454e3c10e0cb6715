'use strict'
// clusterphone 2. Every copy of 2.x in a process (nested node_modules, a cleared require cache)
// returns the same module, so there is one bus, one core and one set of namespaces.
//
// bundle/clusterphone.js is lib/ in one file (scripts/bundle.js): a worker loads it in about half the
// time. A checkout that has not been built yet runs lib/ directly.

const BUNDLE = './bundle/clusterphone.js'

function load() {
  try {
    return require(BUNDLE)
  } catch (error) {
    const bundleMissing = error !== null && typeof error === 'object' && error.code === 'MODULE_NOT_FOUND' &&
      String(error.message).startsWith(`Cannot find module '${BUNDLE}'`)
    if (!bundleMissing) throw error
    return require('./lib/module')
  }
}

const state = process.__clusterphone
const running = state !== undefined && state !== null ? state.clusterphone2 : undefined

module.exports = running !== undefined ? running : load()
