// Request/reply between the primary and a worker, with a timeout.
const cluster = require("node:cluster");
const clusterphone = require("..").ns("example");

if (cluster.isPrimary) {
  const worker = cluster.fork();
  // Sent at once; queued until the worker is ready.
  clusterphone
    .sendTo(worker, "add", { a: 2, b: 3 })
    .within(5000)
    .acknowledged()
    .then((sum) => {
      console.log(`2 + 3 = ${sum}`);
      worker.kill();
    });
} else {
  clusterphone.handlers.add = ({ a, b }, handle, ack) => ack(a + b);
}
