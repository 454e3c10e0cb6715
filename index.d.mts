// Typings of the ESM entry, index.mjs: its default export is the module `require("clusterphone")`
// returns (index.d.ts), and its named exports are the ones index.mjs has. There is no named
// `ackTimeout`: an imported binding cannot be assigned to, so set it on the default export.
import clusterphone from './index.js'

export default clusterphone
/** The default namespace's handlers object as it was at load (after `clusterphone.handlers = {...}`, use that). */
export declare const handlers: typeof clusterphone.handlers
export declare const ns: typeof clusterphone.ns
export declare const sendTo: typeof clusterphone.sendTo
export declare const sendToMaster: typeof clusterphone.sendToMaster
export declare const broadcast: typeof clusterphone.broadcast
export declare const sendToWorker: typeof clusterphone.sendToWorker
export declare const whenWritable: typeof clusterphone.whenWritable
export declare const fork: typeof clusterphone.fork
// Every type index.d.ts names (a declared namespace exports all its members), for
// `import type { Namespace } from 'clusterphone'` (a package test keeps this list whole).
export type {
  AbortedError, Ack, AckPromise, BroadcastMessage, BroadcastResult, Clusterphone,
  ClusterphoneError, ClusterphoneErrorBase, ClusterphoneThrownError, Command, CommandMap,
  CommandName, CommandsTo, ErrorCode, Handler, HandlerError, HandlerFor, HandlerResult, Handlers,
  Message, Namespace, NamespaceBase, NodeCallback, PayloadArgs, PayloadOf, Peer, PrimaryHandler,
  PrimaryNamespace, PrimarySends, ReplyArgs, ReplyOf, Role, SendFailedError, SendHandle,
  ThrownErrorCode, TimeoutError, TypedNamespace, UnhandledError, UnknownNamespaceError,
  UnknownWorkerError, UntypedCommand, UntypedCommands, UntypedNamespace, WorkerDiedError,
  WorkerHandler, WorkerNamespace, WorkerSends,
} from './index.js'
