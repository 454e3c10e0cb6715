"use strict";

// SPEC §6 in a cluster worker: 2.x and clusterphone 1.0.1 / 0.1.0-4 loaded
// into the same worker process, in both orders (IW_LOAD_ORDER of
// fixtures/interop-worker.js). The primary is a child process
// (fixtures/interop-primary.js) running 2.x alone. Namespaces are created in
// the worker through each library and through both in each order, with
// handlers registered through each library's own namespace objects.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const {
  startPrimary,
  assertSharedState,
  assertRoundTrip,
  assertRepliesAndErrors,
  assertBurst,
  assertHandles,
} = require("./fixtures/interop-harness");

const ORDERS = [
  { order: "v2,v1", title: "worker loading 2.x then 1.0.1" },
  { order: "v1,v2", title: "worker loading 1.0.1 then 2.x" },
  { order: "v2,v0", title: "worker loading 2.x then 0.1.0-4" },
  { order: "v0,v2", title: "worker loading 0.1.0-4 then 2.x" },
];
const PRIMARY = "v2";
const BURST = 200;

let primary;
before(async () => {
  primary = startPrimary(PRIMARY);
  await primary.ready;
});
after(async () => {
  if (primary) await primary.stop();
});

for (const { order, title } of ORDERS) {
  test(`${title}: process.__clusterphone is 2.x's (version "2.0.0", its bus as messageBus and messageHandler), 2.x's ns/ackTimeout intact`, { timeout: 30000 }, async () => {
    const state = await primary.run("workerState", { workerOrder: order });
    assertSharedState(state, order);
    assert.equal(state.onlineCount, 1, "clusterphone:online emitted once for the worker");
  });

  test(
    `${title}: handlers registered through either library are found and called once; ` +
      "each library's sends are acknowledged to its own message objects; the primary's messages queued before " +
      "the worker announced a namespace (made through one or both libraries) are delivered",
    { timeout: 60000 },
    async () => {
      const result = await primary.run("roundTrip", { workerOrder: order });
      assertRoundTrip(result, PRIMARY, order);
    },
  );

  test(`${title}: error acknowledgements, unhandled commands and unknown namespaces reach the library that sent`, { timeout: 60000 }, async () => {
    const result = await primary.run("repliesAndErrors", { workerOrder: order });
    assertRepliesAndErrors(result, PRIMARY, order);
  });

  test(`${title}: net.Server / net.Socket handles sent through each library (also queued with forceQueueHandle) are usable on the other side`, { timeout: 60000 }, async () => {
    const result = await primary.run("handles", { workerOrder: order });
    assertHandles(result, PRIMARY, order);
  });

  test(
    `${title}: ${BURST} messages through each library each way (some queued before ready): ` +
      "none handled twice, none dropped, every reply to its own sender",
    { timeout: 60000 },
    async () => {
      const result = await primary.run("burst", { workerOrder: order, n: BURST, early: 50 });
      assertBurst(result, PRIMARY, order, BURST);
    },
  );
}
