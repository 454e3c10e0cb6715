'use strict'
// NODE_DEBUG=clusterphone: one line per send, queue, flush, receive, acknowledgement, timeout and
// peer death. Callers check `debug.enabled` first, so nothing is formatted when it is off.

const { debuglog } = require('node:util')

const log = debuglog('clusterphone')

function debug(...args) {
  log(...args)
}

// Node reads NODE_DEBUG once, at startup, so this never changes; debuglog's own `enabled` is a
// getter, called by every check on the message path.
debug.enabled = log.enabled

module.exports = debug
