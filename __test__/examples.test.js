"use strict";
// Every script in examples/ runs to completion and prints what its README section promises.

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { execFile } = require("node:child_process");
const path = require("node:path");
const { ORACLE } = require("./helpers");

const EXPECTED = {
  "basic.js": /^2 \+ 3 = 5$/m,
  "broadcast.js": /^(worker \d: fulfilled true\n){3}$/,
  "worker-to-worker.js": /^hello there, from worker 2 to worker 1$/m,
  "cancel.js": /^AbortError \(ERR_CLUSTERPHONE_ABORTED\)$/m,
  "backpressure.js": /^worker received 100000 messages$/m,
  "child-process.js": /^CHILD PROCESS$/m,
  "errors.js": /^fail: ERR_CLUSTERPHONE_HANDLER\nsilent: ERR_CLUSTERPHONE_TIMEOUT\nmissing: ERR_CLUSTERPHONE_UNHANDLED$/m,
};

for (const [script, expected] of Object.entries(EXPECTED)) {
  test(`examples/${script}`, { skip: ORACLE && "examples use 2.x", timeout: 60000 }, async () => {
    const stdout = await new Promise((resolve, reject) => {
      execFile(process.execPath, [path.join(__dirname, "..", "examples", script)], { timeout: 50000 }, (err, out, stderr) =>
        err ? reject(Object.assign(err, { stderr })) : resolve(out),
      );
    });
    assert.match(stdout, expected);
  });
}
