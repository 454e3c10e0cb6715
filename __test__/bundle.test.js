"use strict";
// `require("clusterphone")` runs bundle/clusterphone.js, lib/ as one file (scripts/bundle.js), so a
// worker loads it faster; without the bundle (a checkout not built yet) index.js runs lib/.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const Module = require("node:module");
const { ORACLE } = require("./helpers");
const { nativeTarget } = require("../lib/platform");
const { bundleSource, OUT_FILE } = require("../scripts/bundle");

const ROOT = path.join(__dirname, "..");
const SKIP = ORACLE && "the bundle of 2.x";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "clusterphone-bundletest-"));

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

// A primary that forks one worker, sends it an acknowledged message and prints the reply and the
// package files each side loaded.
const ROUND_TRIP = `
const cluster = require("node:cluster");
const pkg = process.argv[2];
const cp = require(pkg).ns("bundletest");
const loaded = () => Object.keys(require.cache).filter((f) => f.startsWith(pkg + require("node:path").sep)).map((f) => f.slice(pkg.length + 1)).sort();
if (cluster.isPrimary) {
  const worker = cluster.fork();
  const timer = setTimeout(() => { worker.process.kill("SIGKILL"); process.exit(2); }, 15000);
  cp.sendTo(worker, "echo", { n: 41 }).within(10000).ackd().then((reply) => {
    clearTimeout(timer);
    console.log(JSON.stringify({ reply, primary: loaded() }));
    worker.kill();
  });
} else {
  cp.handlers.echo = (payload, fd, ack) => ack({ n: payload.n + 1, loaded: loaded() });
}
`;

function roundTrip(pkg) {
  const script = path.join(scratch, "round-trip.js");
  fs.writeFileSync(script, ROUND_TRIP);
  const env = { ...process.env };
  for (const key of ["NODE_TEST_CONTEXT", "NODE_OPTIONS", "CLUSTERPHONE_NATIVE_PATH"]) delete env[key];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, pkg], { env, timeout: 20000 }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err, { message: `${err.message}\n${stderr}` })) : resolve(JSON.parse(stdout.trim().split("\n").pop())),
    );
  });
}

test("require('clusterphone') runs the bundle, in the primary and in a worker, and it is lib/ as it is now", { skip: SKIP, timeout: 30000 }, async () => {
  assert.equal(fs.readFileSync(OUT_FILE, "utf8"), bundleSource(), "bundle/clusterphone.js is out of date: run `npm run build:js`");
  const { reply, primary } = await roundTrip(ROOT);
  assert.equal(reply.n, 42);
  const packageJs = (files) => files.filter((f) => f.endsWith(".js") && f !== "binding.js");
  assert.deepEqual(packageJs(primary), ["bundle/clusterphone.js", "index.js"]);
  assert.deepEqual(packageJs(reply.loaded), ["bundle/clusterphone.js", "index.js"]);
});

test("without the bundle (a checkout not built yet), index.js runs lib/", { skip: SKIP, timeout: 30000 }, async () => {
  const pkg = path.join(scratch, "unbundled");
  fs.mkdirSync(pkg);
  const binary = nativeTarget().fileName;
  for (const file of ["package.json", "index.js", "lib", binary]) fs.cpSync(path.join(ROOT, file), path.join(pkg, file), { recursive: true });
  const { reply, primary } = await roundTrip(pkg);
  assert.equal(reply.n, 42);
  for (const files of [primary, reply.loaded]) {
    assert.ok(files.includes("lib/module.js"), files.join(", "));
    assert.ok(!files.some((f) => f.startsWith("bundle/")), files.join(", "));
  }
});

test("a bundle that fails to load is an error, not a silent fallback to lib/", { skip: SKIP, timeout: 30000 }, async () => {
  const pkg = path.join(scratch, "broken");
  fs.mkdirSync(path.join(pkg, "bundle"), { recursive: true });
  for (const file of ["package.json", "index.js", "lib"]) fs.cpSync(path.join(ROOT, file), path.join(pkg, file), { recursive: true });
  const cases = [
    ["throw new Error('the bundle broke')", /the bundle broke/],
    ["require('./not-there')", /Cannot find module '\.\/not-there'/],
  ];
  for (const [source, expected] of cases) {
    fs.writeFileSync(path.join(pkg, "bundle", "clusterphone.js"), source);
    const script = `try { require(${JSON.stringify(pkg)}); console.log("loaded") } catch (e) { console.log(e.message.split("\\n")[0]) }`;
    const out = await new Promise((resolve, reject) =>
      execFile(process.execPath, ["-e", script], { timeout: 20000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
    );
    assert.match(out, expected);
  }
});

/** Writes `files` ({ name: source }) into a fresh lib directory; returns its path. */
function libOf(files) {
  const dir = fs.mkdtempSync(path.join(scratch, "lib-"));
  for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), source);
  return dir;
}

/** Runs a bundle's text as a module; returns its exports. */
function run(source) {
  const module = new Module(path.join(scratch, "bundle", "x.js"));
  module._compile(source, module.id);
  return module.exports;
}

test("the bundler keeps each file a module (own scope, cycles as Node's loader has them) and drops comment lines only", { skip: SKIP }, () => {
  const dir = libOf({
    "module.js": [
      "'use strict'",
      "// a comment line",
      "/**",
      " * a doc comment",
      " */",
      "/** @type {number} */ const answer = require('./a').twice(21) // kept: code follows the comment",
      "const url = 'http://example.com' // '//' inside a string",
      "module.exports = { answer, url, cycle: require('./a').cycle(), scope: typeof local }",
    ].join("\n"),
    "a.js": "'use strict'\nconst local = 1\nconst b = require('./b')\nexports.twice = (n) => n * 2 * local\nexports.cycle = () => b.seenA()\n",
    "b.js": "'use strict'\nconst a = require('./a')\nexports.seenA = () => typeof a.twice\n",
  });
  const source = bundleSource(dir);
  assert.doesNotMatch(source, /a comment line|a doc comment/);
  assert.deepEqual(run(source), { answer: 42, url: "http://example.com", cycle: "function", scope: "undefined" });
});

test("the bundler refuses what it cannot rewrite safely", { skip: SKIP }, () => {
  assert.throws(() => bundleSource(libOf({ "module.js": "require('./sub/x')\n" })), /cannot rewrite/);
  assert.throws(() => bundleSource(libOf({ "module.js": "require('./missing')\n" })), /requires \.\/missing, which is not in lib/);
  assert.throws(() => bundleSource(libOf({ "module.js": "const s = `one\n// two\n`\n" })), /a string spans lines/);
});
