"use strict";

// lib/copy.js: the copy a batch carries must be indistinguishable, after the channel's serializer
// (V8's under `advanced`, JSON otherwise), from the original sent alone; anything it cannot promise
// that for is NOT_PLAIN (written alone under `advanced`, serialized at once under JSON). No worker
// needed: this is the pure part.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const v8 = require("node:v8");

const { ORACLE } = require("./helpers");
const skip = ORACLE && "lib/copy.js is 2.x's own";
const { copyPlain, NOT_PLAIN, TOO_LARGE, MAX_WEIGHT } = ORACLE ? {} : require(path.join(__dirname, "..", "lib", "copy.js"));

const overV8 = (value) => v8.deserialize(v8.serialize(value));

test("plain values copy to new objects that serialize as the originals do", { skip }, () => {
  const values = [
    { a: 1, gone: undefined, s: "text", n: -0, nan: NaN, big: 10n, t: true, z: null },
    [1, undefined, [2, [3]], { deep: { deeper: [] } }],
    Object.assign(Object.create(null), { bare: 1, 2: "two", 1: "one" }),
    { "": "empty key", constructor: "own", toString: 5 },
    [],
    {},
  ];
  for (const value of values) {
    const copy = copyPlain(value);
    assert.notEqual(copy, NOT_PLAIN);
    assert.notEqual(copy, value, "a new object");
    assert.deepStrictEqual(overV8(copy), overV8(value));
    assert.deepStrictEqual(Object.keys(copy), Object.keys(value), "same keys in the same order");
  }
  const nested = { inner: { list: [{ x: 1 }] } };
  const copy = copyPlain(nested);
  assert.notEqual(copy.inner, nested.inner);
  assert.notEqual(copy.inner.list, nested.inner.list);
  assert.notEqual(copy.inner.list[0], nested.inner.list[0]);
});

test("primitives are their own copy; symbols and functions are not plain", { skip }, () => {
  for (const value of [undefined, null, 0, -0, NaN, Infinity, 10n, "", "text", true]) assert.ok(Object.is(copyPlain(value), value), String(value));
  assert.equal(copyPlain(Symbol("s")), NOT_PLAIN);
  assert.equal(copyPlain(() => {}), NOT_PLAIN);
  assert.equal(copyPlain({ f() {} }), NOT_PLAIN);
  assert.equal(copyPlain([Symbol.iterator]), NOT_PLAIN);
});

test("what a copy cannot stand for exactly, or does not try to (a custom tag), is NOT_PLAIN", { skip }, () => {
  class Point {
    constructor() {
      this.x = 1;
    }
  }
  const shared = { s: 1 };
  const cycle = {};
  cycle.self = cycle;
  const args = (function () {
    return arguments;
  })(1, 2);
  const tagged = { [Symbol.toStringTag]: "Custom" };
  const cases = {
    Map: new Map(),
    Set: new Set(),
    Date: new Date(0),
    RegExp: /x/,
    Uint8Array: new Uint8Array(2),
    Buffer: Buffer.from("x"),
    ArrayBuffer: new ArrayBuffer(2),
    Error: new Error("e"),
    "boxed number": Object(1),
    "class instance": new Point(),
    Proxy: new Proxy({}, {}),
    "array Proxy": new Proxy([], {}),
    "shared object": { a: shared, b: shared },
    cycle,
    "arguments object": args,
    "sparse array": [1, , 3], // eslint-disable-line no-sparse-arrays
    "array with a named property": Object.assign([1], { extra: 2 }),
    "array with a hole and a named property": Object.assign([1, , 3], { x: 1 }), // eslint-disable-line no-sparse-arrays
    "Symbol.toStringTag": tagged,
    "nested Map": { inner: [new Map()] },
  };
  for (const [name, value] of Object.entries(cases)) assert.equal(copyPlain(value), NOT_PLAIN, name);
});

test("getters are read once, when the copy is taken", { skip }, () => {
  let reads = 0;
  const value = {
    get now() {
      reads++;
      return reads;
    },
  };
  const copy = copyPlain(value);
  assert.deepStrictEqual(copy, { now: 1 });
  assert.equal(reads, 1);
  const throwing = {
    get bad() {
      throw new Error("getter threw");
    },
  };
  const inner = { s: 1 };
  assert.throws(() => copyPlain({ a: inner, get bad() { throw new Error("getter threw"); } }), /getter threw/);
  // The copy after a throw starts afresh: `inner` is not taken for an object met twice.
  assert.deepStrictEqual(copyPlain({ a: inner }), { a: { s: 1 } });
  const deleting = {
    get a() {
      delete this.b;
      return 1;
    },
    b: 2,
  };
  assert.deepStrictEqual(overV8(copyPlain(deleting)), { a: 1 }, "a key a getter deleted is skipped, as the serializer skips it");
  let nested;
  const reentering = {
    get g() {
      nested = copyPlain({ x: 1 });
      return 1;
    },
  };
  assert.deepStrictEqual(copyPlain(reentering), { g: 1 });
  assert.equal(nested, NOT_PLAIN, "a copy asked for inside a getter declines instead of sharing the outer copy's state");
});

test("keys Object.prototype has, even patched, become own properties of the copy", { skip }, () => {
  const ownProto = {};
  Object.defineProperty(ownProto, "__proto__", { value: 1, enumerable: true, writable: true, configurable: true });
  const copy = copyPlain({ constructor: "c", toString: "t", ...ownProto });
  assert.equal(Object.getPrototypeOf(copy), Object.prototype);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(copy, "__proto__"), { value: 1, writable: true, enumerable: true, configurable: true });
  assert.equal(copy.constructor, "c");
  assert.deepStrictEqual(overV8(copy), overV8({ constructor: "c", toString: "t", ...ownProto }));
  let setterCalls = 0;
  Object.defineProperty(Object.prototype, "trap", { set() { setterCalls++; }, configurable: true }); // eslint-disable-line no-extend-native
  Object.defineProperty(Object.prototype, "readOnly", { value: 0, writable: false, configurable: true }); // eslint-disable-line no-extend-native
  try {
    const patched = copyPlain({ trap: 1, readOnly: 2 });
    assert.equal(setterCalls, 0, "an inherited setter is not called");
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(patched, "trap").value, 1);
    assert.deepStrictEqual(Object.getOwnPropertyDescriptor(patched, "readOnly").value, 2);
  } finally {
    delete Object.prototype.trap;
    delete Object.prototype.readOnly;
  }
});

test("arrays copy to packed arrays, which V8 serializes as the original", { skip }, () => {
  const array = [1, 2, 3, { a: [4, 5] }];
  assert.deepStrictEqual(v8.serialize(copyPlain(array)), v8.serialize(array));
});

test("a copy has a weight limit (TOO_LARGE): each value counts one, a string one more per 256 characters", { skip }, () => {
  const values = (n) => Array.from({ length: n - 1 }, (_, i) => i); // the array itself counts too
  assert.deepStrictEqual(copyPlain(values(MAX_WEIGHT)), values(MAX_WEIGHT));
  assert.equal(copyPlain(values(MAX_WEIGHT + 1)), TOO_LARGE);
  assert.equal(copyPlain("x".repeat(256 * MAX_WEIGHT)), TOO_LARGE);
  assert.equal(copyPlain("x".repeat(256 * (MAX_WEIGHT - 1))), "x".repeat(256 * (MAX_WEIGHT - 1)));
  assert.equal(copyPlain({ a: "x".repeat(256 * (MAX_WEIGHT - 1)) }), TOO_LARGE, "the object and its string");
  const records = Array.from({ length: 30 }, (_, i) => ({ i }));
  assert.equal(copyPlain({ records }), TOO_LARGE, "found part way through");
  assert.equal(copyPlain({ m: new Map(), rest: values(MAX_WEIGHT + 1) }), NOT_PLAIN, "what it met first decides");
  assert.equal(copyPlain([...records, new Map()]), TOO_LARGE);
});

test("for a JSON channel, copies serialize as the originals do; a BigInt is NOT_PLAIN", { skip }, () => {
  const values = [
    { a: 1, gone: undefined, s: "text", n: -0, nan: NaN, inf: -Infinity, t: true, z: null },
    [1, undefined, [2, [3]], { deep: { deeper: [] } }],
    Object.assign(Object.create(null), { bare: 1, 2: "two", 1: "one" }),
    { toJSON: 5 },
    "text",
    7,
  ];
  for (const value of values) {
    const copy = copyPlain(value, true);
    assert.notEqual(copy, NOT_PLAIN);
    assert.equal(JSON.stringify({ payload: copy }), JSON.stringify({ payload: value }));
  }
  const hiddenToJson = Object.defineProperty({ a: 1 }, "toJSON", { enumerable: false, value: () => "X" });
  assert.equal(copyPlain({ nested: hiddenToJson }, true), NOT_PLAIN, "a non-enumerable toJSON is JSON.stringify's to call");
  assert.equal(copyPlain(Object.defineProperty([1], "toJSON", { enumerable: false, value: () => "X" }), true), NOT_PLAIN);
  assert.notEqual(copyPlain(hiddenToJson, false), NOT_PLAIN, "V8's serializer never calls toJSON");
  assert.equal(copyPlain({ big: 1n }, true), NOT_PLAIN, "JSON refuses a BigInt: the single write's error must come from sendTo");
  assert.equal(copyPlain(1n, true), NOT_PLAIN);
  assert.notEqual(copyPlain({ big: 1n }, false), NOT_PLAIN, "V8's serializer takes it");
});
