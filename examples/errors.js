// Branch on error codes: timeouts, handler errors, dead workers.
const cluster = require("node:cluster");
const clusterphone = require("..").ns("example");

if (cluster.isPrimary) {
  const worker = cluster.fork();
  // A message's timeout runs while it waits for the worker to start, so short ones wait for it.
  worker.once("clusterphone:online", async () => {
    for (const cmd of ["fail", "silent", "missing"]) {
      try {
        await clusterphone.sendTo(worker, cmd).within(200).acknowledged();
      } catch (err) {
        console.log(`${cmd}: ${err.code}`);
      }
    }
    worker.kill();
  });
} else {
  clusterphone.handlers.fail = () => {
    throw new Error("nope");
  };
  clusterphone.handlers.silent = () => {};
}
