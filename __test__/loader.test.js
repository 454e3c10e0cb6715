"use strict";
// When no native binary fits, loading clusterphone throws an Error that names the platform, arch
// and libc, the binary package it looked for and how to build from source.

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { parseTriple } = require("@napi-rs/cli");
const { ORACLE } = require("./helpers");
const { nativeTarget, tripleFor } = require("../lib/platform");

const ROOT = path.join(__dirname, "..");
const TARGET = nativeTarget();
const SKIP = ORACLE && "the loader of 2.x";
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "clusterphone-loadertest-"));

after(() => fs.rmSync(scratch, { recursive: true, force: true }));

function childEnv(env) {
  const result = { ...process.env, ...env };
  for (const key of ["NODE_TEST_CONTEXT", "NODE_OPTIONS", "NODE_PATH", "NAPI_RS_NATIVE_LIBRARY_PATH"]) delete result[key];
  if (!("CLUSTERPHONE_NATIVE_PATH" in env)) delete result.CLUSTERPHONE_NATIVE_PATH;
  return result;
}

/** Requires `entry` in a fresh node; resolves with what it threw. */
function requireError(entry, env = {}) {
  const script = `try { require(${JSON.stringify(entry)}); console.log("{}") } catch (e) {
    console.log(JSON.stringify({ isError: e instanceof Error, message: e.message, code: e.code, libc: e.libc,
      packageName: e.packageName, cause: e.cause && e.cause.message })) }`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["-e", script], { env: childEnv(env), cwd: scratch, timeout: 20000 }, (err, stdout, stderr) =>
      err ? reject(Object.assign(err, { message: `${err.message}\n${stderr}` })) : resolve(JSON.parse(stdout)),
    );
  });
}

/** Imports `entry` in a fresh node (a static import, as a user's module would); resolves with
 * the uncaught error as node prints it. */
function importError(entry) {
  const script = `import ${JSON.stringify(require("node:url").pathToFileURL(entry).href)}`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--input-type=module", "-e", script], { env: childEnv({}), cwd: scratch, timeout: 20000 }, (err, stdout, stderr) => {
      if (!err) return reject(new Error("the import succeeded"));
      const field = (name) => (stderr.match(new RegExp(`^  ${name}: '([^']*)'`, "m")) || [])[1];
      resolve({ isError: /^Error: clusterphone:/m.test(stderr), message: stderr, code: field("code"), libc: field("libc"),
        packageName: field("packageName"), cause: /\[cause\]/.test(stderr) });
    });
  });
}

function assertNamesEverything(error, { lookedFor }) {
  assert.equal(error.isError, true, "an Error");
  assert.equal(error.code, "ERR_CLUSTERPHONE_NATIVE_MISSING");
  assert.match(error.message, new RegExp(`platform: ${process.platform}\\b`));
  assert.match(error.message, new RegExp(`arch: ${process.arch}\\b`));
  assert.ok(error.message.includes(`libc: ${TARGET.libc || "n/a"}`), error.message);
  if (process.platform === "linux") assert.ok(["glibc", "musl"].includes(error.libc));
  assert.equal(error.packageName, TARGET.packageName);
  assert.ok(error.message.includes(TARGET.packageName), `names ${TARGET.packageName}: ${error.message}`);
  assert.ok(error.message.includes(lookedFor), `names ${lookedFor}: ${error.message}`);
  assert.match(error.message, /build it from source: install the Rust toolchain \(https:\/\/rustup\.rs\)/);
  assert.match(error.message, /run `npm install` there/);
  assert.ok(error.cause, "keeps the underlying error as its cause");
}

test("CLUSTERPHONE_NATIVE_PATH pointing at a missing binary: require throws naming platform, arch, libc, package", { skip: SKIP, timeout: 30000 }, async () => {
  const missing = path.join(scratch, "nonexistent", TARGET.fileName);
  const error = await requireError(ROOT, { CLUSTERPHONE_NATIVE_PATH: missing });
  assertNamesEverything(error, { lookedFor: `CLUSTERPHONE_NATIVE_PATH=${missing}` });
});

test("a package without any binary (no build, no platform package): require and import throw the same", { skip: SKIP, timeout: 30000 }, async () => {
  // The root package as published (the JS files only) with nothing beside it to load.
  const pkg = path.join(scratch, "clusterphone");
  for (const file of ["package.json", "index.js", "index.mjs", "binding.js", "lib"]) {
    const from = path.join(ROOT, file);
    if (fs.existsSync(from)) fs.cpSync(from, path.join(pkg, file), { recursive: true });
  }
  const lookedFor = `${TARGET.fileName} in ${pkg}, and the package ${TARGET.packageName}`;
  assertNamesEverything(await requireError(pkg), { lookedFor });
  assertNamesEverything(await importError(path.join(pkg, "index.mjs")), { lookedFor });
});

test("the triple the loader looks for is napi-rs's name for each published target", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  for (const triple of manifest.napi.targets) {
    const { platform, arch, abi, platformArchABI } = parseTriple(triple);
    assert.equal(tripleFor(platform, arch, abi === "musl" ? "musl" : platform === "linux" ? "glibc" : null), platformArchABI, triple);
  }
  assert.equal(tripleFor("linux", "arm", "glibc"), "linux-arm-gnueabihf");
  assert.equal(tripleFor("win32", "arm64", null), "win32-arm64-msvc");
});
