'use strict'
// NODE_DEBUG=clusterphone: one line per send, queue, flush, receive, acknowledgement, timeout and
// peer death. Callers check `debug.enabled` first, so nothing is formatted when it is off.

const { debuglog } = require('node:util')

module.exports = debuglog('clusterphone')
