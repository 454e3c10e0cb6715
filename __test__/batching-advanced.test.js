"use strict";

// Batching under `advanced` serialization (lib/outbox.js, lib/copy.js): a busy tick's messages to
// a 2.x peer travel as one batch, each value copied when it is sent. Nobody may see
// a difference from single writes: the same values (undefined keys, -0, BigInt kept), in order,
// as they were when sent; and what a copy cannot stand for exactly (a Map, a shared object, a
// class instance) is written on its own, as V8's serializer writes it.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const v8 = require("node:v8");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || path.join(__dirname, ".."));
const { ORACLE, fork, cleanup, online, once, withTimeout, collectMessages, kill, recordAcks, countBatches } = require("./helpers");

after(cleanup);

const skip = ORACLE && "batching is 2.x's own";
/** Messages per peer and tick written at once before gathering starts (lib/outbox.js). */
const { WRITE_THROUGH } = ORACLE ? {} : require("../lib/outbox");

/** Ack envelopes each worker sent, as the primary's own 'message' listener sees them. */
const acksFrom = recordAcks();

const got = [];
clusterphone.handlers.got = function (worker, payload, handle, ack) {
  got.push(payload);
  ack(payload);
};

/** A batch-worker.js worker under advanced serialization, counting the batches it sends. */
async function advancedWorker() {
  const worker = fork("batch-worker.js", { serialization: "advanced" });
  const counter = countBatches(worker);
  await online(worker);
  // One round trip: by then both ends have heard the other's batching offer.
  await seen(worker);
  acksFrom.set(worker, []);
  return { worker, counter };
}

function seen(worker) {
  return withTimeout(clusterphone.sendTo(worker, "seen").ackd(), 5000, "the worker's record");
}

/** What one write under advanced serialization carries for `value`. */
function overV8(value) {
  return v8.deserialize(v8.serialize(value));
}

/** Values a copy stands for exactly, among them ones JSON would lose. */
const PLAIN = [
  undefined,
  null,
  -0,
  NaN,
  10n,
  "text",
  { a: 1, gone: undefined },
  [1, undefined, 3],
  { nested: { deep: [true, { n: -1.5 }] } },
  Object.assign(Object.create(null), { bare: 1 }),
];

test("under advanced serialization a burst goes in batches, and the worker sees each envelope as a single write carries it", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  const count = 40;
  for (let i = 0; i < count; i++) clusterphone.sendTo(worker, "record", PLAIN[i % PLAIN.length]);
  const { raw, batches, viaBatch } = await seen(worker);
  assert.ok(batches > 0, "the burst used at least one batch");
  assert.ok(viaBatch.includes(true) && viaBatch.includes(false), "some messages were written alone, the rest gathered");
  assert.equal(raw.length, count);
  const first = raw[0].__clusterphone.seq;
  raw.forEach((message, i) => {
    const expected = overV8({ __clusterphone: { ns: "_", cmd: "record", seq: first + i, payload: PLAIN[i % PLAIN.length] } });
    assert.deepStrictEqual(message, expected, `message ${i}`);
  });
});

test("under advanced serialization acknowledgements come back batched, each as a single write carries it", { skip, timeout: 20000 }, async () => {
  const { worker, counter } = await advancedWorker();
  const replies = [];
  for (let i = 0; i < 30; i++) replies.push(clusterphone.sendTo(worker, i % 3 === 0 ? "noReply" : "echo", PLAIN[i % PLAIN.length]).ackd());
  const values = await withTimeout(Promise.all(replies), 5000, "30 replies");
  values.forEach((value, i) => assert.deepStrictEqual(value, i % 3 === 0 ? undefined : overV8(PLAIN[i % PLAIN.length]), `reply ${i}`));
  assert.ok(counter.batches > 0, "the worker answered in batches");
  const acks = acksFrom.get(worker);
  assert.equal(acks.length, 30);
  const first = acks[0].__clusterphone.ack;
  acks.forEach((message, i) => {
    const reply = i % 3 === 0 ? undefined : PLAIN[i % PLAIN.length];
    assert.deepStrictEqual(message, overV8({ __clusterphone: { ns: "_", ack: first + i, reply, error: undefined } }), `acknowledgement ${i}`);
  });
});

class Point {
  constructor(x) {
    this.x = x;
  }
}

test("values a copy cannot stand for are written on their own, exactly and in order, and end gathering for the tick", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  const shared = { s: 1 };
  const cycle = { name: "loop" };
  cycle.self = cycle;
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const named = Object.assign([1, 2], { extra: "kept" });
  const special = [new Map([[1, { m: 2 }]]), { a: shared, b: shared }, cycle, new Date(5), new Point(7), sparse, named, new Set([1]), /x/g];
  // Each in its own tick, after plain messages (the last of them gathered) and before one more.
  const plain = Array.from({ length: WRITE_THROUGH + 1 }, (_, i) => i);
  const payloads = [];
  for (const value of special) {
    const group = [...plain, value, "after"];
    for (const payload of group) clusterphone.sendTo(worker, "record", payload);
    payloads.push(...group);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const { raw, viaBatch } = await seen(worker);
  assert.equal(raw.length, payloads.length);
  raw.forEach((message, i) => assert.deepStrictEqual(message.__clusterphone.payload, overV8(payloads[i]), `payload ${i}`));
  const group = [...plain.map((i) => i === WRITE_THROUGH), false, false];
  assert.deepStrictEqual(viaBatch, special.flatMap(() => group), "per tick: written at once, then one gathered, the special one and the rest written at once");
  const at = (tick) => tick * group.length + plain.length;
  const shares = raw[at(1)].__clusterphone.payload;
  assert.equal(shares.a, shares.b, "an object sent twice in one payload arrives as one object");
  const loop = raw[at(2)].__clusterphone.payload;
  assert.equal(loop.self, loop, "a cycle arrives as a cycle");
});

clusterphone.handlers.mapAt30 = function (worker, i, handle, ack) {
  ack(i === 30 ? new Map([[i, new Date(i)]]) : { i });
};

test("a reply a copy cannot stand for is written on its own and arrives exactly", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  // The worker sends 50 in one tick; the primary answers a batch of them in one tick of its own.
  const outcomes = await withTimeout(clusterphone.sendTo(worker, "burst", { n: 50, cmd: "mapAt30" }).ackd(), 5000, "the burst's outcomes");
  outcomes.forEach((outcome, i) => assert.deepStrictEqual(outcome, { reply: i === 30 ? new Map([[i, new Date(i)]]) : { i } }, `reply ${i}`));
  const { batches } = await seen(worker);
  assert.ok(batches > 0, "the primary's acknowledgements were gathered");
});

for (const serialization of ["json", "advanced"]) {
  test(`a peer that offers another batch format (an earlier 2.x) never gets a batch (${serialization})`, { skip, timeout: 20000 }, async () => {
    for (const format of [1, 2]) {
      const worker = fork("raw-worker.js", serialization === "advanced" ? { serialization } : {});
      const inbox = collectMessages(worker);
      await once(worker, "online");
      let id = 0;
      const raw = async (rawCmd, fields) => {
        const mine = ++id;
        worker.send({ rawCmd, id: mine, ...fields });
        await inbox.waitFor((m) => m && m.rawDone === mine, rawCmd);
      };
      // probe: undefined arrives only under advanced serialization, as in a real offer.
      await raw("send", { message: { cmd: "NODE_CLUSTERPHONE", batch: format, answer: false, probe: undefined } });
      await raw("announce", { ns: "_" });
      for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", { i });
      await new Promise((resolve) => setImmediate(resolve));
      // Alone in its tick, so written at once, and after everything before it.
      clusterphone.sendTo(worker, "record", "end");
      await inbox.waitFor((m) => m && m.rawSaw && m.rawSaw.__clusterphone && m.rawSaw.__clusterphone.payload === "end", "the last message");
      const seenSingly = inbox.messages.filter((m) => m && m.rawSaw && m.rawSaw.__clusterphone && m.rawSaw.__clusterphone.cmd === "record");
      // raw-worker.js reads no batches: what went in one never shows up as a 'message' there.
      if (format === 2) assert.ok(seenSingly.length < 20, "offering this format, the burst was batched");
      else assert.deepStrictEqual(seenSingly.map((m) => m.rawSaw.__clusterphone.payload), [...Array.from({ length: 20 }, (_, i) => ({ i })), "end"]);
      await kill(worker);
    }
  });
}

test("under advanced serialization a burst is copied as it is sent: later changes do not travel, and sendTo throws as a single write does", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  const reused = { i: -1, list: [0] };
  const thrown = [];
  const unclonable = { f() {} };
  for (let i = 0; i < 20; i++) {
    reused.i = i;
    reused.list[0] = i;
    try {
      clusterphone.sendTo(worker, "record", i === 12 ? unclonable : i === 13 ? Symbol("no") : reused);
    } catch (err) {
      thrown.push({ i, message: err.message });
    }
  }
  reused.i = "changed after the tick";
  reused.list[0] = "changed after the tick";
  assert.deepStrictEqual(thrown.map((t) => t.i), [12, 13], "the function and the symbol throw from sendTo");
  for (const { message } of thrown) assert.match(message, /could not be cloned/);
  const { raw } = await seen(worker);
  const expected = [];
  for (let i = 0; i < 20; i++) if (i !== 12 && i !== 13) expected.push({ i, list: [i] });
  assert.deepStrictEqual(raw.map((m) => m.__clusterphone.payload), expected);
});

test("under advanced serialization the same object sent many times in a tick arrives as separate objects", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  const shared = { count: 0 };
  const replies = [];
  for (let i = 0; i < 20; i++) replies.push(clusterphone.sendTo(worker, "bump", shared).ackd());
  assert.deepStrictEqual(await withTimeout(Promise.all(replies), 5000, "20 replies"), Array(20).fill(1));
});

test("under advanced serialization the user's own worker.send() in the middle of a burst arrives in its place", { skip, timeout: 20000 }, async () => {
  const { worker } = await advancedWorker();
  for (let i = 0; i < 20; i++) clusterphone.sendTo(worker, "record", i);
  worker.send({ plain: "between", kept: undefined });
  for (let i = 20; i < 40; i++) clusterphone.sendTo(worker, "record", i);
  const { raw, viaBatch } = await seen(worker);
  assert.ok(viaBatch.includes(true));
  assert.equal(raw.length, 41);
  assert.deepStrictEqual(raw[20], { plain: "between", kept: undefined });
  assert.deepStrictEqual(raw.filter((m) => m.__clusterphone).map((m) => m.__clusterphone.payload), Array.from({ length: 40 }, (_, i) => i));
});

test("under advanced serialization error acknowledgements in a burst come back batched", { skip, timeout: 20000 }, async () => {
  const { worker, counter } = await advancedWorker();
  const outcomes = [];
  for (let i = 0; i < 20; i++) outcomes.push(clusterphone.sendTo(worker, "fail", i).ackd());
  const settled = await withTimeout(Promise.allSettled(outcomes), 5000, "20 error acknowledgements");
  for (const outcome of settled) {
    assert.equal(outcome.status, "rejected");
    assert.match(outcome.reason.message, /message handler threw an error/i);
    assert.match(String(outcome.reason.origMessage), /failing on purpose/);
  }
  assert.ok(counter.batches > 0, "the error acknowledgements were gathered");
});

test("malformed advanced batches break nothing; a well-formed one is read", { skip, timeout: 20000 }, async () => {
  const problems = [];
  const onProblem = (err) => problems.push(String(err && err.stack ? err.stack : err));
  process.on("uncaughtException", onProblem);
  try {
    const worker = fork("raw-worker.js", { serialization: "advanced" });
    const inbox = collectMessages(worker);
    await once(worker, "online");
    got.length = 0;
    const malformed = [
      { h: "not an array", v: [] },
      { h: [2, "_", "got", 7] },
      { h: [2, "_", "got", 8], v: new Map() },
      { h: [null, 5, "x", undefined, [], { other: true }], v: [1] },
      { h: [undefined, "_", "got", 9], v: [1] },
    ];
    let id = 0;
    for (const batch of malformed) {
      worker.send({ rawCmd: "send", id: ++id, message: { cmd: "NODE_CLUSTERPHONE", ...batch } });
      await inbox.waitFor((m) => m && m.rawDone === id, "raw send");
    }
    const good = { h: [2, "_", "got", 1], v: [new Map([[1, 2]])] };
    worker.send({ rawCmd: "send", id: ++id, message: { cmd: "NODE_CLUSTERPHONE", ...good } });
    await inbox.waitFor((m) => m && m.rawDone === id, "raw send");
    const answer = await inbox.waitFor((m) => m && m.rawSaw && m.rawSaw.__clusterphone && m.rawSaw.__clusterphone.ack === 1, "the acknowledgement");
    assert.deepStrictEqual(got, [new Map([[1, 2]])]);
    assert.deepStrictEqual(answer.rawSaw.__clusterphone.reply, new Map([[1, 2]]));
    assert.deepStrictEqual(problems, []);
    await kill(worker);
  } finally {
    process.removeListener("uncaughtException", onProblem);
  }
});
