"use strict";
// Children of child_process.fork() as peers: readiness, queueing, replies both ways, death.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { withTimeout, once, IMPL, ORACLE } = require("./helpers");

const clusterphone = require(IMPL);
const skip = ORACLE && "2.x only";
const fixture = path.join(__dirname, "fixtures", "child.js");
const children = new Set();

function forkChild() {
  const child = clusterphone.fork(fixture, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.add(child);
  return child;
}

after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

test("a forked child gets messages queued until it is ready, and replies", { skip, timeout: 20000 }, async () => {
  const child = forkChild();
  const online = once(child, "clusterphone:online");
  // Sent before the child has even loaded: queued, then flushed in order.
  const first = clusterphone.sendTo(child, "echo", 1).ackd();
  const second = clusterphone.sendTo(child, "echo", 2).ackd();
  assert.deepEqual(await withTimeout(Promise.all([first, second]), 10000, "the replies"), [1, 2]);
  await withTimeout(online, 5000, "clusterphone:online on the child");
  assert.deepEqual(await clusterphone.sendTo(child, "shape").ackd(), { sendToMaster: "function", sendTo: "function" });
  child.kill("SIGKILL");
});

test("a child sends to its parent; the parent's handler gets the ChildProcess", { skip, timeout: 20000 }, async () => {
  const child = forkChild();
  const seen = [];
  clusterphone.handlers.fromChild = (from, payload, handle, ack) => {
    seen.push(from);
    ack(payload * 10);
  };
  assert.equal(await withTimeout(clusterphone.sendTo(child, "callParent", 4).ackd(), 10000, "the round trip"), 40);
  assert.equal(seen.length, 1);
  assert.equal(seen[0], child, "the very ChildProcess fork() returned");
  child.kill("SIGKILL");
});

test("a child that dies rejects every awaited acknowledgement at once; sends then throw", { skip, timeout: 20000 }, async () => {
  const child = forkChild();
  assert.equal(await withTimeout(clusterphone.sendTo(child, "echo", "up").ackd(), 10000, "ready"), "up");
  const hanging = clusterphone.sendTo(child, "never").within(60000).ackd();
  const dying = clusterphone.sendTo(child, "exitNow").within(60000).ackd();
  for (const pending of [hanging, dying]) {
    await withTimeout(assert.rejects(pending, { code: "ERR_CLUSTERPHONE_WORKER_DIED", message: /worker died/i }), 5000, "the rejection");
  }
  if (child.exitCode === null) await once(child, "exit");
  assert.throws(() => clusterphone.sendTo(child, "echo"), /worker is dead/i);
  const stats = clusterphone._stats();
  assert.equal(stats.pending, 0);
  assert.equal(stats.held, 0);
});
