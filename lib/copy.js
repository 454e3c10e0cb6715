'use strict'
// A copy of a value, taken when it is sent, for a batch (lib/outbox.js): the batch is serialized
// when the tick ends, so what it carries must be what the value was when `sendTo` returned. Only
// values whose copy the channel's serializer cannot tell from the original are copied: primitives
// (not symbols; under JSON not BigInts, which it refuses), plain objects and dense arrays, each
// object seen once (under `advanced` a shared object or a cycle arrives shared, which a copy would
// not keep), and not too many. Anything else (a Map, a Date, a typed array, a class instance, a
// Proxy, a function) is `NOT_PLAIN`: under `advanced` the message is written on its own, as 1.x
// would; under JSON it is serialized at once instead. Not told apart, as checking would cost a
// native call per object per kind: a built-in whose prototype was swapped for `Object.prototype`
// or null (a Map, a typed array, a WeakMap) is copied as a plain object.

const { isProxy } = require('node:util').types

const NOT_PLAIN = Symbol('clusterphone.notPlain')
/** Plain data, but more of it than `MAX_WEIGHT`: not worth copying. */
const TOO_LARGE = Symbol('clusterphone.tooLarge')

/**
 * How much is copied at most: a value counts 1, a string 1 more per 256 characters. Past it a
 * message is written on its own. Measured against single writes (100 outstanding, CPU per round
 * trip both ends): a copy costs ~65 ns a value (0.35 µs for 88 B of JSON, 7.9 µs for 1 KB of
 * small records), and batching won at 24 values (256 B), broke even at 56 (512 B) and lost at 120.
 */
const MAX_WEIGHT = 40

const ObjectPrototype = Object.prototype
const ArrayPrototype = Array.prototype
const getPrototypeOf = Object.getPrototypeOf
const keysOf = Object.keys
const toString = Object.prototype.toString
const hasOwn = Object.prototype.hasOwnProperty
const defineProperty = Object.defineProperty

/** Objects met in the copy being taken, to find one met twice. */
const seen = []
let budget = 0
/** The copy gave up because the budget ran out (`TOO_LARGE`), not because of what it met. */
let overBudget = false
/** A getter that sends while a copy is taken must not reuse `seen` and `budget`. */
let copying = false
/** The copy is for a JSON channel, where a BigInt does not serialize. */
let json = false

/**
 * A copy of `value` made of new objects, `NOT_PLAIN`, or `TOO_LARGE`; `forJson` for a JSON
 * channel. Getters are read once, as the serializer would; but when the copy gives up after
 * reading some, the single write (or the serialization instead) reads them again.
 */
function copyPlain(value, forJson) {
  if (copying) return NOT_PLAIN
  copying = true
  json = forJson
  budget = MAX_WEIGHT
  overBudget = false
  try {
    const copy = copyValue(value)
    return copy === NOT_PLAIN && overBudget ? TOO_LARGE : copy
  } finally {
    seen.length = 0
    copying = false
  }
}

function primitive(value) {
  if (typeof value === 'string') {
    budget -= value.length >> 8
    return budget < 0 ? spent() : value
  }
  return typeof value === 'symbol' || typeof value === 'function' || (json && typeof value === 'bigint') ? NOT_PLAIN : value
}

/** The budget ran out. */
function spent() {
  overBudget = true
  return NOT_PLAIN
}

function copyValue(value) {
  if (--budget < 0) return spent()
  if (typeof value !== 'object' || value === null) return primitive(value)
  if (isProxy(value) || seen.includes(value)) return NOT_PLAIN
  seen.push(value)
  const proto = getPrototypeOf(value)
  const isArray = proto === ArrayPrototype && Array.isArray(value)
  // The tag tells an arguments object or a module namespace (which the serializer refuses) from
  // a plain object with the same prototype.
  if (!isArray && !((proto === ObjectPrototype || proto === null) && toString.call(value) === '[object Object]')) return NOT_PLAIN
  // Under JSON, a plain object or array whose `toJSON` the copy would not meet as one of its
  // values (a non-enumerable own one, a getter) is the serializer's: JSON.stringify calls it.
  if (json && typeof value.toJSON === 'function') return NOT_PLAIN
  return isArray ? copyArray(value) : copyObject(value)
}

function copyArray(array) {
  const length = array.length
  // Named properties beside the elements travel too; leave such arrays to the serializer.
  if (length > budget) return spent()
  if (keysOf(array).length !== length) return NOT_PLAIN
  // Built by push, not `new Array(length)`: V8 serializes an array it thinks may have holes in
  // its sparse form, index by index (twice the bytes).
  const copy = []
  for (let i = 0; i < length; i++) {
    const item = copyValue(array[i])
    if (item === NOT_PLAIN || (item === undefined && !(i in array))) return NOT_PLAIN
    copy.push(item)
  }
  return copy
}

function copyObject(object) {
  const keys = keysOf(object)
  if (keys.length > budget) return spent()
  const copy = {}
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]
    const item = copyValue(object[key])
    if (item === NOT_PLAIN) return NOT_PLAIN
    // A key a getter deleted on the way is skipped, as the serializer skips it.
    if (item === undefined && !hasOwn.call(object, key)) continue
    // An inherited key (`constructor`, `__proto__`, one a frozen or patched Object.prototype has)
    // is defined, not assigned: assigning would throw, call a setter or set the prototype. The
    // copy's keys are unique and its prototype is Object.prototype, whose own prototype is always
    // null: so it inherits exactly what Object.prototype owns (asked there, the lookup is
    // monomorphic: ~6% fewer instructions per copy of an 88 B payload, valgrind).
    if (hasOwn.call(ObjectPrototype, key)) defineProperty(copy, key, { value: item, writable: true, enumerable: true, configurable: true })
    else copy[key] = item
  }
  return copy
}

module.exports = { copyPlain, NOT_PLAIN, TOO_LARGE, MAX_WEIGHT }
