"use strict";

// SPEC §6 in a cluster primary: 2.x and clusterphone 1.0.1 / 0.1.0-4 loaded
// into the same primary process, in both orders. Load order is per process,
// so each order runs in its own child process (fixtures/interop-primary.js);
// its workers run 2.x alone. Namespaces are created through each library and
// through both in each order (see fixtures/interop-libs.js scheme()), and
// handlers are registered through each library's own namespace objects.

const { test, before, after } = require("node:test");
const {
  startPrimary,
  assertSharedState,
  assertRoundTrip,
  assertRepliesAndErrors,
  assertBurst,
  assertHandles,
  assertDeath,
} = require("./fixtures/interop-harness");

const ORDERS = [
  { order: "v2,v1", title: "primary loading 2.x then 1.0.1" },
  { order: "v1,v2", title: "primary loading 1.0.1 then 2.x" },
  { order: "v2,v0", title: "primary loading 2.x then 0.1.0-4" },
  { order: "v0,v2", title: "primary loading 0.1.0-4 then 2.x" },
];
const WORKER = "v2";
const BURST = 200;

const primaries = {};
before(async () => {
  for (const { order } of ORDERS) primaries[order] = startPrimary(order);
  await Promise.all(Object.values(primaries).map((p) => p.ready));
});
after(async () => {
  await Promise.all(Object.values(primaries).map((p) => p.stop()));
});

for (const { order, title } of ORDERS) {
  test(`${title}: process.__clusterphone is 2.x's (version "2.0.0", its bus as messageBus and messageHandler), 2.x's ns/ackTimeout intact`, { timeout: 30000 }, async () => {
    const state = await primaries[order].run("state");
    assertSharedState(state, order);
  });

  test(
    `${title}: handlers registered through either library are found and called once; ` +
      "each library's sends are acknowledged to its own message objects; messages queued through each library " +
      "before the worker announced a namespace (made through one or both) are delivered",
    { timeout: 60000 },
    async () => {
      const result = await primaries[order].run("roundTrip", { workerOrder: WORKER });
      assertRoundTrip(result, order, WORKER);
    },
  );

  test(`${title}: error acknowledgements, unhandled commands and unknown namespaces reach the library that sent`, { timeout: 60000 }, async () => {
    const result = await primaries[order].run("repliesAndErrors", { workerOrder: WORKER });
    assertRepliesAndErrors(result, order, WORKER);
  });

  test(
    `${title}: when workers die, acknowledgements awaited through either library (sent, or still queued) reject with "worker died"`,
    { timeout: 60000 },
    async () => {
      const result = await primaries[order].run("death", { workerOrder: WORKER });
      assertDeath(result, order, WORKER);
    },
  );

  test(`${title}: net.Server / net.Socket handles sent through each library (also queued with forceQueueHandle) are usable on the other side`, { timeout: 60000 }, async () => {
    const result = await primaries[order].run("handles", { workerOrder: WORKER });
    assertHandles(result, order, WORKER);
  });

  test(
    `${title}: ${BURST} messages through each library each way (some queued before ready): ` +
      "none handled twice, none dropped, every reply to its own sender",
    { timeout: 60000 },
    async () => {
      const result = await primaries[order].run("burst", { workerOrder: WORKER, n: BURST, early: 50 });
      assertBurst(result, order, WORKER, BURST);
    },
  );
}
