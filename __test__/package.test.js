"use strict";
// What `npm install clusterphone` gives a user: the tarballs `npm run pack:local` writes (the root
// package and this platform's binary package) installed into a scratch project outside the source
// tree, offline, with no Rust toolchain on PATH; then a forked worker answers an acknowledged
// message through `require("clusterphone")` and through `import`. Also checks what the tarballs
// hold and that the platform packages, napi.targets and optionalDependencies agree.

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { execFile, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseTriple } = require("@napi-rs/cli");
const { ORACLE } = require("./helpers");
const { packLocal, npm } = require("../scripts/pack-local");
const { nativeTarget } = require("../lib/platform");

const ROOT = path.join(__dirname, "..");
const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const TARGET = nativeTarget();
const SKIP = ORACLE && "packages 2.x";

let scratch; // everything this file writes: packs/, project/, the npm cache and config
let packed; // packLocal()'s answer
let env; // the scratch project's environment

/** True when `dir` holds a Rust toolchain (or is one of rustup's directories). */
function hasRust(dir) {
  if (/[\\/]\.(cargo|rustup)([\\/]|$)/.test(dir)) return true;
  const exe = process.platform === "win32" ? ".exe" : "";
  return ["cargo", "rustc", "rustup"].some((name) => fs.existsSync(path.join(dir, name + exe)));
}

/** The environment of a user's project: no npm or test-runner state, no clusterphone or napi
 * overrides, no Rust on PATH, and its own empty npm cache and config. */
function scratchEnv() {
  const result = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|node_test_context$|node_options$|node_path$|clusterphone_|napi_rs_|cargo|rustup|rustc)/i.test(key)) continue;
    if (/^path$/i.test(key)) continue;
    result[key] = value;
  }
  const dirs = (process.env.PATH || process.env.Path || "").split(path.delimiter).filter((dir) => dir && !hasRust(dir));
  const nodeDir = path.dirname(process.execPath);
  if (!dirs.includes(nodeDir)) dirs.unshift(nodeDir);
  result.PATH = dirs.join(path.delimiter);
  result.npm_config_userconfig = path.join(scratch, "npmrc");
  result.npm_config_cache = path.join(scratch, "npm-cache");
  result.npm_config_update_notifier = "false";
  return result;
}

/** Runs `node file` in the scratch project; resolves with its stdout, bounded by `ms`. */
function runNode(file, ms) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [file], { cwd: path.join(scratch, "project"), env, timeout: ms }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err, { message: `${err.message}\n${stderr}` })) : resolve(stdout),
    );
  });
}

// The user's program, run as a cluster primary that forks itself: the worker answers "ping" and
// reports which binary it loaded; the primary prints the reply and its own binary, then stops.
const CJS_APP = `"use strict";
const cluster = require("node:cluster");
const clusterphone = require("clusterphone").ns("pkgtest");
const binaries = () => Object.keys(require.cache).filter((file) => file.endsWith(".node"));
if (cluster.isPrimary) {
  const worker = cluster.fork();
  clusterphone.sendTo(worker, "ping", { n: 41 }).within(20000).acknowledged().then(
    (reply) => console.log(JSON.stringify({ reply, binaries: binaries(), resolved: require.resolve("clusterphone") })),
    (err) => { console.error(err); process.exitCode = 1; },
  ).finally(() => worker.kill());
} else {
  clusterphone.handlers.ping = (payload, handle, ack) => ack({ pong: payload.n + 1, binaries: binaries() });
}
`;
const ESM_APP = `import cluster from "node:cluster";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import clusterphone, { ns } from "clusterphone";
const binaries = () => Object.keys(createRequire(import.meta.url).cache).filter((file) => file.endsWith(".node"));
const phone = ns("pkgtest-esm");
if (typeof clusterphone.ns !== "function" || phone !== clusterphone.ns("pkgtest-esm")) throw new Error("bad exports");
if (cluster.isPrimary) {
  const worker = cluster.fork();
  phone.sendTo(worker, "ping", { n: 1 }).within(20000).acknowledged().then(
    (reply) => console.log(JSON.stringify({ reply, binaries: binaries(), resolved: fileURLToPath(import.meta.resolve("clusterphone")) })),
    (err) => { console.error(err); process.exitCode = 1; },
  ).finally(() => worker.kill());
} else {
  phone.handlers.ping = (payload, handle, ack) => ack({ pong: payload.n + 1, binaries: binaries() });
}
`;

before(
  () => {
    if (SKIP) return;
    scratch = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), "clusterphone-pkgtest-"));
    assert.ok(path.relative(ROOT, scratch).startsWith(".."), `scratch dir ${scratch} is inside the source tree`);
    env = scratchEnv();
    packed = packLocal({ build: false, outDir: path.join(scratch, "packs") });
    const project = path.join(scratch, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(scratch, "npmrc"), "");
    fs.writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "scratch", version: "0.0.0", private: true }));
    fs.writeFileSync(path.join(project, "app.js"), CJS_APP);
    fs.writeFileSync(path.join(project, "app.mjs"), ESM_APP);
    // Offline with an empty cache: the packages come from the two tarballs only, and the other
    // platforms' optional dependencies (unpublished, or not for this machine) are skipped.
    const tarballs = [packed.root.file, packed.platform.file].map((file) => path.relative(project, file).split(path.sep).join("/"));
    npm(["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs], { cwd: project, env, timeout: 60000 });
  },
  { timeout: 80000 },
);

after(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

test("napi.targets, npm/<triple>/ and optionalDependencies agree, at the root's version", { skip: SKIP }, () => {
  assert.equal(MANIFEST.napi.binaryName, "clusterphone");
  const triples = MANIFEST.napi.targets.map((t) => parseTriple(t).platformArchABI).sort();
  assert.deepEqual(fs.readdirSync(path.join(ROOT, "npm")).sort(), triples);
  assert.deepEqual(
    MANIFEST.optionalDependencies,
    Object.fromEntries(Object.keys(MANIFEST.optionalDependencies).map((name) => [name, MANIFEST.version])),
  );
  assert.deepEqual(Object.keys(MANIFEST.optionalDependencies).sort(), triples.map((t) => `clusterphone-${t}`).sort());
  for (const triple of triples) {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "npm", triple, "package.json"), "utf8"));
    assert.equal(pkg.name, `clusterphone-${triple}`);
    assert.equal(pkg.version, MANIFEST.version);
    assert.equal(pkg.main, `clusterphone.${triple}.node`);
    assert.deepEqual(pkg.files, [`clusterphone.${triple}.node`]);
  }
});

test("the library announces package.json's version on process.__clusterphone without reading package.json", { skip: SKIP }, () => {
  // lib/shared.js carries the version (scripts/sync-versions.js writes it on `npm version`).
  const script = `require(${JSON.stringify(ROOT)}); console.log(process.__clusterphone.version)`;
  assert.equal(execFileSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 20000 }).trim(), MANIFEST.version);
  const loaded = execFileSync(process.execPath, ["-e", `require(${JSON.stringify(ROOT)}); console.log(Object.keys(require.cache).filter((f) => f.endsWith("package.json")).join(","))`], { encoding: "utf8", timeout: 20000 });
  assert.equal(loaded.trim(), "", "no package.json is read when the library loads");
});

test("index.d.mts re-exports every type index.d.ts names, so ESM TypeScript users can import any of them", { skip: SKIP }, () => {
  const cjs = fs.readFileSync(path.join(ROOT, "index.d.ts"), "utf8");
  const esm = fs.readFileSync(path.join(ROOT, "index.d.mts"), "utf8");
  // A declared namespace exports every member, `export` written or not.
  const named = [...cjs.matchAll(/^  (?:export )?(?:type|interface) (\w+)/gm)].map((m) => m[1]).sort();
  const list = esm.match(/export type \{([^}]*)\} from '\.\/index\.js'/);
  assert.ok(list, "index.d.mts has an `export type { ... } from './index.js'` list");
  const reexported = list[1].split(",").map((name) => name.trim()).filter(Boolean).sort();
  assert.ok(named.length > 20, `found the types of index.d.ts (${named.length})`);
  assert.deepEqual(reexported, named);
});

test("the root tarball holds the JS layer (lib/ and its one-file bundle), typings and loader only", { skip: SKIP }, () => {
  const lib = fs.readdirSync(path.join(ROOT, "lib"), { recursive: true })
    .map((f) => `lib/${f.split(path.sep).join("/")}`)
    .filter((f) => fs.statSync(path.join(ROOT, f)).isFile());
  const expected = ["README.md", "binding.js", "bundle/clusterphone.js", "index.d.mts", "index.d.ts", "index.js", "index.mjs", "package.json", ...lib].sort();
  assert.deepEqual(packed.root.files, expected);
  for (const file of packed.root.files) {
    assert.doesNotMatch(file, /^(src|target|__test__|npm|scripts|bench|examples|node_modules|\.ci|\.github)\//);
    assert.doesNotMatch(file, /\.node$|^Cargo\.|\.rs$|\.test\.js$/);
  }
  assert.equal(path.basename(packed.root.file), `clusterphone-${MANIFEST.version}.tgz`);
});

test("the platform tarball holds this platform's binary", { skip: SKIP }, () => {
  assert.deepEqual(packed.platform.files, ["README.md", TARGET.fileName, "package.json"].sort());
  assert.equal(path.basename(packed.platform.file), `${TARGET.packageName}-${MANIFEST.version}.tgz`);
});

test("the scratch project has no Rust toolchain on PATH", { skip: SKIP }, () => {
  for (const dir of env.PATH.split(path.delimiter)) assert.ok(!hasRust(dir), `${dir} holds a Rust toolchain`);
});

for (const [label, file, entry] of [
  ['require("clusterphone")', "app.js", "index.js"],
  ['import ... from "clusterphone"', "app.mjs", "index.mjs"],
]) {
  test(`installed from the tarballs, ${label} round-trips an acknowledged message with a forked worker`, { skip: SKIP, timeout: 40000 }, async () => {
    const out = await runNode(file, 30000);
    const { reply, binaries, resolved } = JSON.parse(out.trim().split("\n").pop());
    const modules = path.join(scratch, "project", "node_modules");
    const binary = path.join(modules, TARGET.packageName, TARGET.fileName);
    assert.equal(reply.pong, label.startsWith("require") ? 42 : 2);
    assert.equal(resolved, path.join(modules, "clusterphone", entry));
    assert.deepEqual(binaries, [binary], "the primary loads the binary package's .node");
    assert.deepEqual(reply.binaries, [binary], "the worker loads the binary package's .node");
  });
}
