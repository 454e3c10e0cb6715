'use strict'
// What the measuring scripts (fanout-ab, instructions, peers) share.

/** The value after `--name` on the command line, or `fallback`. */
function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`)
  return at > 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/** User and system CPU time of a `process.cpuUsage()` result, in µs. */
function microseconds(usage) {
  return usage.user + usage.system
}

module.exports = { option, median, microseconds }
