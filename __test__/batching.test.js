"use strict";

// Batching between 2.x peers (lib/outbox.js, lib/batching.js): many messages to one peer in one
// tick travel as a few Node-internal batches, and that must change nothing anyone can see:
// listeners on both ends get every envelope exactly as a single write carries it (keys JSON drops
// stay dropped), in order, also around the user's own `worker.send`; payloads are serialized when
// sent; a worker that exits, or kills itself, right after a burst still delivers it; 1.x peers
// never get a batch; malformed batches break nothing. Batches under `advanced` serialization:
// __test__/batching-advanced.test.js.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");
const path = require("node:path");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || path.join(__dirname, ".."));
const { ORACLE, fork, cleanup, online, withTimeout, once, collectMessages, sleep, recordAcks, countBatches } = require("./helpers");

after(cleanup);

const skip = ORACLE && "batching is 2.x's own";
/** Messages per peer and tick written at once before gathering starts (lib/outbox.js). */
const { WRITE_THROUGH, PAUSE_AFTER_TOO_LARGE } = ORACLE ? {} : require("../lib/outbox");
const V1 = path.dirname(require.resolve("clusterphone-v1/package.json"));

/** Ack envelopes each worker sent, as the primary's own 'message' listener sees them. */
const acksFrom = recordAcks();

const got = [];
clusterphone.handlers.got = function (worker, payload, handle, ack) {
  got.push(payload);
  ack(payload);
};

async function batchWorker(options = {}) {
  const worker = fork("batch-worker.js", options);
  const counter = countBatches(worker);
  await online(worker);
  // One round trip: by then both ends have heard the other's batching offer.
  await seen(worker);
  return { worker, counter };
}

function seen(worker) {
  return withTimeout(clusterphone.sendTo(worker, "seen").ackd(), 5000, "the worker's record");
}

const PAYLOADS = [undefined, null, 0, "text", { a: 1, gone: undefined }, [1, undefined, 3], { nested: { deep: [true] } }, -1.5];

/** The envelope a single write carries under JSON: what 1.x sends, and what a listener sees. */
function overJson(envelope) {
  return JSON.parse(JSON.stringify({ __clusterphone: envelope }));
}

test("a burst to a 2.x worker goes in batches; the worker's listeners see every envelope as 1.x writes it", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const count = 40;
  for (let i = 0; i < count; i++) clusterphone.sendTo(worker, "record", PAYLOADS[i % PAYLOADS.length]);
  const { raw, batches } = await seen(worker);
  assert.ok(batches > 0, "the burst used at least one batch");
  assert.equal(raw.length, count);
  const first = raw[0].__clusterphone.seq;
  raw.forEach((message, i) => {
    assert.deepStrictEqual(message, overJson({ ns: "_", cmd: "record", seq: first + i, payload: PAYLOADS[i % PAYLOADS.length] }), `message ${i}`);
  });
});

test("acknowledgements in a burst come back batched, each as a single write carries it: ack() has no reply key, ack(null) a null one", { skip, timeout: 20000 }, async () => {
  const { worker, counter } = await batchWorker();
  acksFrom.set(worker, []);
  const commands = [];
  const replies = [];
  for (let i = 0; i < 30; i++) {
    const cmd = ["noReply", "nullReply", "echo"][i % 3];
    commands.push(cmd);
    replies.push(clusterphone.sendTo(worker, cmd, { i }).ackd());
  }
  const values = await withTimeout(Promise.all(replies), 5000, "30 replies");
  values.forEach((value, i) => assert.deepStrictEqual(value, [undefined, null, { i }][i % 3], `reply ${i} (${commands[i]})`));
  assert.ok(counter.batches > 0, "the worker answered in batches");
  const acks = acksFrom.get(worker);
  assert.equal(acks.length, 30);
  const first = acks[0].__clusterphone.ack;
  acks.forEach((message, i) => {
    const reply = [undefined, null, { i }][i % 3];
    assert.deepStrictEqual(message, overJson({ ns: "_", ack: first + i, reply }), `acknowledgement ${i}`);
  });
});

/**
 * `perSide` records from `from` on, the user's own `worker.send(plain)`, then `perSide` more, in one
 * tick: checks the burst was batched and the worker saw every message, the plain one in its place.
 */
async function burstAroundPlainSend(worker, from, perSide, plain) {
  for (let i = from; i < from + perSide; i++) clusterphone.sendTo(worker, "record", i);
  worker.send(plain);
  for (let i = from + perSide; i < from + 2 * perSide; i++) clusterphone.sendTo(worker, "record", i);
  const { raw, batches } = await seen(worker);
  assert.ok(batches > 0, "the burst was batched");
  assert.equal(raw.length, 2 * perSide + 1);
  assert.deepStrictEqual(raw[perSide], plain);
  const payloads = raw.filter((m) => m.__clusterphone).map((m) => m.__clusterphone.payload);
  assert.deepStrictEqual(payloads, Array.from({ length: 2 * perSide }, (_, i) => from + i));
}

test("the user's own worker.send() in the middle of a burst arrives in its place", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  await burstAroundPlainSend(worker, 0, 20, { plain: "between" });
});

test("messages sent while a handle is in flight arrive in order: none is gathered ahead of those Node holds for it", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const sent = new Promise((resolve) => {
      const onMessage = (message) => {
        if (!message || !message.preReply) return;
        worker.removeListener("message", onMessage);
        // The worker's acknowledgement of the handle came in the same read, so Node writes what it
        // held for the handle in this tick, before the tick ends.
        for (const payload of ["a", "b", "c"]) clusterphone.sendTo(worker, "record", payload);
        resolve();
      };
      worker.on("message", onMessage);
    });
    worker.send({ pre: true });
    // Until the worker takes the handle, Node holds every write to it.
    worker.send({ handle: true }, server);
    // Busy, so the reply and the handle's acknowledgement arrive together.
    const until = Date.now() + 300;
    while (Date.now() < until);
    await withTimeout(sent, 5000, "the worker's reply");
    const { raw } = await seen(worker);
    const records = raw.filter((m) => m && m.__clusterphone && m.__clusterphone.cmd === "record").map((m) => m.__clusterphone.payload);
    assert.deepStrictEqual(records, ["a", "b", "c"]);
  } finally {
    server.close();
  }
});

test("a spy put on the channel's _send between bursts, or over the guard in a burst, sees every write and order is kept", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const channel = worker.process;
  const spy = (inner, log) =>
    function (message, handle, options, callback) {
      log.push(message);
      return inner.call(this, message, handle, options, callback);
    };
  // Between bursts: a spy put on `_send` sees every write after it, batches included.
  const betweenLog = [];
  channel._send = spy(channel._send, betweenLog);
  await burstAroundPlainSend(worker, 0, 10, { plain: 0 });
  assert.ok(betweenLog.some((m) => m && m.plain === 0));
  assert.ok(betweenLog.some((m) => m && m.cmd === "NODE_CLUSTERPHONE" && Array.isArray(m.h)));
  // Over the guard, in the middle of a burst: the spy calls the guard, which must not call the spy back.
  const overLog = [];
  let over;
  await new Promise((resolve) => {
    setImmediate(() => {
      for (let i = 100; i < 110; i++) clusterphone.sendTo(worker, "record", i);
      over = spy(channel._send, overLog);
      channel._send = over;
      worker.send({ plain: 100 });
      for (let i = 110; i < 120; i++) clusterphone.sendTo(worker, "record", i);
      resolve();
    });
  });
  const { raw } = await seen(worker);
  assert.deepStrictEqual(raw[10], { plain: 100 });
  assert.deepStrictEqual(raw.filter((m) => m.__clusterphone).map((m) => m.__clusterphone.payload), Array.from({ length: 20 }, (_, i) => 100 + i));
  assert.equal(overLog.filter((m) => m && m.plain === 100).length, 1, "the spy saw the user's write once");
  assert.equal(betweenLog.filter((m) => m && m.plain === 100).length, 1, "and so did the one under it");
  assert.equal(channel._send, over, "the spy stays in place after the burst");
  await burstAroundPlainSend(worker, 200, 10, { plain: 200 });
});

test("a process.send saved before batching started still writes after what the tick gathered", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const order = [];
  const onMessage = (message) => {
    if (message && message.plain) order.push(message.plain);
    else if (message && message.__clusterphone && message.__clusterphone.cmd === "got") order.push(message.__clusterphone.payload);
  };
  worker.on("message", onMessage);
  try {
    await withTimeout(clusterphone.sendTo(worker, "savedSendBetween").ackd(), 5000, "savedSendBetween");
    const deadline = Date.now() + 5000;
    while (order.length < 4 && Date.now() < deadline) await sleep(10);
  } finally {
    worker.removeListener("message", onMessage);
  }
  assert.deepStrictEqual(order, ["a", "b", "c", "d"]);
});

test("a message sent from a getter of the message being written goes out first, as 1.x wrote it", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  for (const position of ["first", "second"]) {
    const nested = { get x() {
      clusterphone.sendTo(worker, "record", `nested in ${position}`);
      return position;
    } };
    if (position === "second") clusterphone.sendTo(worker, "record", "before");
    clusterphone.sendTo(worker, "record", nested);
    clusterphone.sendTo(worker, "record", "after");
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { raw } = await seen(worker);
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload), [
    "nested in first", { x: "first" }, "after",
    "before", "nested in second", { x: "second" }, "after",
  ]);
});

test("a burst is serialized as it is sent: later changes to a payload, toJSON's key, sendTo throwing, no shared objects", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const reused = { i: -1 };
  const circular = { name: "loop" };
  circular.self = circular;
  const keyed = { toJSON: (key) => `key=${key}` };
  const vanishing = { toJSON: () => undefined };
  const thrown = [];
  for (let i = 0; i < 20; i++) {
    reused.i = i;
    try {
      clusterphone.sendTo(worker, "record", i === 15 ? circular : i === 16 ? keyed : i === 17 ? vanishing : reused);
    } catch (err) {
      thrown.push({ i, message: err.message });
    }
  }
  reused.i = "changed after the tick";
  assert.equal(thrown.length, 1, "only the circular payload throws");
  assert.equal(thrown[0].i, 15);
  assert.match(thrown[0].message, /circular/i);
  const { raw, batches } = await seen(worker);
  assert.ok(batches > 0);
  const payloads = raw.map((m) => m.__clusterphone.payload);
  const expected = [];
  for (let i = 0; i < 20; i++) if (i !== 15) expected.push(i === 16 ? "key=payload" : i === 17 ? undefined : { i });
  assert.deepStrictEqual(payloads, expected);
  assert.equal(Object.prototype.hasOwnProperty.call(raw[16].__clusterphone, "payload"), false, "a toJSON returning undefined drops the key");
});

test("values JSON turns into something else arrive as a single write carries them, gathered or not", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const shared = { s: 1 };
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const named = Object.assign([1, 2], { extra: true });
  const withGetter = Object.defineProperty({ plain: 1 }, "computed", { enumerable: true, get: () => "read when sent" });
  const hidden = Object.defineProperty({ shown: 1 }, "hidden", { enumerable: false, value: 2 });
  const nullProto = Object.assign(Object.create(null), { bare: true });
  // JSON.stringify calls a toJSON it finds, enumerable or not.
  const hiddenToJson = Object.defineProperty({ a: 1 }, "toJSON", { enumerable: false, value: () => "from a hidden toJSON" });
  const hiddenToJsonArray = Object.defineProperty([1, 2], "toJSON", { enumerable: false, value: () => "from an array's" });
  class Point {
    constructor() {
      this.x = 1;
    }
  }
  const values = [
    { twice: [shared, shared] },
    sparse,
    named,
    [NaN, -0, Infinity, undefined, () => {}, Symbol("s")],
    { date: new Date(0), map: new Map([[1, 2]]), set: new Set([1]), fn() {}, sym: Symbol("s") },
    new Point(),
    withGetter,
    hidden,
    nullProto,
    { [Symbol("key")]: 1, kept: 2 },
    { "2": "b", "1": "a", z: 0, __proto__: null },
    JSON.parse('{"__proto__": {"own": true}, "after": 1}'),
    { toJSON: 5 },
    hiddenToJson,
    { nested: hiddenToJson, list: [hiddenToJsonArray] },
    Symbol("top"),
    () => "top",
    new Date(1),
  ];
  // The fillers are written at once; the rest of the tick is gathered.
  const payloads = [...Array(WRITE_THROUGH).fill("filler"), ...values];
  for (const payload of payloads) clusterphone.sendTo(worker, "record", payload);
  const { raw, viaBatch } = await seen(worker);
  assert.equal(raw.length, payloads.length);
  assert.ok(viaBatch.slice(WRITE_THROUGH).every(Boolean), "every value was gathered");
  const first = raw[0].__clusterphone.seq;
  raw.forEach((message, i) => {
    assert.deepStrictEqual(message, overJson({ ns: "_", cmd: "record", seq: first + i, payload: payloads[i] }), `message ${i}`);
  });
});

test("a BigInt in a burst makes sendTo throw, as a single write does, and the rest is gathered", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const thrown = [];
  for (let i = 0; i < 20; i++) {
    try {
      clusterphone.sendTo(worker, "record", i === 12 ? { big: 1n } : i);
    } catch (err) {
      thrown.push({ i, name: err.name, message: err.message });
    }
  }
  assert.deepStrictEqual(thrown.map((t) => [t.i, t.name]), [[12, "TypeError"]]);
  assert.match(thrown[0].message, /BigInt/);
  const { raw, viaBatch } = await seen(worker);
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload), Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 12));
  assert.ok(viaBatch.slice(12).every(Boolean), "gathering went on after it");
});

/** Plain data over the copy's 40 values: written on its own. */
const LARGE = Array.from({ length: 300 }, (_, i) => i);

test("a value too large to copy is written on its own and ends gathering for the rest of its tick, in order; the next messages to that worker are written at once until the pause is used up, then gathered again", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const large = LARGE;
  const first = Array.from({ length: 20 }, (_, i) => (i === 10 ? large : i));
  for (const payload of first) clusterphone.sendTo(worker, "record", payload);
  const one = await seen(worker);
  assert.deepStrictEqual(one.raw.map((m) => m.__clusterphone.payload), first);
  const seqs = one.raw.map((m) => m.__clusterphone.seq);
  assert.deepStrictEqual(seqs, seqs.map((_, i) => seqs[0] + i));
  // Written at once, then gathered up to the large one, which is written on its own, as is the rest.
  const expected = first.map((_, i) => i >= WRITE_THROUGH && i <= 9);
  assert.deepStrictEqual(one.viaBatch, expected);

  for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", i);
  const two = await seen(worker);
  assert.deepStrictEqual(two.raw.map((m) => m.__clusterphone.payload), Array.from({ length: 20 }, (_, i) => i));
  assert.deepStrictEqual(two.viaBatch, Array.from({ length: 20 }, () => false), "paused: written at once");

  // The pause counts the messages that would have been gathered: the 9 records after the large
  // one and the first `seen`, then 19 records and the second `seen`.
  const left = PAUSE_AFTER_TOO_LARGE - 10 - 20;
  const count = WRITE_THROUGH + left + 20;
  for (let i = 0; i < count; i++) clusterphone.sendTo(worker, "record", i);
  const three = await seen(worker);
  assert.deepStrictEqual(three.raw.map((m) => m.__clusterphone.payload), Array.from({ length: count }, (_, i) => i));
  assert.deepStrictEqual(three.viaBatch, Array.from({ length: count }, (_, i) => i >= WRITE_THROUGH + left), "gathered again once the pause is used up");
});

test("once a tick's one write is reported done, the next message is written at once too; a second one after it is gathered", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  await new Promise((resolve) => {
    setImmediate(() => {
      clusterphone.sendTo(worker, "record", "a");
      // Node queued the write's callback with process.nextTick: it runs before this one.
      process.nextTick(() => {
        clusterphone.sendTo(worker, "record", "b");
        clusterphone.sendTo(worker, "record", "c");
        resolve();
      });
    });
  });
  const { raw, viaBatch } = await seen(worker);
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload), ["a", "b", "c"]);
  assert.deepStrictEqual(viaBatch, [false, false, true]);
});

test("a large value with a toJSON is serialized once, when sent, and travels in the batch as its text", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  let calls = 0;
  const counted = { toJSON: (key) => ({ key, calls: ++calls, list: LARGE }) };
  for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", i === 10 ? counted : i);
  assert.equal(calls, 1, "toJSON ran once, in sendTo");
  const { raw, viaBatch } = await seen(worker);
  assert.equal(calls, 1);
  assert.deepStrictEqual(raw[10].__clusterphone.payload, { key: "payload", calls: 1, list: LARGE });
  assert.equal(viaBatch[10], true, "it went in the batch, as its text");
});

test("a toJSON patched onto Array.prototype before a burst: every message arrives as a single write carries it", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  let expected;
  try {
    Array.prototype.toJSON = function () { // eslint-disable-line no-extend-native
      return `array of ${this.length}`;
    };
    for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", { i, list: [i] });
    expected = Array.from({ length: 20 }, (_, i) => JSON.parse(JSON.stringify({ i, list: [i] })));
    // The patch stays until the tick's batch would have been written.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    delete Array.prototype.toJSON;
  }
  const { raw } = await seen(worker);
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload), expected);
});

test("a toJSON patched onto Array.prototype after a burst, in its tick: no message is lost", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  try {
    for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", { i, list: [i] });
    Array.prototype.toJSON = function () { // eslint-disable-line no-extend-native
      return `array of ${this.length}`;
    };
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    delete Array.prototype.toJSON;
  }
  const { raw } = await seen(worker);
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload.i), Array.from({ length: 20 }, (_, i) => i));
  // Written at once, the first went before the patch; the gathered ones are written one by one
  // when the tick ends, which the patch then sees (a batch's own arrays would not arrive at all).
  raw.forEach((m, i) => assert.deepStrictEqual(m.__clusterphone.payload.list, i < WRITE_THROUGH ? [i] : "array of 1", `message ${i}`));
});

test("messages from a worker arrive with 1.x's key order (ns, seq, cmd, payload), batched or not", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  const orders = [];
  const onMessage = (message) => {
    if (message && message.__clusterphone && message.__clusterphone.cmd === "got") orders.push(Object.keys(message.__clusterphone).join(","));
  };
  worker.on("message", onMessage);
  try {
    await withTimeout(clusterphone.sendTo(worker, "burst", { n: 30, cmd: "got" }).ackd(), 5000, "the burst's outcomes");
  } finally {
    worker.removeListener("message", onMessage);
  }
  assert.deepStrictEqual(orders, Array(30).fill("ns,seq,cmd,payload"));
});

test("acknowledgements around a large reply, some gathered and some not, all arrive in order", { skip, timeout: 20000 }, async () => {
  const { worker, counter } = await batchWorker();
  acksFrom.set(worker, []);
  const large = { list: LARGE };
  const replies = [];
  for (let i = 0; i < 30; i++) replies.push(clusterphone.sendTo(worker, "echo", i === 9 ? large : i).ackd());
  const values = await withTimeout(Promise.all(replies), 5000, "30 replies");
  assert.deepStrictEqual(values, Array.from({ length: 30 }, (_, i) => (i === 9 ? large : i)));
  assert.ok(counter.batches > 0, "the acknowledgements before the large one were gathered");
  const acked = acksFrom.get(worker).map((m) => m.__clusterphone.ack);
  assert.deepStrictEqual(acked, acked.map((_, i) => acked[0] + i), "written in the order the handlers acknowledged");
});

test("replies and error acknowledgements mixed in one batch settle in the order they were sent", { skip: ORACLE && "1.0.1 settles an error acknowledgement after the replies behind it", timeout: 20000 }, async () => {
  const { worker, counter } = await batchWorker();
  const settled = [];
  const waits = [];
  for (let i = 0; i < 30; i++) {
    const note = () => settled.push(i);
    waits.push(clusterphone.sendTo(worker, i % 3 === 1 ? "fail" : "echo", i).ackd().then(note, note));
  }
  await withTimeout(Promise.all(waits), 5000, "30 settlements");
  assert.deepStrictEqual(settled, Array.from({ length: 30 }, (_, i) => i));
  assert.ok(counter.batches > 0, "the acknowledgements came back in batches");
});

for (const serialization of ["json", "advanced"]) {
  test(`a worker that exits right after a burst still delivers all of it (${serialization})`, { skip, timeout: 20000 }, async () => {
    const { worker, counter } = await batchWorker({ serialization });
    got.length = 0;
    const exited = once(worker, "exit");
    clusterphone.sendTo(worker, "burstThenExit", { n: 50 });
    await withTimeout(exited, 5000, "the worker to exit");
    assert.deepStrictEqual(got, Array.from({ length: 50 }, (_, i) => i));
    assert.ok(counter.batches > 0, "the burst was batched");
  });
}

for (const signal of ["SIGKILL", "SIGTERM"]) {
  test(`a worker that sends itself ${signal} right after a burst still delivers all of it, as 1.x's writes did`, { skip, timeout: 20000 }, async () => {
    const { worker } = await batchWorker();
    got.length = 0;
    // The channel's end comes after everything written to it; 'exit' may come before the last read.
    const closed = Promise.all([once(worker, "exit"), once(worker, "disconnect")]);
    clusterphone.sendTo(worker, "burstThenExit", { n: 30, signal });
    const [[, exitSignal]] = await withTimeout(closed, 5000, "the worker to die");
    assert.equal(exitSignal, signal);
    assert.deepStrictEqual(got, Array.from({ length: 30 }, (_, i) => i));
  });
}

test("process.kill(worker.process.pid) right after a burst: the worker gets the whole burst before the signal", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker({ env: { EXIT_ON_SIGTERM: "1" } });
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(clusterphone.sendTo(worker, "echo", i).ackd());
  process.kill(worker.process.pid, "SIGTERM");
  const outcomes = await withTimeout(Promise.allSettled(replies), 5000, "the acknowledgements");
  assert.deepStrictEqual(
    outcomes.map((o) => (o.status === "fulfilled" ? o.value : o.reason.message)),
    [0, 1, 2, 3, 4],
  );
});

test("a worker whose own 'exit' listener, added before the library, throws still delivers a whole burst", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker({ env: { THROWING_EXIT_LISTENER: "1" } });
  got.length = 0;
  const exited = once(worker, "exit");
  clusterphone.sendTo(worker, "burstThenExit", { n: 20, outsideHandler: true });
  await withTimeout(exited, 5000, "the worker to exit");
  assert.deepStrictEqual(got, Array.from({ length: 20 }, (_, i) => i));
});

test("worker.kill() right after a burst: the worker gets the whole burst before the signal", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker({ env: { EXIT_ON_SIGTERM: "1" } });
  const replies = [];
  for (let i = 0; i < 5; i++) replies.push(clusterphone.sendTo(worker, "echo", i).ackd());
  worker.kill();
  const outcomes = await withTimeout(Promise.allSettled(replies), 5000, "the acknowledgements");
  assert.deepStrictEqual(
    outcomes.map((o) => (o.status === "fulfilled" ? o.value : o.reason.message)),
    [0, 1, 2, 3, 4],
  );
});

test("a 'message' listener that throws on one message of a batch: the error comes before the next message is handled, as in 1.x", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker({ env: { THROW_ON: "2" } });
  for (let i = 0; i < 5; i++) clusterphone.sendTo(worker, "record", i);
  const events = await withTimeout(clusterphone.sendTo(worker, "events").ackd(), 5000, "the worker's events");
  assert.deepStrictEqual(events, ["handled:0", "handled:1", "handled:2", "uncaught:2", "handled:3", "handled:4"]);
  const { batches } = await seen(worker);
  assert.ok(batches > 0, "the burst was batched");
});

test("a message sent from a process 'exit' listener after a burst still goes out", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker();
  got.length = 0;
  const exited = once(worker, "exit");
  clusterphone.sendTo(worker, "burstThenExit", { n: 20, bye: true });
  await withTimeout(exited, 5000, "the worker to exit");
  assert.deepStrictEqual(got, [...Array.from({ length: 20 }, (_, i) => i), "bye"]);
});

for (const serialization of ["json", "advanced"]) {
  test(`a burst from a worker comes in batches and every acknowledgement goes back (${serialization})`, { skip, timeout: 20000 }, async () => {
    const { worker, counter } = await batchWorker({ serialization });
    got.length = 0;
    const outcomes = await withTimeout(clusterphone.sendTo(worker, "burst", { n: 100, cmd: "got" }).ackd(), 5000, "the burst's outcomes");
    assert.deepStrictEqual(outcomes, Array.from({ length: 100 }, (_, i) => ({ reply: i })));
    assert.deepStrictEqual(got, Array.from({ length: 100 }, (_, i) => i));
    assert.ok(counter.batches > 0, "the worker's burst came in batches");
  });
}

test("a clusterphone 1.0.1 worker never gets a batch: every message of a burst arrives on its own", { skip, timeout: 20000 }, async () => {
  const { worker } = await batchWorker({ env: { CLUSTERPHONE_IMPL: V1 } });
  const replies = [];
  for (let i = 0; i < 40; i++) replies.push(clusterphone.sendTo(worker, "echo", i).ackd());
  assert.deepStrictEqual(await withTimeout(Promise.all(replies), 5000, "40 replies"), Array.from({ length: 40 }, (_, i) => i));
  const { raw, batches } = await seen(worker);
  assert.equal(batches, 0);
  assert.equal(raw.length, 40);
});

test("malformed batches from a worker break nothing; a well-formed one is read", { skip, timeout: 20000 }, async () => {
  const problems = [];
  const onProblem = (err) => problems.push(String(err && err.stack ? err.stack : err));
  process.on("uncaughtException", onProblem);
  try {
    const worker = fork("raw-worker.js");
    const inbox = collectMessages(worker);
    await once(worker, "online");
    let id = 0;
    const raw = async (message) => {
      const mine = ++id;
      worker.send({ rawCmd: "send", id: mine, message });
      await inbox.waitFor((m) => m && m.rawDone === mine, "raw send");
    };
    const malformed = [
      { cmd: "NODE_CLUSTERPHONE" },
      { cmd: "NODE_CLUSTERPHONE", h: "not an array", v: [] },
      { cmd: "NODE_CLUSTERPHONE", h: [2, "_", "got", 1] },
      { cmd: "NODE_CLUSTERPHONE", h: [2, "_", "got", 1], v: "not an array" },
      { cmd: "NODE_CLUSTERPHONE", h: [null, 1, 2, 3], v: [] },
      { cmd: "NODE_CLUSTERPHONE", h: [0], v: [] },
      { cmd: "NODE_CLUSTERPHONE", h: [1, "_", 999999], v: [] },
      { cmd: "NODE_CLUSTERPHONE", h: [7, "__proto__", "constructor"], v: [{ polluted: true }, 1] },
      { cmd: "NODE_CLUSTERPHONE", h: ["x", {}, [], 2], v: [] },
      { cmd: "NODE_CLUSTERPHONE", batch: 1 },
      { cmd: "NODE_CLUSTERPHONE", batch: 3 },
      { cmd: "NODE_CLUSTERPHONE", b: [2, "_", "got", 1, '"an earlier format"'] },
    ];
    for (const message of malformed) await raw(message);
    got.length = 0;
    await raw({ cmd: "NODE_CLUSTERPHONE", h: [2, "_", "got", 1, 2, "_", "got", 2], v: ["first", "second"] });
    await sleep(50);
    assert.deepStrictEqual(got, ["first", "second"]);
    assert.equal({}.polluted, undefined);
    const answer = await inbox.waitFor((m) => m && m.rawSaw && m.rawSaw.__clusterphone && m.rawSaw.__clusterphone.ack === 2, "the second acknowledgement");
    assert.deepStrictEqual(answer.rawSaw, { __clusterphone: { ns: "_", ack: 2, reply: "second" } });
    assert.deepStrictEqual(problems, []);
  } finally {
    process.removeListener("uncaughtException", onProblem);
  }
});
