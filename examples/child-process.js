// A child_process.fork() child as a peer: the same API as a cluster worker.
const clusterphone = require("..");

if (process.env.CLUSTERPHONE_CHILD !== "1") {
  const child = clusterphone.fork(__filename);
  clusterphone.sendTo(child, "upper", "child process").within(5000).acknowledged().then((reply) => {
    console.log(reply);
    child.kill();
  });
} else {
  clusterphone.handlers.upper = (text, handle, ack) => ack(text.toUpperCase());
}
