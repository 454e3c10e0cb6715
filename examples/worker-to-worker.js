// One worker asks another directly (the primary relays); the handler sees who asked.
const cluster = require("node:cluster");
const clusterphone = require("..").ns("example");

if (cluster.isPrimary) {
  const first = cluster.fork();
  const second = cluster.fork();
  second.on("clusterphone:online", () => {
    clusterphone.sendTo(first, "askOther", second.id).acknowledged().then((answer) => {
      console.log(answer);
      first.kill();
      second.kill();
    });
  });
} else {
  clusterphone.handlers.hello = (name, handle, ack, from) => ack(`hello ${name}, from worker ${cluster.worker.id} to worker ${from}`);
  clusterphone.handlers.askOther = async (otherId) => clusterphone.sendToWorker(otherId, "hello", "there").within(5000).acknowledged();
}
