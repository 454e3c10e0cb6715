"use strict";

// SPEC §2: sending — argument checks, payloads, handles, queueing, send failures.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const net = require("node:net");

const clusterphone = require(process.env.CLUSTERPHONE_IMPL || require("node:path").join(__dirname, ".."));
const { ORACLE, fork, kill, cleanup, online, withTimeout, once, flush, track } = require("./helpers");

after(cleanup);

// One ready worker shared by the tests that only need a live peer.
let worker;
before(async () => {
  worker = fork("worker.js");
  await online(worker);
});

function ack(msg, what, ms = 5000) {
  return withTimeout(msg.acknowledged(), ms, what);
}

clusterphone.handlers.echo = function (w, payload, handle, ackFn) {
  ackFn(payload);
};

test("sendTo without a worker throws a TypeError", () => {
  assert.throws(() => clusterphone.sendTo(undefined, "echo"), { name: "TypeError" });
  assert.throws(() => clusterphone.sendTo(null, "echo"), { name: "TypeError" });
});

test("sendTo throws a TypeError when the command is empty, null, undefined or []", () => {
  for (const cmd of ["", null, undefined, []]) {
    assert.throws(
      () => clusterphone.sendTo(worker, cmd),
      { name: "TypeError", message: /command is required/i },
      `cmd ${JSON.stringify(cmd)}`,
    );
  }
});

test("sendToMaster in a worker throws a TypeError when the command is empty, null, undefined or []", { timeout: 20000 }, async () => {
  // `undefined` travels as a missing key
  for (const [label, payload] of [["\"\"", { cmd: "" }], ["null", { cmd: null }], ["undefined", {}], ["[]", { cmd: [] }]]) {
    const result = await ack(clusterphone.sendTo(worker, "trySend", payload), `trySend ${label}`);
    assert.equal(result.threw, true, `sendToMaster(${label}) must throw`);
    assert.equal(result.name, "TypeError", `sendToMaster(${label})`);
    assert.match(result.message, /command is required/i);
  }
});

test("a send refused for its command uses no sequence number: the worker's next message is still seq 1 (1.0.1's worker counted it)", { skip: ORACLE, timeout: 20000 }, async () => {
  const fresh = fork("worker.js");
  await online(fresh);
  const seqs = [];
  fresh.on("message", (message) => {
    const envelope = message && message.__clusterphone;
    if (envelope && envelope.cmd === "seqProbe") seqs.push(envelope.seq);
  });
  clusterphone.handlers.seqProbe = (w, payload, handle, ackFn) => ackFn();
  for (const cmd of ["", []]) assert.equal((await ack(clusterphone.sendTo(fresh, "trySend", { cmd }), "a refused send")).threw, true);
  assert.equal((await ack(clusterphone.sendTo(fresh, "trySend", { cmd: "seqProbe" }), "a send")).threw, false);
  assert.deepEqual(seqs, [1]);
  await kill(fresh);
});

test("the command is turned into a string", { timeout: 20000 }, async () => {
  assert.equal(await ack(clusterphone.sendTo(worker, 42), "command 42"), "handler 42");
});

test("payloads round-trip primary -> worker -> primary unchanged (JSON serialization)", { timeout: 20000 }, async () => {
  const payloads = [
    { key: "value", nested: { list: [1, "two", null, true, { deep: [] }] } },
    "a string",
    "",
    42,
    0,
    -1.5,
    true,
    false,
    null,
    [],
    [1, [2, [3]]],
    { unicode: "zażółć gęślą jaźń ✓ \u{1F600}", newline: "a\nb" },
  ];
  for (const payload of payloads) {
    const reply = await ack(clusterphone.sendTo(worker, "echo", payload), `echo ${JSON.stringify(payload)}`);
    assert.deepEqual(reply, payload);
  }
  // no payload at all arrives as undefined
  const shape = await ack(clusterphone.sendTo(worker, "inspectArgs"), "inspectArgs without payload");
  assert.equal(shape.payload, undefined);
});

test("payloads round-trip worker -> primary -> worker unchanged", { timeout: 20000 }, async () => {
  for (const payload of [{ a: [1, { b: "c" }] }, "text", 7, false, null]) {
    const result = await ack(
      clusterphone.sendTo(worker, "relay", { cmd: "echo", payload }),
      `relay echo ${JSON.stringify(payload)}`,
    );
    assert.deepEqual(result, { ok: true, reply: payload });
  }
});

test("a net.Socket handle sent to a worker arrives as the handler's second argument and is usable", { timeout: 20000 }, async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = once(server, "connection");
  const client = net.connect(server.address().port, "127.0.0.1");
  t.after(() => client.destroy());
  let received = "";
  client.setEncoding("utf8");
  client.on("data", (chunk) => (received += chunk));
  const ended = once(client, "end");
  const [socket] = await withTimeout(accepted, 5000, "the test connection");

  const reply = await ack(clusterphone.sendTo(worker, "socket", {}, socket), "socket handler");
  assert.deepEqual(reply, { isSocket: true });
  await withTimeout(ended, 5000, "the worker to end the socket");
  const pid = await ack(clusterphone.sendTo(worker, "pid"), "pid");
  assert.equal(received, `hello from worker ${pid}`);
});

test("a net.Server handle sent to a worker lets the worker accept connections", { timeout: 20000 }, async (t) => {
  const server = net.createServer((s) => s.end("accepted by the primary"));
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const reply = await ack(clusterphone.sendTo(worker, "server", {}, server), "server handler");
  assert.deepEqual(reply, { isServer: true, port });
  // stop accepting here: from now on only the worker's copy accepts
  await new Promise((resolve) => server.close(resolve));

  const client = net.connect(port, "127.0.0.1");
  t.after(() => client.destroy());
  let received = "";
  client.setEncoding("utf8");
  client.on("data", (chunk) => (received += chunk));
  await withTimeout(once(client, "end"), 5000, "the worker to answer on the passed server");
  const pid = await ack(clusterphone.sendTo(worker, "pid"), "pid");
  assert.equal(received, `accepted by worker ${pid}`);
});

test("a worker can send a handle to the primary: the primary's handler gets it as third argument", { timeout: 20000 }, async (t) => {
  const seen = [];
  clusterphone.handlers.serverFromWorker = function (w, payload, handle, ackFn) {
    seen.push({ w, payload, handle });
    ackFn({ isServer: handle instanceof net.Server, port: handle && handle.address() && handle.address().port });
    if (handle) handle.close();
  };
  t.after(() => delete clusterphone.handlers.serverFromWorker);
  const result = await ack(clusterphone.sendTo(worker, "makeServer"), "makeServer");
  assert.equal(seen.length, 1);
  assert.equal(seen[0].w, worker);
  assert.deepEqual(result, { port: seen[0].payload.port, result: { ok: true, reply: { isServer: true, port: seen[0].payload.port } } });
});

test("messages to a worker that is not ready yet are queued and delivered in order once it is", { timeout: 20000 }, async () => {
  const late = fork("worker.js", { env: { CP_LOAD: "signal" } });
  const ready = online(late);
  const acks = [];
  for (let i = 0; i < 5; i++) acks.push(track(clusterphone.sendTo(late, "record", i).acknowledged()));
  // one more whose acknowledgement nobody awaits
  clusterphone.sendTo(late, "record", 5);
  await flush();
  assert.ok(acks.every((a) => !a.settled), "nothing can be acknowledged before the worker loaded clusterphone");

  late.send({ cpLoad: true });
  await ready;
  const states = await withTimeout(Promise.all(acks.map((a) => a.promise)), 5000, "the queued acknowledgements");
  assert.deepEqual(
    states.map((s) => [s.status, s.value]),
    [0, 1, 2, 3, 4].map((i) => ["fulfilled", i]),
  );
  const log = await ack(clusterphone.sendTo(late, "getLog"), "getLog");
  assert.deepEqual(log, [0, 1, 2, 3, 4, 5]);
});

test(
  "nothing overtakes a queued message: later sends in that namespace join its queue",
  { timeout: 20000, skip: ORACLE && "1.0.1 differs: once a worker is ready, new sends in a still-queued namespace go out at once and overtake the queue" },
  async () => {
    const lateNs = clusterphone.ns("sending-late");
    const late = fork("worker.js", { env: { CP_LOAD: "signal" } });
    const ready = online(late);
    const first = track(lateNs.sendTo(late, "record", "a").acknowledged());
    late.send({ cpLoad: true });
    await ready; // ready through "_", the worker has not created "sending-late" yet
    const second = track(lateNs.sendTo(late, "record", "b").acknowledged());
    await ack(clusterphone.sendTo(late, "createNs", "sending-late"), "createNs");
    const states = await withTimeout(Promise.all([first.promise, second.promise]), 5000, "both acknowledgements");
    assert.deepEqual(
      states.map((s) => [s.status, s.value]),
      [
        ["fulfilled", "a"],
        ["fulfilled", "b"],
      ],
    );
    assert.deepEqual(await ack(clusterphone.sendTo(late, "getLog"), "getLog"), ["sending-late:a", "sending-late:b"]);
  },
);

test("a handle for a worker that is not ready throws a TypeError instead of being queued", { timeout: 20000 }, async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const late = fork("worker.js", { env: { CP_LOAD: "signal" } });
  t.after(() => kill(late));
  assert.throws(() => clusterphone.sendTo(late, "server", {}, server), {
    name: "TypeError",
    message: /tried to send an FD/,
  });
  assert.throws(() => clusterphone.sendTo(late, "server", {}, server, false), {
    name: "TypeError",
    message: /tried to send an FD/,
  });
  // only the boolean true forces queueing
  assert.throws(() => clusterphone.sendTo(late, "server", {}, server, "yes"), {
    name: "TypeError",
    message: /tried to send an FD/,
  });
});

test(
  "a handle behind a namespace's queued messages on a worker that is online throws too, saying why (it may not overtake them)",
  { timeout: 20000, skip: ORACLE && "1.0.1 lets the handle overtake the queued messages" },
  async (t) => {
    const server = net.createServer();
    t.after(() => server.close());
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const late = fork("worker.js");
    t.after(() => kill(late));
    const behind = clusterphone.ns("sending-handle-behind");
    behind.sendTo(late, "echo", "queued before the worker was ready");
    await online(late);
    assert.throws(() => behind.sendTo(late, "server", {}, server), {
      name: "TypeError",
      code: "ERR_CLUSTERPHONE_HANDLE_NOT_QUEUEABLE",
      message: /tried to send an FD to a worker that has not created this namespace yet: it is online, but messages sent to it in this namespace are still queued/,
    });
    const reply = await withTimeout(clusterphone.sendTo(late, "server", {}, server).acknowledged(), 5000, "the handle in \"_\"");
    assert.equal(reply.isServer, true, "in a namespace with nothing queued it goes out at once");
  },
);

test("forceQueueHandle === true queues a handle and delivers it once the worker is ready", { timeout: 20000 }, async (t) => {
  const server = net.createServer();
  t.after(() => server.close());
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const late = fork("worker.js", { env: { CP_LOAD: "signal" } });
  const ready = online(late);
  const reply = track(clusterphone.sendTo(late, "server", {}, server, true).acknowledged());
  late.send({ cpLoad: true });
  await ready;
  const state = await withTimeout(reply.promise, 5000, "the queued handle's acknowledgement");
  assert.equal(state.status, "fulfilled", state.reason && state.reason.message);
  assert.deepEqual(state.value, { isServer: true, port });
});

test("a send that fails in a worker (unserializable payload) rejects its acknowledgement instead of throwing", { timeout: 20000 }, async () => {
  const result = await ack(clusterphone.sendTo(worker, "circularSend"), "circularSend");
  assert.equal(result.threwSynchronously, false, "sendToMaster must not throw synchronously");
  assert.equal(result.result.ok, false, "the acknowledgement must reject");
  assert.match(result.result.error.message, /circular/i);
});

for (const when of ["after", "sameTick"]) {
  test(
    `a send from a worker whose channel to the primary closed rejects with Node's ERR_IPC_CHANNEL_CLOSED, no throw, no crash (${when === "after" ? "after the 'disconnect' event" : "in the tick that closed it"})`,
    {
      timeout: 20000,
      skip: ORACLE && "1.0.1 differs: Node emits ERR_IPC_CHANNEL_CLOSED as an 'error' event instead of throwing, which 1.0.1 does not catch, so the worker crashes",
    },
    async () => {
      const lonely = fork("worker.js");
      await online(lonely);
      const exited = once(lonely, "exit");
      await ack(clusterphone.sendTo(lonely, "disconnectThenSend", when), "disconnectThenSend");
      const [code, signal] = await withTimeout(exited, 10000, "the worker to report through its exit code");
      const meaning = {
        1: "the worker crashed (uncaught exception)",
        2: "sendToMaster threw synchronously",
        3: "the acknowledgement resolved",
        4: "the acknowledgement waited for the timeout instead of rejecting with the send error",
        5: "the acknowledgement never settled",
        6: "the acknowledgement rejected with another error than ERR_IPC_CHANNEL_CLOSED",
        7: "the worker crashed (uncaught exception)",
        8: "whenWritable() did not reject with ERR_IPC_CHANNEL_CLOSED",
      };
      assert.equal(code, 0, `exit code ${code} signal ${signal}: ${meaning[code] || "unexpected"}`);
    },
  );
}

test("sendTo returns a message object whose acknowledgement resolves with the reply", { timeout: 20000 }, async () => {
  const msg = clusterphone.sendTo(worker, "echo", "hi");
  assert.equal(typeof msg, "object");
  assert.equal(typeof msg.within, "function");
  assert.equal(typeof msg.acknowledged, "function");
  assert.equal(typeof msg.ackd, "function");
  assert.equal(await withTimeout(msg.acknowledged(), 5000, "echo"), "hi");
});
