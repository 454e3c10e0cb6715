'use strict'
// The benchmark's payloads (../shared/bench/bench.js), for the scripts that measure beside it.

/** The 88 B payload. */
const small = { data: { type: 'payload', reason: 'benchmarking', awesome: true, levelOfAwesome: 9001 } }

/** `small` for 0; else small records, then padding to exactly `size` bytes of JSON. */
function payloadOf(size) {
  if (!size) return small
  const items = []
  const payload = { data: small.data, items, pad: '' }
  let length = JSON.stringify(payload).length
  for (let i = 0; ; i++) {
    const record = { id: i, name: `item-${i}`, tags: ['a', 'b'], ok: i % 2 === 0, v: i * 1.5 }
    const more = JSON.stringify(record).length + (items.length ? 1 : 0)
    if (length + more > size - 16) break
    items.push(record)
    length += more
  }
  payload.pad = 'x'.repeat(Math.max(0, size - JSON.stringify(payload).length))
  return payload
}

module.exports = { small, payloadOf }
