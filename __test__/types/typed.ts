// Typed namespaces: `ns<Commands>(name)`. Compiled with `tsc --noEmit`; every `@ts-expect-error`
// line must fail to compile, everything else must compile.
import cluster from 'node:cluster'
import net from 'node:net'
import { fork as forkChild, type ChildProcess } from 'node:child_process'
import type { Worker } from 'node:cluster'
import clusterphone = require('../..')
import type { Assert, Equal } from './assert'

interface Config {
  port: number
}

/** The application's protocol: who handles what, with what payload and reply. */
interface AppCommands {
  // worker → primary
  getConfig: { payload: { section: string }; reply: Config; to: 'primary' }
  log: { payload: string; to: 'primary' } // no reply
  // primary → worker(s), and worker → worker with sendToWorker
  recycle: { payload: void; reply: boolean; to: 'worker' }
  resize: { payload: number; reply: { width: number }; to: 'worker' }
  // either way: no `to`
  echo: { payload: string; reply: string }
  stats: { reply: number[] } // no payload
  maybe: { payload: number | undefined; reply: string | undefined }
}

const app = clusterphone.ns<AppCommands>('app')
type _ns = Assert<Equal<typeof app, clusterphone.Namespace<AppCommands>>>
// The callable form is the same.
const same = clusterphone<AppCommands>('app')
type _same = Assert<Equal<typeof same, typeof app>>
// A type alias works as well as an interface.
type AliasCommands = { ping: { payload: number; reply: 'pong' } }
const aliased = clusterphone.ns<AliasCommands>('alias')
type _aliased = Assert<Equal<ReturnType<typeof aliased.sendToMaster<'ping'>>, clusterphone.Message<'pong'>>>

// --- Helper types ---------------------------------------------------------------------------
type _payload = Assert<Equal<clusterphone.PayloadOf<AppCommands['getConfig']>, { section: string }>>
type _noPayload = Assert<Equal<clusterphone.PayloadOf<AppCommands['stats']>, undefined>>
type _reply = Assert<Equal<clusterphone.ReplyOf<AppCommands['getConfig']>, Config>>
type _noReply = Assert<Equal<clusterphone.ReplyOf<AppCommands['log']>, void>>
type _toWorker = Assert<Equal<clusterphone.CommandsTo<AppCommands, 'worker'>, 'recycle' | 'resize' | 'echo' | 'stats' | 'maybe'>>
type _toPrimary = Assert<Equal<clusterphone.CommandsTo<AppCommands, 'primary'>, 'getConfig' | 'log' | 'echo' | 'stats' | 'maybe'>>

// --- Command maps that are not command maps --------------------------------------------------
// @ts-expect-error: a command must be an object of payload/reply/to
clusterphone.ns<{ ping: number }>('bad')
// @ts-expect-error: `paylod` is a typo (no known key)
clusterphone.ns<{ ping: { paylod: number } }>('bad')
// @ts-expect-error: `to` is 'primary' or 'worker'
clusterphone.ns<{ ping: { payload: number; to: 'master' } }>('bad')
// @ts-expect-error: the role view's role is 'primary' or 'worker'
clusterphone.ns<AppCommands, 'parent'>('bad')

if (cluster.isPrimary) {
  const worker = cluster.fork()
  const child: ChildProcess = clusterphone.fork('./child.js', ['--x'], { silent: true })
  const plainChild = forkChild('./child.js')

  // --- Sending (primary) ---------------------------------------------------------------------
  const recycled = app.sendTo(worker, 'recycle').within(1000).acknowledged()
  type _recycled = Assert<Equal<typeof recycled, clusterphone.AckPromise<boolean>>>
  app.sendTo(worker, 'recycle', undefined) // a void payload may be given as undefined
  const width: Promise<{ width: number }> = app.sendTo(child, 'resize', 80).ackd()
  app.sendTo(plainChild, 'echo', 'hi', net.createServer(), true).ackd((err, reply) => {
    if (err) return void err.code
    type _cb = Assert<Equal<typeof reply, string | undefined>>
  })
  app.sendTo(worker, 'stats').acknowledged().then((numbers) => numbers.map((n) => n + 1))
  app.sendTo(worker, 'maybe') // optional: `undefined` is a valid payload
  app.sendTo(worker, 'maybe', 3)
  void width

  // @ts-expect-error: no such command
  app.sendTo(worker, 'nope')
  // @ts-expect-error: getConfig is handled by the primary: a worker is never sent it
  app.sendTo(worker, 'getConfig', { section: 'db' })
  // @ts-expect-error: wrong payload type
  app.sendTo(worker, 'resize', '80')
  // @ts-expect-error: the payload is required
  app.sendTo(worker, 'resize')
  // @ts-expect-error: the payload of `recycle` is void
  app.sendTo(worker, 'recycle', 1)
  // @ts-expect-error: a worker is required
  app.sendTo('resize', 80)
  // @ts-expect-error: not a peer
  app.sendTo({ id: 1 }, 'resize', 80)
  // @ts-expect-error: the reply of resize is { width }, not a string
  const wrongReply: Promise<string> = app.sendTo(worker, 'resize', 80).acknowledged()
  // @ts-expect-error: a typed namespace takes no explicit reply type
  app.sendTo<string>(worker, 'resize', 80)
  // @ts-expect-error: within takes milliseconds
  app.sendTo(worker, 'stats').within({})
  // @ts-expect-error: signal takes an AbortSignal
  app.sendTo(worker, 'stats').signal(new AbortController())
  void wrongReply

  // --- Broadcast -------------------------------------------------------------------------------
  const controller = new AbortController()
  app
    .broadcast('resize', 100)
    .within(500)
    .signal(controller.signal)
    .acknowledged()
    .then((results) => {
      for (const result of results) {
        const w: Worker = result.worker
        if (result.status === 'fulfilled') {
          const n: number = result.value.width
          void n
        } else {
          const code: clusterphone.ErrorCode = result.reason.code
          void code
        }
        void w
      }
    })
  const everyone = app.broadcast('recycle').ackd()
  type _everyone = Assert<Equal<typeof everyone, clusterphone.AckPromise<Array<clusterphone.BroadcastResult<boolean>>>>>
  // @ts-expect-error: getConfig is handled by the primary
  app.broadcast('getConfig', { section: 'db' })
  // @ts-expect-error: wrong payload type
  app.broadcast('resize', 'big')
  // @ts-expect-error: a broadcast gives an array of outcomes, not one reply
  const notOne: Promise<boolean> = app.broadcast('recycle').acknowledged()
  void notOne

  // --- Handlers in the primary ---------------------------------------------------------------
  // `to: 'primary'`: contextual types for every parameter.
  app.handlers.getConfig = (peer, payload, handle, ack) => {
    type _peer = Assert<Equal<typeof peer, Worker | ChildProcess>>
    type _payload = Assert<Equal<typeof payload, { section: string }>>
    type _handle = Assert<Equal<typeof handle, clusterphone.SendHandle | undefined>>
    if ('id' in peer) void peer.id // narrows to a cluster Worker
    if (payload.section === 'none') ack(new Error('no such section'), undefined) // Node style error
    else ack(null, { port: 8080 }) // Node style reply
  }
  app.handlers.getConfig = async (_peer, { section }) => ({ port: section.length }) // a thenable of the reply
  app.handlers.getConfig = (_peer, _payload, _handle, ack) => ack({ port: 1 }) // ack(reply)
  app.handlers.getConfig = (_peer, _payload, _handle, ack) => ack(Promise.resolve({ port: 1 })) // ack(thenable)
  app.handlers.log = (_peer, line, _handle, ack) => {
    console.log(line.toUpperCase())
    ack() // no reply
  }
  app.handlers.log = async (_peer, line) => {
    console.log(line)
  }
  delete app.handlers.log

  // @ts-expect-error: handlers exist only for the namespace's commands
  app.handlers.nope = () => {}
  // @ts-expect-error: the payload is { section: string }
  app.handlers.getConfig = (_peer: clusterphone.Peer, payload: number) => void payload
  // @ts-expect-error: the reply is a Config
  app.handlers.getConfig = (_peer, _payload, _handle, ack) => ack('port 80')
  // @ts-expect-error: one argument is always the reply: Node-style errors need two
  app.handlers.getConfig = (_peer, _payload, _handle, ack) => ack(new Error('x'))
  // @ts-expect-error: a Config is required (the reply may not be undefined)
  app.handlers.getConfig = (_peer, _payload, _handle, ack) => ack()
  // @ts-expect-error: a thenable of the wrong reply type
  app.handlers.getConfig = async () => 'port 80'
  // @ts-expect-error: a plain return value is no acknowledgement (the sender would time out)
  app.handlers.getConfig = () => ({ port: 1 })
  // @ts-expect-error: getConfig runs in the primary: its first parameter is the peer, not the payload
  app.handlers.getConfig = (payload: { section: string }) => void payload

  // A command without `to` goes both ways: annotate which side's handler this is.
  app.handlers.echo = ((peer, text, _handle, ack) => {
    type _peer = Assert<Equal<typeof peer, clusterphone.Peer>>
    ack(text.toUpperCase())
  }) satisfies clusterphone.PrimaryHandler<AppCommands['echo']>
  const stats: clusterphone.PrimaryHandler<AppCommands['stats']> = async (_peer, payload) => {
    type _none = Assert<Equal<typeof payload, undefined>>
    return [1, 2, 3]
  }
  app.handlers.stats = stats
  // @ts-expect-error: without `to` or an annotation the handler's parameters have no types
  app.handlers.echo = (peer, text) => void [peer, text]
  // @ts-expect-error: the annotation still checks the reply
  app.handlers.echo = (async () => 42) satisfies clusterphone.PrimaryHandler<AppCommands['echo']>

  // --- The primary's role view ---------------------------------------------------------------
  const primary = clusterphone.ns<AppCommands, 'primary'>('app')
  type _primary = Assert<Equal<typeof primary, clusterphone.PrimaryNamespace<AppCommands>>>
  const primaryCallable = clusterphone<AppCommands, 'primary'>('app')
  type _primaryCallable = Assert<Equal<typeof primaryCallable, typeof primary>>
  primary.handlers.echo = (peer, text, handle, ack) => {
    const p: clusterphone.Peer = peer
    const s: string = text
    void [p, s, handle]
    ack(text)
  }
  primary.handlers.stats = async () => [1]
  primary.handlers.maybe = (_peer, n, _handle, ack) => ack(n === undefined ? undefined : String(n))
  primary.sendTo(worker, 'resize', 3).ackd()
  primary.broadcast('echo', 'all').ackd()
  // @ts-expect-error: `recycle` is handled by workers, not by the primary
  primary.handlers.recycle = () => {}
  // @ts-expect-error: the primary view has no sendToMaster
  primary.sendToMaster('getConfig', { section: 'db' })
  // @ts-expect-error: the primary view has no sendToWorker
  primary.sendToWorker(2, 'echo', 'x')
  // @ts-expect-error: the primary handler's payload is the second parameter
  primary.handlers.echo = (text: string) => void text

  // --- Module-level additions ------------------------------------------------------------------
  const writable: Promise<void> = clusterphone.whenWritable(worker)
  clusterphone.whenWritable(child)
  void writable
} else {
  // --- Sending (worker) ------------------------------------------------------------------------
  const config = app.sendToMaster('getConfig', { section: 'http' }).acknowledged()
  type _config = Assert<Equal<typeof config, clusterphone.AckPromise<Config>>>
  app.sendToMaster('log', 'started', net.createServer()).ackd()
  app.sendToMaster('stats').ackd((err, numbers) => void (err ? err.message : numbers?.length))
  const relayed: Promise<string> = app.sendToWorker(2, 'echo', 'hello').within('100').acknowledged()
  app.sendToWorker(3, 'recycle').ackd()
  void relayed
  // @ts-expect-error: recycle is handled by workers: the primary is never sent it
  app.sendToMaster('recycle')
  // @ts-expect-error: wrong payload type
  app.sendToMaster('getConfig', 'http')
  // @ts-expect-error: the payload is required
  app.sendToMaster('getConfig')
  // @ts-expect-error: no such command
  app.sendToMaster('nope', 1)
  // @ts-expect-error: the reply of getConfig is a Config
  const wrongConfig: Promise<string> = app.sendToMaster('getConfig', { section: 'http' }).ackd()
  // @ts-expect-error: getConfig is handled by the primary, not by another worker
  app.sendToWorker(2, 'getConfig', { section: 'http' })
  // @ts-expect-error: the worker id is a number
  app.sendToWorker('2', 'echo', 'x')
  // @ts-expect-error: sendToWorker carries no handle
  app.sendToWorker(2, 'echo', 'x', net.createServer())
  void wrongConfig

  // --- Handlers in a worker -------------------------------------------------------------------
  app.handlers.resize = (columns, handle, ack, from) => {
    type _columns = Assert<Equal<typeof columns, number>>
    type _from = Assert<Equal<typeof from, number | undefined>>
    void handle
    ack({ width: columns })
  }
  app.handlers.resize = async (columns) => ({ width: columns * 2 })
  app.handlers.recycle = (_payload, _handle, ack) => ack(true)
  // @ts-expect-error: the reply is { width }
  app.handlers.resize = (_columns, _handle, ack) => ack({ height: 1 })
  // @ts-expect-error: the payload is a number
  app.handlers.resize = (columns: string) => void columns
  // @ts-expect-error: resize runs in a worker: no peer parameter comes first
  app.handlers.resize = (_peer: clusterphone.Peer, columns: number) => void columns

  app.handlers.echo = ((text, _handle, ack, from) => {
    ack(from === undefined ? text : `${from}: ${text}`)
  }) satisfies clusterphone.WorkerHandler<AppCommands['echo']>

  // --- The worker's role view ------------------------------------------------------------------
  const workerApp = clusterphone.ns<AppCommands, 'worker'>('app')
  type _workerApp = Assert<Equal<typeof workerApp, clusterphone.WorkerNamespace<AppCommands>>>
  workerApp.handlers.echo = (text, _handle, _ack, from) => Promise.resolve(`${from ?? 'primary'} said ${text}`)
  workerApp.handlers.stats = (payload, _handle, ack) => ack(payload === undefined ? [] : [0])
  workerApp.sendToMaster('echo', 'x').ackd()
  // @ts-expect-error: getConfig is handled by the primary, not by a worker
  workerApp.handlers.getConfig = () => {}
  // @ts-expect-error: the worker view has no sendTo
  workerApp.sendTo(cluster.fork(), 'echo', 'x')
  // @ts-expect-error: the worker view has no broadcast
  workerApp.broadcast('echo', 'x')

  const writable: Promise<void> = clusterphone.whenWritable()
  void writable
}

// --- Untyped role views: contextual types for anything ------------------------------------------
const anyPrimary = clusterphone.ns<clusterphone.UntypedCommands, 'primary'>('loose')
anyPrimary.handlers.whatever = (peer, payload, _handle, ack) => {
  type _peer = Assert<Equal<typeof peer, clusterphone.Peer>>
  type _payload = Assert<Equal<typeof payload, any>>
  ack(payload)
}
const anyWorker = clusterphone<clusterphone.UntypedCommands, 'worker'>('loose')
anyWorker.handlers.whatever = (payload, _handle, ack, from) => ack(from ?? payload)
const anyReply = anyWorker.sendToMaster('anything', { any: 'payload' }).ackd()
type _anyReply = Assert<Equal<typeof anyReply, clusterphone.AckPromise<any>>>

// --- Code generic over a command map -------------------------------------------------------------
function describeNamespace<C extends clusterphone.CommandMap<C>>(n: clusterphone.TypedNamespace<C>): string {
  return `${n.name}: ${Object.keys(n.handlers).join(', ')}`
}
describeNamespace(app)
function askWorker<C extends clusterphone.CommandMap<C>, K extends clusterphone.CommandsTo<C, 'worker'>>(
  n: clusterphone.WorkerNamespace<C>,
  workerId: number,
  cmd: K,
  ...args: clusterphone.PayloadArgs<C[K]>
): Promise<clusterphone.ReplyOf<C[K]>> {
  return n.sendToWorker(workerId, cmd, ...args).within(100).acknowledged()
}
const asked: Promise<{ width: number }> = askWorker(clusterphone.ns<AppCommands, 'worker'>('app'), 2, 'resize', 80)
askWorker(clusterphone.ns<AppCommands, 'worker'>('app'), 2, 'recycle')
// @ts-expect-error: the payload of resize is a number
askWorker(clusterphone.ns<AppCommands, 'worker'>('app'), 2, 'resize', '80')
void asked

// --- A single-literal reply from an async handler needs `as const` (TypeScript widens it) --------
const pinger = clusterphone.ns<{ ping: { reply: 'pong'; to: 'worker' } }>('pinger')
pinger.handlers.ping = async () => 'pong' as const
pinger.handlers.ping = (_payload, _handle, ack) => ack('pong')
// @ts-expect-error: the reply is 'pong'
pinger.handlers.ping = (_payload, _handle, ack) => ack('ping')
