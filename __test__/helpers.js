"use strict";

// Shared helpers for the acceptance tests. Every test file is a cluster primary
// (node:test runs each file in its own process); workers are forked from the
// programs in ./fixtures and are tracked here so that only the pids a file
// started are ever killed.

const cluster = require("node:cluster");
const path = require("node:path");

// Set CLUSTERPHONE_IMPL to run the suite against another implementation (for
// instance the real 1.0.1, used as an oracle). Tests of deliberate 2.x
// differences are skipped then (unless CLUSTERPHONE_RUN_ALL is set, to watch
// them fail against the oracle).
const ORACLE = !!process.env.CLUSTERPHONE_IMPL && !process.env.CLUSTERPHONE_RUN_ALL;
const IMPL = process.env.CLUSTERPHONE_IMPL || path.join(__dirname, "..");

// A test file run on its own (`node --test __test__/x.test.js`) runs lib/ as it is now, not an
// older bundle (index.js loads bundle/clusterphone.js when it exists).
if (!process.env.CLUSTERPHONE_IMPL && cluster.isPrimary) require("../scripts/bundle").bundle();

// Captured at load so that bounds keep working while a test fakes the timers.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetImmediate = globalThis.setImmediate;

const started = new Set();

function isDead(worker) {
  const p = worker.process;
  return p.exitCode !== null || p.signalCode !== null;
}

/**
 * Forks a worker running `fixtures/<fixture>`.
 * options: env (merged into the worker's environment), args, serialization.
 */
function fork(fixture, options = {}) {
  cluster.setupPrimary({
    exec: path.join(__dirname, "fixtures", fixture),
    args: options.args || [],
    serialization: options.serialization || "json",
    silent: false,
  });
  const worker = cluster.fork(options.env || {});
  started.add(worker);
  worker.once("exit", () => started.delete(worker));
  return worker;
}

/** Kills (SIGKILL) one worker this file started and waits for its exit event. */
async function kill(worker) {
  if (!worker || isDead(worker)) return;
  const exited = once(worker, "exit");
  try {
    worker.process.kill("SIGKILL");
  } catch {
    return;
  }
  await withTimeout(exited, 5000, `worker pid ${worker.process.pid} to exit after SIGKILL`).catch(() => {});
}

/** Kills every worker this file started that is still alive. */
async function cleanup() {
  await Promise.all([...started].map(kill));
}

// Last resort: never leave our own workers behind.
process.on("exit", () => {
  for (const worker of started) {
    try {
      process.kill(worker.process.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/**
 * Bounds a wait. The failure message deliberately avoids the words "timed out"
 * so that it can never satisfy an assertion about the library's own timeouts.
 */
function withTimeout(promise, ms, what) {
  let timer;
  const bound = new Promise((_, reject) => {
    timer = realSetTimeout(() => {
      reject(new Error(`TEST BOUND EXCEEDED: waited ${ms} ms for ${what}`));
    }, ms);
  });
  return Promise.race([Promise.resolve(promise), bound]).finally(() => realClearTimeout(timer));
}

/** Resolves with the array of arguments of the next `event` on `emitter`. */
function once(emitter, event) {
  return new Promise((resolve) => emitter.once(event, (...args) => resolve(args)));
}

/** Resolves when the worker emits "clusterphone:online" (listener attached now). */
function online(worker, ms = 10000) {
  return withTimeout(once(worker, "clusterphone:online"), ms, `worker ${worker.id} to emit clusterphone:online`);
}

/** Real-time sleep (unaffected by fake timers). */
function sleep(ms) {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** Lets pending I/O callbacks, immediates and promise jobs run (real immediates). */
async function flush(turns = 5) {
  for (let i = 0; i < turns; i++) {
    await new Promise((resolve) => realSetImmediate(resolve));
  }
}

/** Records the settlement of a promise without creating an unhandled rejection. */
function track(promise) {
  const state = { settled: false, status: "pending", value: undefined, reason: undefined };
  state.promise = Promise.resolve(promise).then(
    (value) => {
      Object.assign(state, { settled: true, status: "fulfilled", value });
      return state;
    },
    (reason) => {
      Object.assign(state, { settled: true, status: "rejected", reason });
      return state;
    },
  );
  return state;
}

/**
 * Collects the raw messages a worker sends (as the user's own "message"
 * listener sees them) and lets a test wait for one matching a predicate.
 */
function collectMessages(worker) {
  const messages = [];
  const waiters = [];
  worker.on("message", (message, handle) => {
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(message, handle)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  return {
    messages,
    waitFor(predicate, what, ms = 5000) {
      const found = messages.find((m) => predicate(m));
      if (found !== undefined) return Promise.resolve(found);
      return withTimeout(new Promise((resolve) => waiters.push({ predicate, resolve })), ms, what);
    },
  };
}

/**
 * Acknowledgement envelopes in the default namespace, per worker, as the primary's own
 * `cluster` 'message' listener sees them: a Map from Worker to the messages, kept from now on.
 */
function recordAcks() {
  const acksFrom = new Map();
  cluster.on("message", (worker, message) => {
    const envelope = message && message.__clusterphone;
    if (!envelope || !Object.prototype.hasOwnProperty.call(envelope, "ack") || envelope.ns !== "_") return;
    if (!acksFrom.has(worker)) acksFrom.set(worker, []);
    acksFrom.get(worker).push(message);
  });
  return acksFrom;
}

/**
 * Counts the batches `worker`'s channel carries to the primary (Node-internal, so no 'message'
 * listener sees them): `{ batches }`.
 */
function countBatches(worker) {
  const counter = { batches: 0 };
  worker.process.on("internalMessage", (message) => {
    if (message && message.cmd === "NODE_CLUSTERPHONE" && Array.isArray(message.h)) counter.batches++;
  });
  return counter;
}

/** Envelope helpers. */
function cp(message) {
  return message && typeof message === "object" && message.__clusterphone && typeof message.__clusterphone === "object"
    ? message.__clusterphone
    : null;
}

module.exports = {
  recordAcks,
  countBatches,
  ORACLE,
  IMPL,
  fork,
  kill,
  cleanup,
  isDead,
  withTimeout,
  once,
  online,
  sleep,
  flush,
  track,
  collectMessages,
  cp,
  realSetTimeout,
  realClearTimeout,
};
