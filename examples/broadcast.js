// Ask every worker at once and gather one entry per worker, like Promise.allSettled.
const cluster = require("node:cluster");
const clusterphone = require("..").ns("example");

if (cluster.isPrimary) {
  const workers = [cluster.fork(), cluster.fork(), cluster.fork()];
  let ready = 0;
  for (const worker of workers) {
    worker.on("clusterphone:online", async () => {
      if (++ready < workers.length) return;
      const entries = await clusterphone.broadcast("pid").within(5000).acknowledged();
      for (const { worker, status, value, reason } of entries) {
        console.log(`worker ${worker.id}: ${status} ${status === "fulfilled" ? value > 0 : reason.message}`);
      }
      for (const worker of workers) worker.kill();
    });
  }
} else {
  clusterphone.handlers.pid = async () => process.pid;
}
