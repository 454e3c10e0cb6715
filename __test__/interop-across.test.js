"use strict";

// Interop across the channel (SPEC §5: the wire format is 1.x's): 2.x on one
// side, the real clusterphone 1.0.1 or 0.1.0-4 on the other. The cluster
// primary of each pairing runs in a child process (fixtures/interop-primary.js)
// loading only its own library, and forks fixtures/interop-worker.js workers
// loading only theirs. Handlers on the 1.x/0.1.x side acknowledge the way those
// versions do: ack(reply) with one argument, or a returned promise.

const { test, before, after } = require("node:test");
const {
  startPrimary,
  assertRoundTrip,
  assertRepliesAndErrors,
  assertHandles,
} = require("./fixtures/interop-harness");

const PAIRS = [
  { primary: "v2", worker: "v1", title: "2.x primary <-> 1.0.1 worker" },
  { primary: "v1", worker: "v2", title: "1.0.1 primary <-> 2.x worker" },
  { primary: "v2", worker: "v0", title: "2.x primary <-> 0.1.0-4 worker" },
  { primary: "v0", worker: "v2", title: "0.1.0-4 primary <-> 2.x worker" },
];

const primaries = {};
before(async () => {
  for (const { primary } of PAIRS) {
    if (!primaries[primary]) primaries[primary] = startPrimary(primary);
  }
  await Promise.all(Object.values(primaries).map((p) => p.ready));
});
after(async () => {
  await Promise.all(Object.values(primaries).map((p) => p.stop()));
});

for (const { primary, worker, title } of PAIRS) {
  test(
    `${title}: messages both ways in the default and a custom namespace, replies back to the sender; ` +
      "a message sent right after fork is held until the worker's workerReady",
    { timeout: 60000 },
    async () => {
      const result = await primaries[primary].run("roundTrip", { workerOrder: worker });
      assertRoundTrip(result, primary, worker);
    },
  );

  test(
    `${title}: promise and deferred replies, error acknowledgements (origMessage/origStack), ` +
      "unhandled commands and unknown namespaces, both ways",
    { timeout: 60000 },
    async () => {
      const result = await primaries[primary].run("repliesAndErrors", { workerOrder: worker });
      assertRepliesAndErrors(result, primary, worker);
    },
  );

  test(
    `${title}: a net.Server (also one queued with forceQueueHandle before the worker is ready) and a net.Socket ` +
      "passed each way are usable on the other side",
    { timeout: 60000 },
    async () => {
      const result = await primaries[primary].run("handles", { workerOrder: worker });
      assertHandles(result, primary, worker);
    },
  );
}
