'use strict'
// The per-copy singletons every module shares: the native core, the clocks, and settings.

const cluster = require('node:cluster')
const { createCore } = require('./native')
const { Clocks } = require('./clocks')

const core = createCore()

const isPrimary = cluster.isPrimary ?? cluster.isMaster

const context = {
  core,
  /** Sends to cluster workers and `child_process.fork()` children (`sendTo`). */
  isPrimary,
  /**
   * Talks to a parent (`sendToMaster`): a cluster worker, or a child forked with
   * `clusterphone.fork()` (which sets CLUSTERPHONE_CHILD=1). A forked child that is itself a
   * cluster primary is both.
   */
  hasParent: !isPrimary || (process.env.CLUSTERPHONE_CHILD === '1' && typeof process.send === 'function'),
  /** `ackTimeout` in milliseconds, read when a message is sent. */
  settings: { ackTimeout: 10 * 1000 },
  clocks: null,
  /** Set by lib/namespaces.js: rejects an expired (slot, peer, ns, seq). */
  onExpired: null,
  /** Set by lib/shared.js: hands (peer, message, handle) to the process's message bus. */
  dispatch: null,
}

context.clocks = new Clocks(core, (slot, peer, ns, seq) => context.onExpired(slot, peer, ns, seq))

module.exports = context
