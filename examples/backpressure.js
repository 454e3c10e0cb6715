// Stream many messages without growing memory: wait when the channel's write queue is full.
const cluster = require("node:cluster");
const clusterphone = require("..");
const app = clusterphone.ns("example");

if (cluster.isPrimary) {
  const worker = cluster.fork();
  worker.on("clusterphone:online", async () => {
    const payload = { pad: "x".repeat(512) };
    for (let i = 0; i < 100000; i++) {
      app.sendTo(worker, "item", payload);
      if (i % 64 === 63) await clusterphone.whenWritable(worker);
    }
    const received = await app.sendTo(worker, "count").within(30000).acknowledged();
    console.log(`worker received ${received} messages`);
    worker.kill();
  });
} else {
  let count = 0;
  app.handlers.item = () => {
    count++;
  };
  app.handlers.count = async () => count;
}
