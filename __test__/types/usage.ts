// Compiled with `tsc --noEmit` in `npm test`: the public typings accept real usage and reject misuse.
// This file: untyped namespaces (no command map) and the module. Typed namespaces: typed.ts;
// errors: errors.ts; ESM: esm.mts.
import cluster from 'node:cluster'
import net from 'node:net'
import { fork } from 'node:child_process'
import clusterphone = require('../..')
import type { Assert, Equal } from './assert'

const app = clusterphone.ns('myapp')
const same: typeof app = clusterphone('myapp')
void same
type _untyped = Assert<Equal<typeof app, clusterphone.Namespace>>
type _untypedToo = Assert<Equal<clusterphone.Namespace, clusterphone.UntypedNamespace>>
clusterphone.ackTimeout = 500
// Typed as a number, which reads back as one (a string is 1.x JavaScript's habit, parsed at runtime).
const doubled: number = clusterphone.ackTimeout * 2
void doubled
// @ts-expect-error: TypeScript takes a number
clusterphone.ackTimeout = '700'
// The module is the default namespace and more.
const module_: clusterphone.Clusterphone = clusterphone
const asNamespace: clusterphone.Namespace = clusterphone
void [module_, asNamespace]

if (cluster.isPrimary) {
  const worker = cluster.fork()
  app.handlers.hello = (w: typeof worker, payload: { n: number }, handle: clusterphone.SendHandle | undefined, ack: clusterphone.Ack) => {
    ack(null, { hello: w.id + payload.n })
    void handle
  }
  // Untyped handlers take any function; annotate for parameter types.
  app.handlers.any = () => 'ignored'
  app.handlers.typed = ((peer, payload, _handle, ack) => {
    type _peer = Assert<Equal<typeof peer, clusterphone.Peer>>
    ack(payload)
  }) satisfies clusterphone.PrimaryHandler
  const reply: Promise<{ hello: string }> = app.sendTo<{ hello: string }>(worker, 'hello', { n: 1 }).within(5000).acknowledged()
  void reply
  app.sendTo(worker, 'sock', {}, net.createServer(), true).ackd((err, value) => {
    if (err) console.log(err.isOperational, err.origMessage, err.origStack, err.code)
    void value
  })
  app.sendTo(worker, 'x').acknowledged().then((r) => r).error((err) => err.message)
  // A command is turned into a string (42 is "42"); a null handle is no handle.
  app.sendTo(worker, 42, {}, null).ackd()
  clusterphone.broadcast(7)
  app.sendTo(worker, 'x').acknowledged().finally(() => {}).error(() => 0)
  const anyReply = app.sendTo(worker, 'x').acknowledged()
  type _any = Assert<Equal<typeof anyReply, clusterphone.AckPromise<any>>>

  // signal(): fluent, like within()
  const controller = new AbortController()
  app.sendTo(worker, 'slow', 1).signal(controller.signal).within('1000').signal(AbortSignal.timeout(50)).ackd()
  controller.abort()

  // A child of child_process.fork() / clusterphone.fork() is a peer too.
  const child = fork('./child.js')
  const child2 = clusterphone.fork('./child.js', { execArgv: [] })
  app.sendTo(child, 'hello', { n: 2 }).ackd()
  clusterphone.sendTo(child2, 'hello').ackd()
  clusterphone.whenWritable(child).then(() => app.sendTo(child, 'more'))
  const writable: Promise<void> = clusterphone.whenWritable(worker)
  void writable

  // broadcast
  app
    .broadcast<number>('count')
    .within(100)
    .acknowledged()
    .then((results) => {
      for (const r of results) {
        if (r.status === 'fulfilled') {
          const n: number = r.value
          void [n, r.worker.id]
        } else {
          void r.reason.code
        }
      }
    })
  clusterphone.broadcast('reload', { hard: true }).ackd((err, results) => void (err ?? results?.length))

  // @ts-expect-error: within takes milliseconds
  app.sendTo(worker, 'x').within({})
  // @ts-expect-error: a worker is required
  app.sendTo('x')
  // @ts-expect-error: a worker is required (not a worker id)
  app.sendTo(1, 'x')
  // @ts-expect-error: signal takes an AbortSignal, not its controller
  app.sendTo(worker, 'x').signal(controller)
  // @ts-expect-error: the explicit reply type is checked where the promise goes
  const wrong: Promise<string> = app.sendTo<number>(worker, 'x').acknowledged()
  // @ts-expect-error: broadcast has no peer argument
  app.broadcast(worker, 'x')
  // @ts-expect-error: broadcast results are an array
  const notArray: Promise<number> = app.broadcast<number>('x').ackd()
  // @ts-expect-error: whenWritable takes a peer, not a worker id
  clusterphone.whenWritable(1)
  // @ts-expect-error: whenWritable is on the module, not on other namespaces
  app.whenWritable(worker)
  // @ts-expect-error: acknowledged's callback is Node style
  app.sendTo(worker, 'x').acknowledged((reply: string) => reply)
  void [wrong, notArray]
} else {
  clusterphone.handlers.echo = async (payload: unknown) => payload
  clusterphone.sendToMaster('ready', { pid: process.pid }).ackd()
  clusterphone.sendToMaster(42, undefined, null).ackd()
  clusterphone.sendToMaster('sock', null, new net.Socket()).signal(AbortSignal.timeout(100)).ackd()
  app.sendToWorker(2, 'hello', { n: 1 }).within(100).ackd()
  const relayed: Promise<string> = clusterphone.sendToWorker<string>(3, 'ping').acknowledged()
  void relayed
  // Relayed messages say which worker sent them.
  app.handlers.hello = ((payload, _handle, ack, from) => {
    type _from = Assert<Equal<typeof from, number | undefined>>
    ack(from === undefined ? payload : { from, payload })
  }) satisfies clusterphone.WorkerHandler
  clusterphone.whenWritable().then(() => clusterphone.sendToMaster('drained'))
  // @ts-expect-error: a worker id is a number
  app.sendToWorker(cluster.worker, 'hello')
  // @ts-expect-error: the command is required
  clusterphone.sendToMaster()
}
