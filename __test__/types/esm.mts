// The ESM entry's typings (index.d.mts): the default import, and exactly the named exports index.mjs has.
import clusterphone, { ns, handlers, sendTo, sendToMaster, broadcast, sendToWorker, whenWritable, fork } from 'clusterphone'
// @ts-expect-error: index.mjs has no named ackTimeout (an import cannot be assigned to: set it on the default export)
import { ackTimeout } from 'clusterphone'

void [ackTimeout, sendTo, sendToMaster, broadcast, sendToWorker, whenWritable, fork]
// Every type is importable by name, as from index.d.ts.
import type { Namespace, Handler, AckPromise, Peer, ClusterphoneError } from 'clusterphone'
const named: Namespace = ns('esm-named-types')
const handler: Handler = () => {}
void [named, handler]
type _NamedTypes = [AckPromise<number>, Peer, ClusterphoneError]
handlers.fromNamedExport = () => {}
const app: clusterphone.Namespace = ns('esm')
clusterphone.ackTimeout = 1000
app.handlers.ping = () => 'pong'

// Typed namespaces through the named export and the default import alike.
interface Commands {
  ping: { payload: number; reply: { pong: number }; to: 'worker' }
  hello: { payload: string; reply: string; to: 'primary' }
}
const typed = ns<Commands>('esm-typed')
const again: clusterphone.Namespace<Commands> = clusterphone.ns<Commands>('esm-typed')
void again
typed.handlers.ping = async (n, _handle, _ack, from) => ({ pong: n + (from ?? 0) })
typed.handlers.hello = (_peer, name, _handle, ack) => ack(`hello ${name}`)
const pong: Promise<{ pong: number }> = typed.sendToWorker(1, 'ping', 2).acknowledged()
void pong
const primary = ns<Commands, 'primary'>('esm-typed')
primary.broadcast('ping', 1).signal(new AbortController().signal).ackd()
// @ts-expect-error: wrong payload type
typed.sendToMaster('hello', 1)
// @ts-expect-error: whenWritable takes a peer
clusterphone.whenWritable('worker')
