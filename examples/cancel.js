// Cancel an acknowledgement with an AbortSignal; a message still queued is then never sent.
const cluster = require("node:cluster");
const clusterphone = require("..").ns("example");

if (cluster.isPrimary) {
  const worker = cluster.fork();
  const controller = new AbortController();
  const slow = clusterphone.sendTo(worker, "slow").signal(controller.signal).within(60000).acknowledged();
  setTimeout(() => controller.abort(), 100);
  slow.catch((err) => {
    console.log(`${err.name} (${err.code})`);
    worker.kill();
  });
} else {
  clusterphone.handlers.slow = () => {}; // never answers
}
