"use strict";

// SPEC §1: module shape, namespaces, ackTimeout, ESM.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { execFile } = require("node:child_process");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || require("node:path").join(__dirname, ".."));
const { ORACLE, fork, cleanup, online, withTimeout } = require("./helpers");

after(cleanup);

test("require() returns the default namespace, named \"_\"", () => {
  assert.equal(clusterphone.name, "_");
  assert.equal(clusterphone.ns("_"), clusterphone);
});

test("ns(name) returns a namespace with that name, the same object every time", () => {
  const a = clusterphone.ns("module-a");
  assert.equal(a.name, "module-a");
  assert.equal(clusterphone.ns("module-a"), a);
  assert.notEqual(clusterphone.ns("module-b"), a);
  assert.equal(clusterphone.ns("module-b").name, "module-b");
});

test(
  "the module itself is callable: require(\"clusterphone\")(name) is ns(name)",
  { skip: ORACLE && "1.0.1 differs: its module is not callable although its README documents the form" },
  () => {
    assert.equal(typeof clusterphone, "function");
    const called = clusterphone("module-called");
    assert.equal(called, clusterphone.ns("module-called"));
    assert.equal(called.name, "module-called");
  },
);

test("ns(\"\") and ns(undefined) throw a TypeError: name is required", () => {
  assert.throws(() => clusterphone.ns(""), { name: "TypeError", message: /name is required/i });
  assert.throws(() => clusterphone.ns(undefined), { name: "TypeError", message: /name is required/i });
  assert.throws(() => clusterphone.ns(), { name: "TypeError", message: /name is required/i });
});

test("ns(\"clusterphone\") throws: the internal namespace is private", () => {
  assert.throws(
    () => clusterphone.ns("clusterphone"),
    (err) => err instanceof Error && /is private/.test(err.message),
  );
  // and it keeps throwing (no one-shot guard left open)
  assert.throws(() => clusterphone.ns("clusterphone"), /is private/);
});

test("a namespace in the primary has name, a handlers object and sendTo", () => {
  for (const space of [clusterphone, clusterphone.ns("module-shape")]) {
    assert.equal(typeof space.name, "string");
    assert.equal(typeof space.handlers, "object");
    assert.notEqual(space.handlers, null);
    assert.ok(!Array.isArray(space.handlers));
    assert.equal(typeof space.sendTo, "function");
  }
  // the handlers of two namespaces are distinct objects
  assert.notEqual(clusterphone.ns("module-shape").handlers, clusterphone.handlers);
  assert.equal(typeof clusterphone.ns, "function");
});

test("the module's and a namespace's enumerable keys are exactly 1.x's", () => {
  assert.deepEqual(Object.keys(clusterphone), ["name", "handlers", "sendTo", "ns", "ackTimeout"]);
  assert.deepEqual(Object.keys(clusterphone.ns("module-keys")), ["name", "handlers", "sendTo"]);
});

test("ackTimeout defaults to 10000 ms and is writable", () => {
  assert.equal(clusterphone.ackTimeout, 10000);
  clusterphone.ackTimeout = 1234;
  try {
    assert.equal(clusterphone.ackTimeout, 1234);
  } finally {
    clusterphone.ackTimeout = 10000;
  }
  assert.equal(clusterphone.ackTimeout, 10000);
});

test("ackTimeout refuses what is not a positive number and keeps its value (1.0.1 stored it, 0 timing out at once)", { skip: ORACLE && "1.0.1 differs: a plain property", timeout: 20000 }, () => {
  for (const bad of [0, -1, "abc", null, undefined, NaN]) {
    assert.throws(() => (clusterphone.ackTimeout = bad), /must be a number/, `ackTimeout = ${String(bad)}`);
    assert.equal(clusterphone.ackTimeout, 10000);
  }
});

test("a namespace in a worker has name, handlers and sendToMaster; same rules for ns()", { timeout: 20000 }, async () => {
  const worker = fork("worker.js");
  await online(worker);
  const shape = await withTimeout(
    clusterphone.sendTo(worker, "shape").acknowledged(),
    5000,
    "the worker's shape report",
  );
  assert.deepEqual(shape, {
    name: "_",
    handlersIsObject: true,
    sendToMasterType: "function",
    nsType: "function",
    ackTimeout: 10000,
    nsIdentity: true,
    defaultViaNs: true,
    otherName: "shapeNs",
    otherSendToMasterType: "function",
    // exactly 1.x's keys: 2.x's own methods are there but not enumerable
    keys: ["name", "handlers", "sendToMaster", "ns", "ackTimeout"],
    otherKeys: ["name", "handlers", "sendToMaster"],
    privateError: shape.privateError, // checked below
  });
  assert.ok(shape.privateError, "ns(\"clusterphone\") must throw in a worker too");
  assert.match(shape.privateError.message, /is private/);
});

function runEsmFixture() {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [path.join(__dirname, "fixtures", "esm-shape.mjs")],
      { env: process.env, timeout: 15000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`esm-shape.mjs failed: ${err.message}\n${stderr}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout.trim().split("\n").pop()));
        } catch (parseError) {
          reject(new Error(`esm-shape.mjs printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

test("ESM: import clusterphone, { ns } gives the same namespaces as require()", { timeout: 20000 }, async () => {
  const report = await withTimeout(runEsmFixture(), 16000, "the ESM fixture");
  assert.deepEqual(report, {
    defaultName: "_",
    defaultSendToType: "function",
    defaultNsType: "function",
    defaultIsRequired: true,
    namedNsType: "function",
    namedNsSameNamespace: true,
    sharedNamespace: true,
    sharedNamespaceName: "esm-shared",
  });
});
