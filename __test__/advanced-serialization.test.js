"use strict";

// SPEC §2/§5: with cluster.setupPrimary({ serialization: "advanced" }) payloads
// are carried by the structured clone algorithm, in both directions.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || require("node:path").join(__dirname, ".."));
const { fork, cleanup, online, withTimeout } = require("./helpers");

after(cleanup);

clusterphone.handlers.echo = (w, payload, handle, ack) => ack(payload);

let worker;
before(async () => {
  worker = fork("worker.js", { serialization: "advanced" });
  await online(worker);
});

function payload() {
  return {
    map: new Map([
      ["a", 1],
      [2, { nested: new Map([["deep", true]]) }],
    ]),
    set: new Set([1, "x", null]),
    date: new Date(Date.UTC(2014, 6, 1, 12, 30)),
    big: 2n ** 70n + 1n,
    negativeBig: -42n,
    bytes: new Uint8Array([0, 1, 254, 255]),
    holes: [undefined, null, NaN, -0, Infinity],
    text: "plain",
  };
}

test("a Map / Set / Date / BigInt payload round-trips primary -> worker -> primary", { timeout: 20000 }, async () => {
  const reply = await withTimeout(clusterphone.sendTo(worker, "echo", payload()).acknowledged(), 5000, "echo");
  assert.ok(reply.map instanceof Map);
  assert.ok(reply.date instanceof Date);
  assert.equal(typeof reply.big, "bigint");
  assert.deepStrictEqual(reply, payload());
});

test("a Map / Set / Date / BigInt payload round-trips worker -> primary -> worker", { timeout: 20000 }, async () => {
  const result = await withTimeout(
    clusterphone.sendTo(worker, "relay", { cmd: "echo", payload: payload() }).acknowledged(),
    5000,
    "relay",
  );
  assert.deepStrictEqual(result, { ok: true, reply: payload() });
});

test("a BigInt reply and an error acknowledgement travel with advanced serialization too", { timeout: 20000 }, async () => {
  assert.equal(await withTimeout(clusterphone.sendTo(worker, "echoPromise", 10n ** 30n).acknowledged(), 5000, "echoPromise"), 10n ** 30n);
  await assert.rejects(
    withTimeout(clusterphone.sendTo(worker, "throwError", "advanced failure").acknowledged(), 5000, "throwError"),
    (err) => /message handler threw an error/i.test(err.message) && err.origMessage === "advanced failure",
  );
});
