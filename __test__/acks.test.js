"use strict";

// SPEC §4: acknowledgements — promise and callback forms, .error(), within(),
// timeouts and their messages, ackTimeout. (Fake timers: fake-timers.test.js;
// worker death: worker-death.test.js.)

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || require("node:path").join(__dirname, ".."));
const { ORACLE, fork, cleanup, online, withTimeout, sleep, flush, track } = require("./helpers");

after(cleanup);

let worker;
before(async () => {
  worker = fork("worker.js", { env: { CP_NAMESPACES: "acks-tmo" } });
  await online(worker);
});

function bounded(promise, what, ms = 5000) {
  return withTimeout(promise, ms, what);
}

function relay(payload) {
  return bounded(clusterphone.sendTo(worker, "relay", payload).acknowledged(), `relay of ${payload.cmd}`);
}

clusterphone.handlers.echo = (w, payload, handle, ack) => ack(payload);
clusterphone.handlers.primarySilent = () => {};

// ------------------------------------------------------ promise / callback

test("ack(reply) is written at once: it reaches the primary ahead of what the handler sends after it (1.0.1 wrote it a tick later)", { skip: ORACLE, timeout: 20000 }, async () => {
  const order = [];
  const listener = (message) => {
    const envelope = message && message.__clusterphone;
    if (envelope && envelope.ack !== undefined) order.push(`ack ${envelope.reply}`);
    else if (envelope && envelope.cmd === "afterAck") order.push("afterAck");
  };
  clusterphone.handlers.afterAck = (w, payload, handle, ack) => ack();
  worker.on("message", listener);
  try {
    assert.equal(await bounded(clusterphone.sendTo(worker, "ackThenSend").acknowledged(), "ackThenSend"), "acked");
    await bounded(clusterphone.sendTo(worker, "echo", 1).acknowledged(), "a round trip after it");
    assert.deepEqual(order.filter((entry) => entry === "ack acked" || entry === "afterAck"), ["ack acked", "afterAck"]);
  } finally {
    worker.removeListener("message", listener);
  }
});

test("acknowledged() returns an awaitable promise of the reply", { timeout: 20000 }, async () => {
  const promise = clusterphone.sendTo(worker, "echo", { a: 1 }).acknowledged();
  assert.equal(typeof promise.then, "function");
  assert.deepEqual(await bounded(promise, "echo"), { a: 1 });
});

test(
  "acknowledged() returns a native Promise (instanceof Promise)",
  { timeout: 20000, skip: ORACLE && "1.0.1 differs: it returns a bluebird 2 promise" },
  async () => {
    const promise = clusterphone.sendTo(worker, "echo", 1).acknowledged();
    assert.ok(promise instanceof Promise);
    assert.equal(await bounded(promise, "echo"), 1);
  },
);

test("ackd() is an alias of acknowledged()", { timeout: 20000 }, async () => {
  assert.equal(await bounded(clusterphone.sendTo(worker, "echo", "alias").ackd(), "ackd"), "alias");
  const result = await relay({ cmd: "echo", payload: "from worker", useAckd: true });
  assert.deepEqual(result, { ok: true, reply: "from worker" });
});

test("acknowledged(cb) calls cb(null, reply) once and the promise resolves too", { timeout: 20000 }, async (t) => {
  let done;
  const called = new Promise((resolve) => (done = resolve));
  const cb = t.mock.fn(() => done());
  const promise = clusterphone.sendTo(worker, "echo", "via callback").acknowledged(cb);
  assert.equal(await bounded(promise, "echo with callback"), "via callback");
  await bounded(called, "the callback");
  await flush();
  assert.equal(cb.mock.callCount(), 1);
  const [err, reply] = cb.mock.calls[0].arguments;
  assert.ok(err === null || err === undefined, "err must be empty on success");
  assert.equal(reply, "via callback");
});

test("acknowledged(cb) with no reply calls cb(null), one argument, as 1.x's bluebird nodeify did", { timeout: 20000 }, async (t) => {
  let done;
  const called = new Promise((resolve) => (done = resolve));
  const cb = t.mock.fn(() => done());
  const promise = clusterphone.sendTo(worker, "ackNoArgs").acknowledged(cb);
  assert.equal(await bounded(promise, "ackNoArgs with callback"), undefined);
  await bounded(called, "the callback");
  await flush();
  assert.equal(cb.mock.callCount(), 1);
  assert.deepEqual(cb.mock.calls[0].arguments, [null]);
});

test("ackd(cb) calls cb(err) once when the acknowledgement fails", { timeout: 20000 }, async (t) => {
  let done;
  const called = new Promise((resolve) => (done = resolve));
  const cb = t.mock.fn(() => done());
  const promise = clusterphone.sendTo(worker, "throwError", "callback failure").ackd(cb);
  await assert.rejects(bounded(promise, "throwError with callback"), /message handler threw an error/i);
  await bounded(called, "the callback");
  await flush();
  assert.equal(cb.mock.callCount(), 1);
  const [err] = cb.mock.calls[0].arguments;
  assert.ok(err instanceof Error);
  assert.match(err.message, /message handler threw an error/i);
  assert.equal(err.origMessage, "callback failure");
});

// ------------------------------------------------------------------ .error

test("no bluebird method but .error is kept: the promise and what .then/.error derive from it are native Promises", { skip: ORACLE && "1.0.1 returns a bluebird promise", timeout: 20000 }, async () => {
  const promise = clusterphone.sendTo(worker, "echo", 1).acknowledged();
  const derived = [promise, promise.then((reply) => reply), promise.error(() => {})];
  for (const p of derived) {
    assert.ok(p instanceof Promise);
    for (const method of ["spread", "tap", "timeout", "nodeify", "asCallback", "delay", "bind", "done", "isFulfilled", "cancel", "reflect", "return"]) {
      assert.equal(p[method], undefined, `no .${method}()`);
    }
  }
  assert.deepEqual(await bounded(Promise.all(derived), "echo"), [1, 1, 1]);
});

test(".error(fn) handles error acknowledgements, which carry a non-enumerable isOperational", { timeout: 20000 }, async (t) => {
  const fn = t.mock.fn((err) => `handled: ${err.origMessage}`);
  const promise = clusterphone.sendTo(worker, "throwError", "operational").acknowledged();
  assert.equal(typeof promise.error, "function");
  assert.equal(await bounded(promise.error(fn), ".error() of an error ack"), "handled: operational");
  assert.equal(fn.mock.callCount(), 1);
  const err = fn.mock.calls[0].arguments[0];
  assert.equal(err.isOperational, true);
  assert.equal(Object.prototype.propertyIsEnumerable.call(err, "isOperational"), false);
  assert.ok(!Object.keys(err).includes("isOperational"));
});

test(
  ".error(fn) handles timeouts too (library rejections are operational)",
  { timeout: 20000, skip: ORACLE && "1.0.1 differs: it rethrows timeouts as plain errors that bluebird's .error() does not catch" },
  async (t) => {
    const fn = t.mock.fn((err) => err);
    const err = await bounded(
      clusterphone.sendTo(worker, "ackNone").within(100).acknowledged().error(fn),
      ".error() of a timeout",
    );
    assert.equal(fn.mock.callCount(), 1);
    assert.match(err.message, /timed out/i);
    assert.equal(err.isOperational, true);
    assert.equal(Object.prototype.propertyIsEnumerable.call(err, "isOperational"), false);
    // the worker's side marks its rejections the same way
    const result = await relay({ cmd: "primarySilent", within: 100 });
    assert.equal(result.ok, false);
    assert.match(result.error.message, /timed out/i);
    assert.equal(result.error.isOperational, true);
    assert.equal(result.error.isOperationalEnumerable, false);
  },
);

test(".error(fn) lets a fulfilled acknowledgement through untouched", { timeout: 20000 }, async (t) => {
  const fn = t.mock.fn();
  const value = await bounded(clusterphone.sendTo(worker, "echo", "fine").acknowledged().error(fn), ".error() of a success");
  assert.equal(value, "fine");
  assert.equal(fn.mock.callCount(), 0);
});

test(".error(fn) passes other exceptions through (a .then() chain that throws)", { timeout: 20000 }, async (t) => {
  const fn = t.mock.fn();
  const chained = clusterphone
    .sendTo(worker, "echo", "fine")
    .acknowledged()
    .then(() => {
      throw new TypeError("a bug in user code");
    });
  await assert.rejects(bounded(chained.error(fn), ".error() of a user exception"), {
    name: "TypeError",
    message: "a bug in user code",
  });
  assert.equal(fn.mock.callCount(), 0);
});

// ------------------------------------------------------------------ within

test("within(ms) returns the message itself, so calls chain", { timeout: 20000 }, async () => {
  const msg = clusterphone.sendTo(worker, "echo", "chained");
  assert.equal(msg.within(1000), msg);
  assert.equal(await bounded(msg.acknowledged(), "echo"), "chained");
});

test("within(ms) sets the timeout of that message", { timeout: 20000 }, async () => {
  clusterphone.ackTimeout = 60000;
  try {
    await assert.rejects(
      bounded(clusterphone.sendTo(worker, "ackNone").within(100).acknowledged(), "a within(100) timeout"),
      /timed out/i,
    );
  } finally {
    clusterphone.ackTimeout = 10000;
  }
});

test("within(\"150\") parses a string as an integer", { timeout: 20000 }, async () => {
  clusterphone.ackTimeout = 60000;
  try {
    await assert.rejects(
      bounded(clusterphone.sendTo(worker, "ackNone").within("150").acknowledged(), "a within(\"150\") timeout"),
      /timed out/i,
    );
  } finally {
    clusterphone.ackTimeout = 10000;
  }
});

test("within() with something that is not a number throws: must be a number", { timeout: 20000 }, async () => {
  for (const bad of ["abc", 0, "0", NaN, undefined, null, {}, "", []]) {
    const msg = clusterphone.sendTo(worker, "echo", "bad within");
    assert.throws(() => msg.within(bad), /must be a number/, `within(${String(bad)})`);
    // the message itself is unaffected
    assert.equal(await bounded(msg.acknowledged(), "echo after a rejected within()"), "bad within");
  }
});

test(
  "within() with a negative number throws: must be a number",
  { timeout: 20000, skip: ORACLE && "1.0.1 differs: it accepts any non-zero number, negatives included" },
  () => {
    for (const bad of [-1, -5000, "-20", -Infinity]) {
      const msg = clusterphone.sendTo(worker, "echo", "negative");
      assert.throws(() => msg.within(bad), /must be a number/, `within(${String(bad)})`);
    }
  },
);

test("within() after acknowledged() throws: within must be called before", { timeout: 20000 }, async () => {
  const msg = clusterphone.sendTo(worker, "echo", "order");
  const promise = msg.acknowledged();
  assert.throws(() => msg.within(1000), /within.* must be called/);
  assert.equal(await bounded(promise, "echo"), "order");
});

test("within() and acknowledged() in a later turn of the event loop throw: only valid immediately", { timeout: 20000 }, async () => {
  const msg = clusterphone.sendTo(worker, "echo", "later");
  await sleep(20);
  assert.throws(() => msg.within(1000), /only valid immediately/);
  assert.throws(() => msg.acknowledged(), /only valid immediately/);
  assert.throws(() => msg.ackd(), /only valid immediately/);
});

// ---------------------------------------------------------------- timeouts

test("a timeout rejects with an Error naming the command, seq, worker and namespace", { timeout: 20000 }, async () => {
  const space = clusterphone.ns("acks-tmo");
  // seqs count per (worker, namespace) from 1: six acknowledged messages, then seq 7
  for (let i = 1; i <= 6; i++) {
    assert.equal(await bounded(space.sendTo(worker, "echo", i).acknowledged(), `echo ${i}`), i);
  }
  assert.notEqual(worker.id, 7, "precondition: the worker id must differ from the seq");
  const err = await bounded(
    space.sendTo(worker, "ackNone").within(100).acknowledged().then(
      () => assert.fail("must time out"),
      (e) => e,
    ),
    "the timeout",
  );
  assert.ok(err instanceof Error);
  assert.match(err.message, /timed out/i);
  assert.match(err.message, /\backNone\b/, "names the command");
  assert.match(err.message, /\b7\b/, "names the seq");
  assert.match(err.message, /worker/i, "names the peer");
  assert.match(err.message, new RegExp(`\\b(${worker.id}|${worker.process.pid})\\b`), "names which worker");
  assert.match(err.message, /\backs-tmo\b/, "names the namespace");
});

test("a worker's timeout rejects with an Error naming the command, seq, primary and namespace", { timeout: 20000 }, async () => {
  const space = clusterphone.ns("acks-tmo-w");
  space.handlers.echo = (w, payload, handle, ack) => ack(payload);
  space.handlers.primarySilent = () => {};
  for (let i = 1; i <= 2; i++) {
    assert.deepEqual(await relay({ ns: "acks-tmo-w", cmd: "echo", payload: i }), { ok: true, reply: i });
  }
  const result = await relay({ ns: "acks-tmo-w", cmd: "primarySilent", within: 100 });
  assert.equal(result.ok, false);
  const message = result.error.message;
  assert.match(message, /timed out/i);
  assert.match(message, /\bprimarySilent\b/, "names the command");
  assert.match(message, /\b3\b/, "names the seq");
  assert.match(message, /master|primary/i, "names the peer");
  assert.match(message, /\backs-tmo-w\b/, "names the namespace");
});

test("ackTimeout is the default timeout, read when a message is sent", { timeout: 20000 }, async () => {
  clusterphone.ackTimeout = 150;
  let msg;
  try {
    msg = clusterphone.sendTo(worker, "ackNone");
  } finally {
    clusterphone.ackTimeout = 60000;
  }
  try {
    // sent while ackTimeout was 150: times out long before the 60000 now in force
    await assert.rejects(bounded(msg.acknowledged(), "an ackTimeout=150 timeout"), /timed out/i);
  } finally {
    clusterphone.ackTimeout = 10000;
  }
});

test("ackTimeout reads back as it was written; a string is parsed like within() when a message is sent", { timeout: 20000 }, async () => {
  clusterphone.ackTimeout = "150";
  let msg;
  try {
    assert.equal(clusterphone.ackTimeout, "150");
    msg = clusterphone.sendTo(worker, "ackNone");
  } finally {
    clusterphone.ackTimeout = 10000;
  }
  await assert.rejects(bounded(msg.acknowledged(), "an ackTimeout=\"150\" timeout"), /timed out/i);
});

test("ackTimeout is honoured in a worker too", { timeout: 20000 }, async () => {
  const result = await relay({ cmd: "primarySilent", ackTimeout: 150 });
  assert.equal(result.ok, false);
  assert.match(result.error.message, /timed out/i);
});

test("an acknowledgement that arrives in time wins over the timeout and only settles once", { timeout: 20000 }, async (t) => {
  const cb = t.mock.fn();
  const state = track(clusterphone.sendTo(worker, "ackLater", "in time").within(3000).acknowledged(cb));
  await bounded(state.promise, "ackLater");
  assert.equal(state.status, "fulfilled");
  assert.equal(state.value, "in time");
  await flush();
  assert.equal(cb.mock.callCount(), 1);
});

test(
  "an acknowledgement promise nobody handles never ends the process when it rejects (timeout, error acknowledgement, worker died, sent or queued)",
  { timeout: 20000, skip: ORACLE && "1.0.1's bluebird reports these through its own 'Unhandled rejection' printing" },
  async () => {
    // Without the library marking its own promises handled, each of these would be an unhandled
    // rejection: the end of a primary with no listener (Node's default since 15), and a failed
    // test under node:test, which listens itself.
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(String(reason && reason.message));
    process.on("unhandledRejection", onUnhandled);
    try {
      const doomed = fork("worker.js");
      const neverReady = fork("worker.js", { env: { CP_LOAD: "signal" } });
      await online(doomed);
      clusterphone.sendTo(worker, "ackNone").within(50).acknowledged(); // times out
      clusterphone.sendTo(worker, "noSuchCommand").ackd(); // error acknowledgement
      clusterphone.sendTo(doomed, "ackNone").acknowledged(); // sent, then the worker dies
      clusterphone.sendTo(neverReady, "ackNone").acknowledged(); // queued, then the worker dies
      const died = [doomed, neverReady].map((w) => new Promise((resolve) => w.once("exit", resolve)));
      doomed.process.kill("SIGKILL");
      neverReady.process.kill("SIGKILL");
      await bounded(Promise.all(died), "the two workers to exit");
      await sleep(200);
      await flush();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  },
);
