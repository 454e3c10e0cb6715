// Compiled with `tsc --noEmit` in `npm test`: the public typings accept real usage and reject misuse.
import cluster from 'node:cluster'
import net from 'node:net'
import clusterphone = require('../..')

const app = clusterphone.ns('myapp')
const same: typeof app = clusterphone('myapp')
void same
clusterphone.ackTimeout = 500

if (cluster.isPrimary) {
  const worker = cluster.fork()
  app.handlers.hello = (w: typeof worker, payload: { n: number }, handle: clusterphone.SendHandle | undefined, ack: clusterphone.Ack) => {
    ack(null, { hello: w.id + payload.n })
    void handle
  }
  const reply: Promise<{ hello: string }> = app.sendTo<{ hello: string }>(worker, 'hello', { n: 1 }).within(5000).acknowledged()
  void reply
  app.sendTo(worker, 'sock', {}, net.createServer(), true).ackd((err, value) => {
    if (err) console.log(err.isOperational, err.origMessage, err.origStack)
    void value
  })
  app.sendTo(worker, 'x').acknowledged().then((r) => r).error((err) => err.message)
  // @ts-expect-error: within takes milliseconds
  app.sendTo(worker, 'x').within({})
  // @ts-expect-error: a worker is required
  app.sendTo('x')
} else {
  clusterphone.handlers.echo = async (payload: unknown) => payload
  clusterphone.sendToMaster('ready', { pid: process.pid }).ackd()
}
