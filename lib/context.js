'use strict'
// The per-copy singletons every module shares: the native core, the clocks, and settings.

const cluster = require('node:cluster')
const { createCore } = require('./native')
const { Clocks } = require('./clocks')

const core = createCore()

const context = {
  core,
  isPrimary: cluster.isPrimary ?? cluster.isMaster,
  /** `ackTimeout` in milliseconds, read when a message is sent. */
  settings: { ackTimeout: 10 * 1000 },
  clocks: null,
  /** Set by lib/namespaces.js: rejects an expired (slot, peer, ns, seq). */
  onExpired: null,
}

context.clocks = new Clocks(core, (slot, peer, ns, seq) => context.onExpired(slot, peer, ns, seq))

module.exports = context
