"use strict";

// SPEC §4 (worker death) and §2/§5 (dead or disconnected workers): every
// awaited acknowledgement to a worker that dies or disconnects rejects at once,
// and such a worker cannot be sent to.
//
// "At once" is checked by awaiting acknowledgements that have a 60 s timeout
// with a bound of a few seconds: a rejection inside the bound cannot have come
// from the timer.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || require("node:path").join(__dirname, ".."));
const { ORACLE, fork, kill, cleanup, online, withTimeout, once, track } = require("./helpers");

after(cleanup);

const DIED = /worker died/i;

async function allRejectWithin(states, ms, what) {
  await withTimeout(Promise.all(states.map((s) => s.promise)), ms, what);
  for (const [i, state] of states.entries()) {
    assert.equal(state.status, "rejected", `acknowledgement #${i} must reject`);
    assert.match(state.reason.message, DIED, `acknowledgement #${i}`);
  }
}

test("a worker that exits before acknowledging rejects every awaited acknowledgement at once: worker died", { timeout: 20000 }, async () => {
  const worker = fork("worker.js", { env: { CP_NAMESPACES: "death-other" } });
  await online(worker);
  const other = clusterphone.ns("death-other");
  const states = [
    track(clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged()),
    track(clusterphone.sendTo(worker, "ackNone").within(60000).ackd()),
    track(other.sendTo(worker, "ackNone").within(60000).acknowledged()),
  ];
  let cbErr;
  const cbCalled = new Promise((resolve) => {
    clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged((err) => {
      cbErr = err;
      resolve();
    }).catch(() => {});
  });
  // as in the 1.x README: the handler exits the process
  clusterphone.sendTo(worker, "exit", 0);
  await allRejectWithin(states, 5000, "the acknowledgements of a worker that exited");
  await withTimeout(cbCalled, 5000, "the callback of a worker that exited");
  assert.ok(cbErr instanceof Error);
  assert.match(cbErr.message, DIED);
});

test("a worker killed by a signal rejects every awaited acknowledgement at once", { timeout: 20000 }, async () => {
  const worker = fork("worker.js");
  await online(worker);
  const states = [
    track(clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged()),
    track(clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged()),
  ];
  // make sure both went out before the kill
  assert.equal(await withTimeout(clusterphone.sendTo(worker, "echo", 1).acknowledged(), 5000, "echo"), 1);
  worker.process.kill("SIGKILL");
  await allRejectWithin(states, 5000, "the acknowledgements of a killed worker");
});

test("messages still queued for a worker that dies before it is ready reject at once: worker died", { timeout: 20000 }, async () => {
  const worker = fork("worker.js", { env: { CP_LOAD: "signal" } });
  const states = [
    track(clusterphone.sendTo(worker, "record", 1).within(60000).acknowledged()),
    track(clusterphone.sendTo(worker, "record", 2).within(60000).acknowledged()),
    track(clusterphone.ns("death-queued").sendTo(worker, "record", 3).within(60000).acknowledged()),
  ];
  await withTimeout(once(worker, "online"), 10000, "the worker process to start");
  worker.process.kill("SIGKILL");
  await allRejectWithin(states, 5000, "the queued acknowledgements of a dead worker");
});

test("a worker that disconnects before acknowledging rejects the awaited acknowledgements at once", { timeout: 20000 }, async () => {
  const worker = fork("worker.js");
  await online(worker);
  const states = [
    track(clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged()),
    track(clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged()),
  ];
  assert.equal(await withTimeout(clusterphone.sendTo(worker, "echo", 1).acknowledged(), 5000, "echo"), 1);
  worker.disconnect();
  await allRejectWithin(states, 5000, "the acknowledgements of a disconnected worker");
});

test("sendTo a dead worker throws: worker is dead", { timeout: 20000 }, async () => {
  const worker = fork("worker.js");
  await online(worker);
  const exited = once(worker, "exit");
  worker.process.kill("SIGKILL");
  await withTimeout(exited, 5000, "the worker to exit");
  assert.equal(worker.state, "dead");
  assert.throws(() => clusterphone.sendTo(worker, "echo", 1), { message: /worker is dead/i });
  assert.throws(() => clusterphone.ns("death-other").sendTo(worker, "echo", 1), { message: /worker is dead/i });
});

test(
  "a worker whose channel is gone but which is still running (state disconnected) counts as dead",
  {
    timeout: 20000,
    skip: ORACLE && "1.0.1 differs: it calls worker.send on the closed channel and the primary crashes with an unhandled ERR_IPC_CHANNEL_CLOSED",
  },
  async (t) => {
    const worker = fork("worker.js", { env: { CP_KEEPALIVE: "1" } });
    t.after(() => kill(worker));
    await online(worker);
    const disconnected = once(worker, "disconnect");
    worker.disconnect();
    await withTimeout(disconnected, 5000, "the worker to disconnect");
    assert.equal(worker.isConnected(), false);
    assert.notEqual(worker.state, "dead", "precondition: the process is still running");
    assert.throws(() => clusterphone.sendTo(worker, "echo", 1), { message: /worker is dead/i });
    // the primary is still healthy: a fresh worker works
    const fresh = fork("worker.js");
    await online(fresh);
    assert.equal(await withTimeout(clusterphone.sendTo(fresh, "echo", "ok").acknowledged(), 5000, "echo"), "ok");
  },
);

test(".error(fn) catches the worker-died rejection", { timeout: 20000 }, async (t) => {
    const worker = fork("worker.js");
    await online(worker);
    const fn = t.mock.fn((err) => err);
    const handled = clusterphone.sendTo(worker, "ackNone").within(60000).acknowledged().error(fn);
    assert.equal(await withTimeout(clusterphone.sendTo(worker, "echo", 1).acknowledged(), 5000, "echo"), 1);
    worker.process.kill("SIGKILL");
    const err = await withTimeout(handled, 5000, "the .error() handler");
    assert.equal(fn.mock.callCount(), 1);
    assert.match(err.message, DIED);
    assert.equal(err.isOperational, true);
    assert.equal(Object.prototype.propertyIsEnumerable.call(err, "isOperational"), false);
  },
);
