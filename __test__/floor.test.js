"use strict";

// scripts/floor, the benchmark's `floor` column (`npm run bench -- --floor`): the API written by
// hand with only what no implementation can skip. Its figures only mean something if it does the
// work it claims: the 1.x envelope both ways (so a clusterphone 2 worker answers it), a Promise
// settled by the reply, and a timeout under `within()`.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const { ORACLE, fork, cleanup, online, withTimeout } = require("./helpers");

// The floor is a benchmark tool of this repository, not part of the API: nothing to check in
// another implementation.
const floor = ORACLE ? null : require(path.join(__dirname, "..", "scripts", "floor"));

after(cleanup);

test("the floor's primary and worker complete round trips and announce readiness", { skip: ORACLE }, async () => {
  const worker = fork("floor-worker.js");
  await online(worker);
  const replies = await withTimeout(
    Promise.all([1, 2, 3].map((n) => floor.sendTo(worker, "echo", { n }).ackd())),
    10000,
    "three echoes from the floor's worker",
  );
  assert.deepEqual(replies, [{ echoed: { n: 1 } }, { echoed: { n: 2 } }, { echoed: { n: 3 } }]);
});

test("the floor's within() rejects a message nobody acknowledges", { skip: ORACLE }, async () => {
  const worker = fork("floor-worker.js");
  await online(worker);
  const outcome = await withTimeout(
    floor.sendTo(worker, "never", {}).within(50).ackd().then(
      () => "resolved",
      (err) => err.message,
    ),
    10000,
    "the floor's timeout",
  );
  assert.match(outcome, /timed out/);
});

test("the floor speaks 1.x's envelope: a clusterphone 2 worker answers it", { skip: ORACLE }, async () => {
  const worker = fork("floor-worker.js", { env: { WORKER_LIB: "clusterphone" } });
  await online(worker);
  const reply = await withTimeout(floor.sendTo(worker, "echo", { hello: "2.x" }).ackd(), 10000, "an echo from a 2.x worker");
  assert.deepEqual(reply, { echoed: { hello: "2.x" } });
});
