"use strict";
// Beyond 1.x: error codes, cancellation, broadcast, backpressure, debug logging, unref'd timers.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const cluster = require("node:cluster");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { fork, cleanup, online, withTimeout, once, IMPL, ORACLE } = require("./helpers");

const clusterphone = require(IMPL);
const skip = ORACLE && "2.x only";

after(cleanup);

async function readyWorker(env) {
  const worker = fork("beyond-worker.js", { env });
  await online(worker);
  return worker;
}

test("library errors carry stable codes", { skip, timeout: 20000 }, async () => {
  const worker = await readyWorker();
  await assert.rejects(clusterphone.sendTo(worker, "never").within(50).ackd(), { code: "ERR_CLUSTERPHONE_TIMEOUT" });
  await assert.rejects(clusterphone.sendTo(worker, "fail").ackd(), { code: "ERR_CLUSTERPHONE_HANDLER", origMessage: "handler failure" });
  await assert.rejects(clusterphone.sendTo(worker, "noSuchCommand").ackd(), { code: "ERR_CLUSTERPHONE_UNHANDLED" });
  await assert.rejects(clusterphone.ns("beyond-unknown-on-worker").sendTo(worker, "x").ackd(), { code: "ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE" });
  assert.throws(() => clusterphone.sendTo(worker, ""), { name: "TypeError", code: "ERR_CLUSTERPHONE_INVALID_ARG" });
  assert.throws(() => clusterphone.ns("clusterphone"), { code: "ERR_CLUSTERPHONE_PRIVATE_NAMESPACE" });
  assert.throws(() => clusterphone.sendTo(worker, "x").within("soon"), { code: "ERR_CLUSTERPHONE_INVALID_ARG" });

  const died = clusterphone.sendTo(worker, "exitNow").within(60000).ackd();
  const error = await withTimeout(died.catch((e) => e), 5000, "the worker-died rejection");
  assert.equal(error.code, "ERR_CLUSTERPHONE_WORKER_DIED");
  assert.ok("exitCode" in error && "signal" in error, "worker-died errors carry exitCode and signal");
  await once(worker, "exit");
  assert.throws(() => clusterphone.sendTo(worker, "echo"), { code: "ERR_CLUSTERPHONE_WORKER_DEAD", message: /worker is dead/i });
});

test("signal(): an aborted signal rejects the acknowledgement and a queued message is never sent", { skip, timeout: 20000 }, async () => {
  const worker = fork("beyond-worker.js");
  const controller = new AbortController();
  const queued = clusterphone.sendTo(worker, "record", "aborted while queued").signal(controller.signal).ackd();
  const kept = clusterphone.sendTo(worker, "record", "kept").ackd();
  const preAborted = clusterphone.sendTo(worker, "record", "aborted before").signal(AbortSignal.abort("no")).ackd();
  controller.abort("changed my mind");
  await assert.rejects(queued, (err) => err.name === "AbortError" && err.code === "ERR_CLUSTERPHONE_ABORTED" && err.cause === "changed my mind");
  await assert.rejects(preAborted, { name: "AbortError" });
  assert.equal(await withTimeout(kept, 10000, "the kept message"), "kept");
  assert.deepEqual(await clusterphone.sendTo(worker, "seen").ackd(), ["kept"], "aborted messages never reached the worker");

  const later = new AbortController();
  const sent = clusterphone.sendTo(worker, "never").within(60000).signal(later.signal).ackd();
  setTimeout(() => later.abort(), 20);
  await withTimeout(assert.rejects(sent, { name: "AbortError" }), 5000, "the abort, not the 60 s timeout");

  assert.throws(() => clusterphone.sendTo(worker, "echo").signal({}), { name: "TypeError", message: /AbortSignal/ });
  // Without removeEventListener the listener could never go once the message settles.
  const noRemove = { aborted: false, addEventListener() {} };
  assert.throws(() => clusterphone.sendTo(worker, "echo").signal(noRemove), { name: "TypeError", message: /AbortSignal/ });
  // A signal whose removeEventListener throws: the message still settles and nothing stays held.
  const throwingRemove = { ...noRemove, removeEventListener() { throw new Error("not today"); } };
  assert.equal(await withTimeout(clusterphone.sendTo(worker, "echo", "settles").signal(throwingRemove).ackd(), 5000, "the echo"), "settles");
  const msg = clusterphone.sendTo(worker, "echo", 1);
  const acked = msg.ackd();
  assert.throws(() => msg.signal(new AbortController().signal), /before.*acknowledged/);
  assert.equal(await acked, 1);
  const stats = clusterphone._stats();
  assert.equal(stats.slots, 0);
  assert.equal(stats.held, 0);
});

test("broadcast(): one entry per live worker, settled like Promise.allSettled", { skip, timeout: 30000 }, async () => {
  await cleanup();
  const workers = await Promise.all([readyWorker(), readyWorker(), readyWorker()]);
  const entries = await withTimeout(clusterphone.broadcast("id").within(5000).ackd(), 10000, "the broadcast");
  assert.equal(entries.length, 3);
  for (const entry of entries) {
    assert.ok(workers.includes(entry.worker), "the entry names the very Worker object");
    assert.deepEqual(entry, { worker: entry.worker, status: "fulfilled", value: entry.worker.id });
  }

  const dying = workers[1];
  const mixed = clusterphone.ns("_").broadcast("never").within(60000).ackd();
  dying.process.kill("SIGKILL");
  const early = await withTimeout(
    Promise.race([mixed, new Promise((resolve) => dying.once("exit", () => setTimeout(() => resolve("pending"), 200)))]),
    5000,
    "the dead worker's entry",
  );
  assert.equal(early, "pending", "the others are still pending");
  for (const worker of workers) if (worker !== dying) worker.process.kill("SIGKILL");
  const settled = await withTimeout(mixed, 5000, "every entry after the deaths");
  assert.ok(settled.every((entry) => entry.status === "rejected" && entry.reason.code === "ERR_CLUSTERPHONE_WORKER_DIED"));

  await Promise.all(workers.map((worker) => (worker.isDead() ? null : once(worker, "exit"))));
  assert.deepEqual(await clusterphone.broadcast("id").ackd(), [], "no live worker, no entry");
  assert.throws(() => clusterphone.broadcast(""), { name: "TypeError" });
});

test("whenWritable(): a producer that awaits it streams with the write queue bounded", { skip, timeout: 60000 }, async () => {
  const worker = await readyWorker();
  const payload = { pad: "x".repeat(1000) };
  const total = 200000;
  let waited = 0;
  const rssBefore = process.memoryUsage().rss;
  for (let i = 1; i <= total; i++) {
    clusterphone.sendTo(worker, "sink", payload);
    if (i % 64 === 0) {
      let resolved = false;
      const writable = clusterphone.whenWritable(worker).then(() => {
        resolved = true;
      });
      await Promise.resolve();
      if (!resolved) waited++;
      await writable;
    }
  }
  const grown = process.memoryUsage().rss - rssBefore;
  assert.equal(await withTimeout(clusterphone.sendTo(worker, "sunk").ackd(), 30000, "the count"), total);
  assert.ok(waited > 0, "the producer was held back at least once");
  // Unthrottled, these 200 MB of writes pile up in the primary; throttled, far less does.
  assert.ok(grown < 150 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(0)} MB`);
  await assert.rejects(clusterphone.whenWritable(), { name: "TypeError" });
  // Only a Worker or a ChildProcess has a channel; anything else leaves no peer behind.
  const peersBefore = clusterphone._stats().peers;
  for (const notAPeer of [{}, { id: 7 }, null, "worker"]) {
    await assert.rejects(clusterphone.whenWritable(notAPeer), { name: "TypeError", code: "ERR_CLUSTERPHONE_INVALID_ARG" });
  }
  assert.equal(clusterphone._stats().peers, peersBefore);
  const self = await withTimeout(clusterphone.sendTo(worker, "whenWritableSelf").ackd(), 10000, "whenWritable(cluster.worker) in the worker");
  assert.deepEqual(self, { before: 1, after: 1 }, "in a worker, its own cluster.worker is the channel to the primary");
});

test("NODE_DEBUG=clusterphone logs sends, receives, acks, timeouts and deaths; off, nothing", { skip, timeout: 20000 }, async () => {
  const script = path.join(__dirname, "fixtures", "beyond-debug.js");
  const run = (env) =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [script], { env: { ...process.env, ...env }, timeout: 15000 }, (err, stdout, stderr) =>
        err ? reject(err) : resolve(stderr),
      );
    });
  const on = await run({ NODE_DEBUG: "clusterphone" });
  for (const word of ["queue worker", "flush worker", "send worker", "receive worker", "ack master", "timeout worker", "gone worker"]) {
    assert.match(on, new RegExp(`CLUSTERPHONE \\d+: ${word}`), word);
  }
  const off = await run({ NODE_DEBUG: "" });
  assert.doesNotMatch(off, /CLUSTERPHONE/);
});

test("pending-acknowledgement timers do not keep a process alive", { skip, timeout: 20000 }, async () => {
  const worker = fork("beyond-worker.js", { env: { BEYOND_UNREF_CHANNEL: "1" } });
  const [code] = await withTimeout(once(worker, "exit"), 10000, "the worker to exit on its own (not after its 60 s timeout)");
  assert.equal(code, 0);
});

test("the worker object in broadcast entries is the one cluster.fork() returned", { skip, timeout: 20000 }, async () => {
  const worker = await readyWorker();
  const [entry] = (await clusterphone.broadcast("echo", 7).ackd()).filter((e) => e.worker === worker);
  assert.equal(entry.value, 7);
  assert.equal(cluster.workers[worker.id], entry.worker);
});

test("sendToWorker(): relayed by the primary, the handler sees the sender's id, answers come back", { skip, timeout: 30000 }, async () => {
  const [a, b] = await Promise.all([readyWorker(), readyWorker()]);
  const relay = (from, request) => withTimeout(clusterphone.sendTo(from, "relayTo", request).ackd(), 10000, "the relay");
  assert.deepEqual(await relay(a, { to: b.id, cmd: "whoSent", payload: "hi" }), { reply: { from: a.id, payload: "hi" } });
  assert.deepEqual(await relay(b, { to: a.id, cmd: "whoSent", payload: 2 }), { reply: { from: b.id, payload: 2 } });

  const failed = await relay(a, { to: b.id, cmd: "fail" });
  assert.equal(failed.error.code, "ERR_CLUSTERPHONE_HANDLER");
  assert.equal(failed.error.origMessage, "handler failure");

  // The library's own errors travel in 1.x's error-acknowledgement shape too (origMessage set).
  const unhandled = await relay(a, { to: b.id, cmd: "noSuchCommand" });
  assert.equal(unhandled.error.code, "ERR_CLUSTERPHONE_UNHANDLED");
  assert.match(unhandled.error.message, /unhandled message type/i);
  assert.equal(unhandled.error.origMessage, unhandled.error.message);

  const timedOut = await withTimeout(clusterphone.sendTo(a, "relayTimeout", { to: b.id }).ackd(), 10000, "the relay's timeout");
  assert.equal(timedOut.code, "ERR_CLUSTERPHONE_TIMEOUT");
  // The primary times its forward out with the same within: whichever timer fires first names
  // the command, the target and the namespace.
  assert.match(timedOut.message, new RegExp(`message never\\b.* worker ${b.id} in namespace _\\b`));

  const unknown = await relay(a, { to: 9999, cmd: "whoSent" });
  assert.equal(unknown.error.code, "ERR_CLUSTERPHONE_UNKNOWN_WORKER");
  assert.match(unknown.error.message, /9999/);

  b.process.kill("SIGKILL");
  await once(b, "exit");
  const dead = await relay(a, { to: b.id, cmd: "whoSent" });
  assert.equal(dead.error.code, "ERR_CLUSTERPHONE_UNKNOWN_WORKER");
  assert.match(dead.error.message, new RegExp(String(b.id)));
});

test("a relay goes out while a fake-timer library holds the global setImmediate (a send is not a timer)", { skip, timeout: 20000 }, async () => {
  const [a, b] = await Promise.all([readyWorker(), readyWorker()]);
  const result = await withTimeout(clusterphone.sendTo(a, "relayUnderFakeImmediate", { to: b.id, cmd: "whoSent", payload: "faked" }).ackd(), 10000, "the relay");
  assert.deepEqual(result.reply, { from: a.id, payload: "faked" });
  assert.ok(result.heldImmediates >= 1, "the fake held the turn's own setImmediate");
  assert.match(result.lateWithin, /only valid immediately/, "once written, the message can no longer be configured");
});

test("a relay goes out from a worker that loaded the library under a fake setImmediate, since put back", { skip, timeout: 20000 }, async () => {
  const [a, b] = await Promise.all([readyWorker({ BEYOND_LOAD_UNDER_FAKE_IMMEDIATE: "1" }), readyWorker()]);
  const result = await withTimeout(clusterphone.sendTo(a, "relayTo", { to: b.id, cmd: "whoSent", payload: "after the fake" }).ackd(), 10000, "the relay");
  assert.deepEqual(result, { reply: { from: a.id, payload: "after the fake" } });
});

test("a relay configured after an await in the same turn still gets its answer", { skip, timeout: 20000 }, async () => {
  const [a, b] = await Promise.all([readyWorker(), readyWorker()]);
  const reply = await withTimeout(clusterphone.sendTo(a, "relayLate", { to: b.id, cmd: "whoSent", payload: "late" }).ackd(), 10000, "the relay");
  assert.deepEqual(reply, { from: a.id, payload: "late" });
});

test("one signal given to many messages: one listener on it, no leak warning, every message cancelled", { skip, timeout: 20000 }, async (t) => {
  const { getEventListeners } = require("node:events");
  const worker = await readyWorker();
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning.name);
  process.on("warning", onWarning);
  t.after(() => process.off("warning", onWarning));
  const controller = new AbortController();
  const acks = Array.from({ length: 25 }, () => clusterphone.sendTo(worker, "never").signal(controller.signal).ackd());
  const kept = clusterphone.sendTo(worker, "echo", "kept").signal(controller.signal).ackd();
  assert.equal(await withTimeout(kept, 10000, "the message answered before the abort"), "kept");
  assert.equal(getEventListeners(controller.signal, "abort").length, 1, "one listener for every message");
  controller.abort("all of them");
  for (const ack of acks) await assert.rejects(ack, { name: "AbortError", cause: "all of them" });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(warnings, [], "no MaxListenersExceededWarning");
  assert.equal(getEventListeners(controller.signal, "abort").length, 0);
});

test("an abort, then a message given the aborted signal in the same tick: they reject in that order", { skip, timeout: 20000 }, async () => {
  const worker = await readyWorker();
  const controller = new AbortController();
  const order = [];
  const waits = [0, 1, 2].map((i) => clusterphone.sendTo(worker, "never").signal(controller.signal).ackd().catch(() => order.push(i)));
  controller.abort();
  waits.push(clusterphone.sendTo(worker, "never").signal(controller.signal).ackd().catch(() => order.push("after")));
  await withTimeout(Promise.all(waits), 5000, "four rejections");
  assert.deepEqual(order, [0, 1, 2, "after"]);
});

test("signal() twice: the first signal's listener is gone and aborting it cancels nothing", { skip, timeout: 20000 }, async () => {
  const { getEventListeners } = require("node:events");
  const worker = fork("beyond-worker.js");
  const first = new AbortController();
  const second = new AbortController();
  const message = clusterphone.sendTo(worker, "record", "replaced signal").signal(first.signal).signal(second.signal);
  assert.equal(getEventListeners(first.signal, "abort").length, 0);
  const acked = message.ackd();
  first.abort();
  const other = clusterphone.sendTo(worker, "record", "other").ackd();
  assert.deepEqual(await withTimeout(Promise.all([acked, other]), 10000, "both replies"), ["replaced signal", "other"]);
  assert.equal(getEventListeners(second.signal, "abort").length, 0, "settling removed the listener");
});

test("whenWritable() on a worker that is already dead rejects and leaves nothing behind", { skip, timeout: 20000 }, async () => {
  const worker = fork("beyond-worker.js");
  worker.process.kill("SIGKILL");
  await once(worker, "exit");
  const peersBefore = clusterphone._stats().peers;
  await assert.rejects(clusterphone.whenWritable(worker), { code: "ERR_CLUSTERPHONE_WORKER_DIED" });
  assert.equal(clusterphone._stats().peers, peersBefore);
});
