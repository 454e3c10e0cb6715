"use strict";

// SPEC §5-6: readiness is per worker and shared with 1.x, whichever loads first. A primary that
// loaded 1.x, forked a worker and saw it announce itself, and only then loaded 2.x, sends through
// 2.x at once (no queueing for an announcement that came before 2.x loaded), gets "Unknown
// namespace." for a namespace the worker never created, and 1.x keeps working. Load order is per
// process, so each case runs its own primary (fixtures/late-load-primary.js).

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { fork } = require("node:child_process");
const { withTimeout, once, ORACLE } = require("./helpers");

const skip = ORACLE && "2.x loaded after 1.x: only 2.x";
const fixture = path.join(__dirname, "fixtures", "late-load-primary.js");

async function runPrimary(first, mode = "") {
  const primary = fork(fixture, [], { env: { ...process.env, LATE_FIRST: first, LATE_MODE: mode }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  try {
    const [report] = await withTimeout(once(primary, "message"), 30000, `the report of a primary loading ${first} first`);
    return report;
  } finally {
    if (primary.exitCode === null && primary.signalCode === null) {
      const exited = once(primary, "exit");
      await withTimeout(exited, 10000, "the primary to exit").catch(() => primary.kill("SIGKILL"));
    }
  }
}

for (const first of ["clusterphone-v1", "clusterphone-v0"]) {
  test(`2.x loaded after ${first} and after the worker announced itself: sends at once, unknown namespaces answered, ${first} still works`, { skip, timeout: 60000 }, async () => {
    const report = await runPrimary(first);
    assert.equal(report.failed, undefined, report.failed);
    assert.deepEqual(report.before, { ok: true, reply: "through 1.x" });
    assert.deepEqual(report.late, { ok: true, reply: "through 2.x" });
    assert.equal(report.neverCreated.ok, false);
    assert.match(report.neverCreated.error, /unknown namespace/i);
    assert.deepEqual(report.after, { ok: true, reply: "through 1.x again" });
  });
}

for (const first of ["clusterphone-v1", "clusterphone-v0"]) {
  test(`a worker forked before ${first} and 2.x loaded (in that order) is heard: every envelope handled once, both ways`, { skip, timeout: 60000 }, async () => {
    const report = await runPrimary(first, "forked-first");
    assert.equal(report.failed, undefined, report.failed);
    assert.deepEqual(report.toWorker, { ok: true, reply: "through 2.x" });
    assert.deepEqual(report.through1x, { ok: true, reply: "through 1.x" });
    assert.equal(report.fromWorker.ok, true, JSON.stringify(report.fromWorker));
    assert.deepEqual(report.fromWorker.reply, { ok: true, reply: "the primary got hi" });
    assert.equal(report.fromWorkerCalls, 1, "the worker's message reached the handler once, through both listeners");
  });
}

test("loaded after a newer library, 2.x leaves every envelope to that library's bus (none reaches it twice)", { skip, timeout: 30000 }, async () => {
  const os = require("node:os");
  const fs = require("node:fs");
  const { execFile } = require("node:child_process");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "clusterphone-newer-"));
  const script = path.join(dir, "primary.js");
  fs.writeFileSync(script, `
const cluster = require("node:cluster");
if (cluster.isPrimary) {
  let calls = 0;
  // A newer library's shared state and its per-worker listener, as 1.x sets them up.
  process.__clusterphone = { namespaces: {}, workerDataAccessor: Symbol("newer"), version: "9.0.0",
    messageBus(message) { if (message && message.__clusterphone) calls++; } };
  cluster.on("fork", (w) => w.on("message", (m, h) => process.__clusterphone.messageBus.call(w, m, h)));
  require(${JSON.stringify(path.join(__dirname, ".."))});
  const worker = cluster.fork();
  worker.on("exit", () => console.log(JSON.stringify({ calls })));
} else {
  process.send({ __clusterphone: { ns: "_", cmd: "x", seq: 1, payload: 1 } }, () => process.exit(0));
}
`);
  try {
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, [script], { timeout: 20000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
    );
    assert.deepEqual(JSON.parse(out.trim().split("\n").pop()), { calls: 1 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
