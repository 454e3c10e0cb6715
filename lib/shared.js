'use strict'
// The process-wide state every clusterphone version shares on `process.__clusterphone`
// ({ namespaces, workerDataAccessor, version, messageBus | messageHandler }, as 1.x's nucleus.js
// defines it). The first copy to load binds the one channel listener, which dispatches to whatever
// bus is installed there; the newest version installs its bus. 0.1.x dispatches through
// `messageHandler` and 1.0.1 through `messageBus`, so we take over both.

const cluster = require('node:cluster')
const { version: VERSION } = require('../package.json')
const context = require('./context')

/** Numeric major.minor.patch comparison; a prerelease ranks below its release. */
function isNewer(candidate, current) {
  const parse = (v) => {
    const [core, pre] = String(v).split('-', 2)
    const parts = core.split('.').map((n) => parseInt(n, 10) || 0)
    return [parts[0] || 0, parts[1] || 0, parts[2] || 0, pre === undefined ? 1 : 0]
  }
  const a = parse(candidate)
  const b = parse(current)
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] > b[i]
  return false
}

let state = process.__clusterphone

function install(messageBus) {
  if (state === undefined || state === null) {
    state = process.__clusterphone = {
      namespaces: {},
      workerDataAccessor: Symbol('clusterphone'),
      version: VERSION,
      messageBus,
      messageHandler: messageBus,
    }
    const dispatch = (peer, message, handle) => {
      const bus = state.messageBus || state.messageHandler
      bus.call(peer, message, handle)
    }
    if (context.isPrimary) cluster.on('message', (worker, message, handle) => dispatch(worker, message, handle))
    else process.on('message', (message, handle) => dispatch(process, message, handle))
    return
  }
  if (!state.version || isNewer(VERSION, state.version)) {
    state.version = VERSION
    state.messageBus = messageBus
    state.messageHandler = messageBus
  }
}

/** Makes a namespace entry visible to other copies and versions, unless one is already there. */
function publish(name, entry) {
  if (!Object.prototype.hasOwnProperty.call(state.namespaces, name)) state.namespaces[name] = entry
}

/** The interface object another copy or version already made for `name`. */
function interfaceOf(name) {
  if (!Object.prototype.hasOwnProperty.call(state.namespaces, name)) return undefined
  return state.namespaces[name].interface
}

module.exports = { install, publish, interfaceOf, isNewer }
