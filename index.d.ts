// Type definitions for clusterphone 2.
//
// Typed namespaces: how they are designed, and why
// -----------------------------------------------
// `ns<Commands>(name)` (or `clusterphone<Commands>(name)`) types a namespace with a map of command
// name → `{ payload?: P; reply?: R; to?: 'primary' | 'worker' }`:
//
//   interface AppCommands {
//     getConfig: { payload: { section: string }; reply: Config; to: 'primary' } // worker → primary
//     recycle:   { payload: void; reply: boolean; to: 'worker' }                // primary → worker(s)
//     echo:      { payload: string; reply: string }                             // either way
//   }
//   const app = clusterphone.ns<AppCommands>('app')
//
// - `payload` is what the handler receives, `reply` what the sender's `acknowledged()` resolves to.
//   A missing `payload` means none (`undefined`); a missing `reply` means none (`void`). The payload
//   argument of a send is optional exactly when `undefined` is a valid payload (`void`, `T | undefined`,
//   `unknown`, `any`).
// - `to` says which side handles the command (= who it is sent to). It is optional, but it is what
//   gives handlers full contextual types. The handler signature depends on the role of the process,
//   which only exists at runtime: the primary calls `(peer, payload, handle, ack)`, a worker (or
//   a child of `clusterphone.fork()`) calls `(payload, handle, ack, from)`. TypeScript gives a
//   function assigned to a union of two differently shaped signatures NO contextual types (every
//   parameter is implicitly `any`, an error under `strict`), and an overloaded / intersected
//   signature gives each parameter the union of both positions (`peer: Peer | Payload`), which is
//   useless. So a handler type must be one signature, and the only static facts that can pick it are
//   the command (its `to`) or a role the user states:
//     * `to: 'primary'` → `handlers.cmd` is a `PrimaryHandler`; `to: 'worker'` → a `WorkerHandler`.
//       Sends follow it: `sendTo`/`broadcast`/`sendToWorker` only take commands a worker handles,
//       `sendToMaster` only commands the primary handles.
//     * without `to` the command goes both ways and `handlers.cmd` is
//       `PrimaryHandler | WorkerHandler`: annotate, e.g.
//       `app.handlers.echo = ((peer, text, handle, ack) => ack(text)) satisfies clusterphone.PrimaryHandler<AppCommands['echo']>`
//       (`satisfies` gives the contextual types and keeps the value assignable to the union).
//     * a role view: `ns<AppCommands, 'primary'>('app')` / `ns<AppCommands, 'worker'>('app')` return
//       `PrimaryNamespace` / `WorkerNamespace`: every handler has that role's signature, only the
//       commands that role handles appear in `handlers`, and only that role's send methods exist.
//       This is types only and honest at runtime, because `ns(name)` returns the same object for the
//       same name: a primary-only file (or a branch after `cluster.isPrimary`) asks for the primary
//       view. `ns<C>(name)` (no role) keeps every member, since its role is unknown.
//   No helper *functions* (identity `handler()`, a `.primary` view property) are declared: every
//   declaration here describes an existing runtime object, and those do not exist.
// - Without a type argument (`ns('x')`, the module itself) a namespace is an `UntypedNamespace`, as
//   before: any command string, any payload, replies `any` (or the `Reply` type argument of
//   `sendTo<Reply>(...)`), handlers any function (`Handler`). Typed and untyped namespaces are two
//   interfaces (`Namespace<C>` picks one) rather than one with overloads: overloads would make
//   every mistake on a typed namespace report "No overload matches" against the untyped signature.
// - Handlers acknowledge with `ack(reply)`, `ack(err, reply)` (exactly two arguments: one argument is
//   always the reply), or by returning a thenable of the reply. A typed handler's return type is
//   `void | PromiseLike<Reply>`: returning a plain value is a type error, because the runtime ignores
//   it and the sender would time out. (TypeScript quirk: an `async` handler whose reply type is a
//   single literal, `reply: 'pong'`, must return `'pong' as const`; unions of literals and object
//   literals with literal fields are fine.)
// - Payload and reply types are taken as declared: nothing models what the channel's serialization
//   (JSON by default) does to them (a `Date` arrives as a string under JSON).
import type { Worker } from 'node:cluster'
import type { ChildProcess, ForkOptions } from 'node:child_process'
import type { Server, Socket } from 'node:net'
import type { Socket as DgramSocket } from 'node:dgram'

/** The module is the default namespace `"_"`; calling it is `ns(name)` (see `clusterphone.ns`). */
declare function clusterphone(name: string): clusterphone.UntypedNamespace
declare function clusterphone<C extends clusterphone.CommandMap<C>>(name: string): clusterphone.TypedNamespace<C>
declare function clusterphone<C extends clusterphone.CommandMap<C>, R extends 'primary'>(name: string): clusterphone.PrimaryNamespace<C>
declare function clusterphone<C extends clusterphone.CommandMap<C>, R extends 'worker'>(name: string): clusterphone.WorkerNamespace<C>

declare namespace clusterphone {
  /** What Node's `worker.send(message, handle)` / `process.send(message, handle)` can pass along. */
  export type SendHandle = Socket | Server | DgramSocket

  /** A command of an untyped namespace: turned into a string when sent (`42` is `"42"`). */
  export type CommandName = string | number

  /** The other end of a channel in the primary: a cluster worker, or a child of `child_process.fork()` / `clusterphone.fork()`. */
  export type Peer = Worker | ChildProcess

  /** Which side handles a command: the primary (or a parent), or a worker (or a forked child). */
  export type Role = 'primary' | 'worker'

  // ---------------------------------------------------------------------------------------------
  // Errors

  /** The stable `code` of every error the library rejects an acknowledgement with. */
  export type ErrorCode =
    | 'ERR_CLUSTERPHONE_TIMEOUT'
    | 'ERR_CLUSTERPHONE_WORKER_DIED'
    | 'ERR_CLUSTERPHONE_HANDLER'
    | 'ERR_CLUSTERPHONE_UNHANDLED'
    | 'ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE'
    | 'ERR_CLUSTERPHONE_ABORTED'
    | 'ERR_CLUSTERPHONE_SEND_FAILED'
    | 'ERR_CLUSTERPHONE_UNKNOWN_WORKER'
    // A failed write keeps Node's own code (see SendFailedError).
    | 'ERR_IPC_CHANNEL_CLOSED'
    | 'EPIPE'

  /** What every library error has. */
  export interface ClusterphoneErrorBase<Code extends ErrorCode = ErrorCode> extends Error {
    /** Non-enumerable, as bluebird marks operational errors (what `.error(fn)` catches). */
    readonly isOperational: true
    /** Branch on this (it narrows `ClusterphoneError`). */
    code: Code
    /** For an error acknowledgement: the message of the error the remote handler threw. */
    origMessage?: string
    /** For an error acknowledgement: the remote stack without its first line. */
    origStack?: string
  }

  /** No acknowledgement within the timeout ("Timed out waiting for acknowledgement ..."). */
  export interface TimeoutError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_TIMEOUT'> {}
  /** The peer exited or disconnected before acknowledging (in a worker: the primary went away). */
  export interface WorkerDiedError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_WORKER_DIED'> {
    /**
     * The worker's exit code if it had already exited when its death was noticed, else `null`. A
     * cluster worker's channel usually closes before Node reports its exit, so for those it is
     * mostly `null`: `worker.process.exitCode` has it once the worker's 'exit' event came.
     */
    exitCode?: number | null
    /** The signal that killed the worker, on the same terms as `exitCode`. */
    signal?: string | null
  }
  /** The remote handler threw, rejected or called `ack(err, ...)` ("Message handler threw an error: ..."). */
  export interface HandlerError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_HANDLER'> {}
  /** The receiver has no handler for the command ("Unhandled message type"). */
  export interface UnhandledError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_UNHANDLED'> {}
  /** The receiver never created the namespace ("Unknown namespace."). */
  export interface UnknownNamespaceError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE'> {}
  /** The message's `signal()` aborted; `cause` is the signal's reason. */
  export interface AbortedError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_ABORTED'> {
    name: 'AbortError'
  }
  /**
   * Writing the message failed. The acknowledgement rejects with Node's own error where there is
   * one (it keeps its code: `ERR_IPC_CHANNEL_CLOSED`, `EPIPE`), else with `ERR_CLUSTERPHONE_SEND_FAILED`
   * (a payload that does not serialize).
   */
  export interface SendFailedError
    extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_SEND_FAILED' | 'ERR_IPC_CHANNEL_CLOSED' | 'EPIPE'> {}
  /** `sendToWorker()` named no live worker (the message names the id). */
  export interface UnknownWorkerError extends ClusterphoneErrorBase<'ERR_CLUSTERPHONE_UNKNOWN_WORKER'> {}

  /**
   * The `code` of an error a call throws at once (not an acknowledgement's rejection): a bad
   * argument (`ns("")`, an empty command, `within(0)`, a call after the send's turn), a send to a
   * dead worker ("Worker is dead"), `ns("clusterphone")`, a handle that cannot be queued, more
   * namespaces than the core can name.
   */
  export type ThrownErrorCode =
    | 'ERR_CLUSTERPHONE_INVALID_ARG'
    | 'ERR_CLUSTERPHONE_WORKER_DEAD'
    | 'ERR_CLUSTERPHONE_PRIVATE_NAMESPACE'
    | 'ERR_CLUSTERPHONE_HANDLE_NOT_QUEUEABLE'
    | 'ERR_CLUSTERPHONE_TOO_MANY_NAMESPACES'

  /** An error a call throws at once (an `Error` or `TypeError`, not `isOperational`); narrow it with `code`. */
  export interface ClusterphoneThrownError extends Error {
    code: ThrownErrorCode
  }

  /** An error the library itself produced; narrow it with `code`. */
  export type ClusterphoneError =
    | TimeoutError
    | WorkerDiedError
    | HandlerError
    | UnhandledError
    | UnknownNamespaceError
    | AbortedError
    | SendFailedError
    | UnknownWorkerError

  // ---------------------------------------------------------------------------------------------
  // Messages and acknowledgements

  /**
   * A native Promise with bluebird 2's `.error(fn)`, which 1.x code calls; promises derived with
   * `.then`/`.catch`/`.finally` keep it.
   */
  export interface AckPromise<T> extends Promise<T> {
    then<A = T, B = never>(
      onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
      onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
    ): AckPromise<A | B>
    catch<B = never>(onrejected?: ((reason: any) => B | PromiseLike<B>) | null): AckPromise<T | B>
    finally(onfinally?: (() => void) | null): AckPromise<T>
    /** Like `.catch(fn)`, but only for the library's own rejections (`isOperational`). */
    error<R = never>(fn: (err: ClusterphoneError) => R | PromiseLike<R>): AckPromise<T | R>
  }

  /** `acknowledged(cb)`: `cb(null, reply)` or `cb(err)`. */
  export type NodeCallback<T> = (err: ClusterphoneError | null, reply?: T) => void

  /** What `sendTo` / `sendToMaster` / `sendToWorker` return. Configure it in the same turn of the event loop. */
  export interface Message<Reply = any> {
    /** This message's timeout in milliseconds (a string is parsed as an integer). Before `acknowledged()`. */
    within(ms: number | string): this
    /**
     * Cancels with an AbortSignal: when it aborts, the acknowledgement rejects with an `AbortedError`
     * and a message still queued is never sent. Before `acknowledged()`.
     */
    signal(signal: AbortSignal): this
    /** A Promise of the reply; with `cb`, also `cb(err, reply)`. */
    acknowledged(cb?: NodeCallback<Reply>): AckPromise<Reply>
    /** Alias of `acknowledged`. */
    ackd(cb?: NodeCallback<Reply>): AckPromise<Reply>
  }

  /** One worker's outcome in a broadcast, like a `Promise.allSettled` entry. */
  export type BroadcastResult<Reply = any> =
    | { worker: Worker; status: 'fulfilled'; value: Reply }
    | { worker: Worker; status: 'rejected'; reason: ClusterphoneError }

  /** What `broadcast` returns: one message per live worker, acknowledged together. */
  export interface BroadcastMessage<Reply = any> {
    /** Every message's timeout in milliseconds. Before `acknowledged()`. */
    within(ms: number | string): this
    /** Cancels every message with an AbortSignal. Before `acknowledged()`. */
    signal(signal: AbortSignal): this
    /** Resolves (never rejects) once every worker acknowledged, failed or died, in `cluster.workers` order. */
    acknowledged(cb?: NodeCallback<Array<BroadcastResult<Reply>>>): AckPromise<Array<BroadcastResult<Reply>>>
    /** Alias of `acknowledged`. */
    ackd(cb?: NodeCallback<Array<BroadcastResult<Reply>>>): AckPromise<Array<BroadcastResult<Reply>>>
  }

  // ---------------------------------------------------------------------------------------------
  // Command maps

  /** One command of a typed namespace. Every key is optional; see the top of this file. */
  export interface Command {
    /** What the handler receives; none (`undefined`) when absent. */
    payload?: unknown
    /** What `acknowledged()` resolves to; none (`void`) when absent. */
    reply?: unknown
    /** Which side handles the command (the one it is sent to); both when absent. */
    to?: Role
  }

  /** The constraint of a command map: an interface or object type of `Command`s. */
  export type CommandMap<C> = { [K in keyof C]: Command }

  /** An untyped command: anything goes, replies are `any`. */
  export interface UntypedCommand {
    payload: any
    reply: any
  }

  /** The command map of an untyped namespace (no type argument). */
  export interface UntypedCommands {
    [cmd: string]: UntypedCommand
  }

  /** The payload type of a command. */
  export type PayloadOf<S> = 'payload' extends keyof S ? S['payload' & keyof S] : undefined
  /** The reply type of a command. */
  export type ReplyOf<S> = 'reply' extends keyof S ? S['reply' & keyof S] : void

  /** The commands of `C` that side `R` handles (all but those marked for the other side). */
  export type CommandsTo<C, R extends Role> = Extract<
    { [K in keyof C]-?: [C[K]] extends [{ to: Exclude<Role, R> }] ? never : K }[keyof C],
    string
  >

  /**
   * The arguments after `cmd`: the payload (optional when `undefined` is a valid payload), then
   * `Extra`. For code generic over a command map: `(cmd: K, ...args: PayloadArgs<C[K]>)`.
   */
  export type PayloadArgs<S, Extra extends unknown[] = []> = undefined extends PayloadOf<S>
    ? [payload?: PayloadOf<S>, ...Extra]
    : [payload: PayloadOf<S>, ...Extra]

  /** `ack`'s one-argument form: optional when `undefined` is a valid reply. */
  type ReplyArgs<R> = undefined extends R ? [reply?: R | PromiseLike<R>] : [reply: R | PromiseLike<R>]

  // ---------------------------------------------------------------------------------------------
  // Handlers

  /**
   * The acknowledgement callback a handler gets. Call it at most once:
   * - `ack(reply)` (or `ack()` when the reply may be `undefined`): exactly one argument is the reply
   *   (a thenable is waited for);
   * - `ack(err, reply)`, Node style, exactly two arguments: a non-null `err` is an error
   *   acknowledgement, otherwise `reply` is the reply. (`ack(err)` alone would send `err` as the reply.)
   */
  export interface Ack<Reply = any> {
    (...reply: ReplyArgs<Reply>): void
    (err: unknown, reply: Reply | PromiseLike<Reply> | undefined): void
  }

  /** What a typed handler returns: nothing (it calls `ack` or throws), or a thenable of the reply. */
  export type HandlerResult<Reply> = 0 extends 1 & Reply ? unknown : void | PromiseLike<Reply>

  /**
   * A handler run in the primary (or a parent of `clusterphone.fork()` children) for command
   * `S` (e.g. `PrimaryHandler<AppCommands['echo']>`). `peer` is the very Worker `cluster.fork()`
   * returned, or the ChildProcess the message came from.
   */
  export type PrimaryHandler<S = UntypedCommand> = (
    peer: Peer,
    payload: PayloadOf<S>,
    handle: SendHandle | undefined,
    ack: Ack<ReplyOf<S>>,
  ) => HandlerResult<ReplyOf<S>>

  /**
   * A handler run in a worker (or a forked child) for command `S`. `from` is the id of the worker
   * that sent it with `sendToWorker` (relayed by the primary), `undefined` when the primary sent it.
   */
  export type WorkerHandler<S = UntypedCommand> = (
    payload: PayloadOf<S>,
    handle: SendHandle | undefined,
    ack: Ack<ReplyOf<S>>,
    from: number | undefined,
  ) => HandlerResult<ReplyOf<S>>

  /**
   * An untyped namespace's handler. Primary: `(peer, payload, handle, ack)`; worker:
   * `(payload, handle, ack, from)`; annotate with `PrimaryHandler` / `WorkerHandler` for exact
   * parameter types.
   */
  export type Handler = (arg0?: any, arg1?: any, arg2?: any, arg3?: any) => unknown

  /** The handler of command `S` as side `R` runs it: its `to` wins, else the role, else either. */
  export type HandlerFor<S, R extends Role = Role> = [S] extends [{ to: 'primary' }]
    ? PrimaryHandler<S>
    : [S] extends [{ to: 'worker' }]
      ? WorkerHandler<S>
      : [R] extends ['primary']
        ? PrimaryHandler<S>
        : [R] extends ['worker']
          ? WorkerHandler<S>
          : PrimaryHandler<S> | WorkerHandler<S>

  /**
   * A namespace's `handlers` as side `R` sees it (`Role`: either). Typed: one optional entry per
   * command that side handles. Untyped: any function by any name (`PrimaryHandler`/`WorkerHandler`
   * of anything in a role view).
   */
  export type Handlers<C, R extends Role = Role> = string extends keyof C
    ? [Role] extends [R]
      ? Record<string, Handler>
      : Record<string, HandlerFor<UntypedCommand, R>>
    : { [K in keyof C as K extends CommandsTo<C, R> ? K : never]?: HandlerFor<C[K], R> }

  // ---------------------------------------------------------------------------------------------
  // Namespaces

  export interface NamespaceBase {
    readonly name: string
  }

  /** The primary's send methods of a typed namespace (at runtime: in the primary, and in a parent of forked children). */
  export interface PrimarySends<C extends CommandMap<C>> {
    /**
     * Primary only: send `cmd` to `peer` (a cluster Worker or a forked ChildProcess). Queued until it
     * is ready; a handle is refused while queued unless `forceQueueHandle`.
     */
    sendTo<K extends CommandsTo<C, 'worker'>>(
      peer: Peer,
      cmd: K,
      ...args: PayloadArgs<C[K], [handle?: SendHandle, forceQueueHandle?: boolean]>
    ): Message<ReplyOf<C[K]>>
    /** Primary only: send `cmd` to every live cluster worker; `acknowledged()` gathers every outcome. */
    broadcast<K extends CommandsTo<C, 'worker'>>(cmd: K, ...args: PayloadArgs<C[K]>): BroadcastMessage<ReplyOf<C[K]>>
  }

  /** A worker's send methods of a typed namespace (at runtime: in a cluster worker, and in a forked child). */
  export interface WorkerSends<C extends CommandMap<C>> {
    /** Worker only: send `cmd` to the primary (or parent). */
    sendToMaster<K extends CommandsTo<C, 'primary'>>(cmd: K, ...args: PayloadArgs<C[K], [handle?: SendHandle]>): Message<ReplyOf<C[K]>>
    /** Worker only: send `cmd` to the worker with id `workerId`, relayed by the primary. */
    sendToWorker<K extends CommandsTo<C, 'worker'>>(workerId: number, cmd: K, ...args: PayloadArgs<C[K]>): Message<ReplyOf<C[K]>>
  }

  /**
   * An untyped namespace (`ns(name)`, the module): any command, any payload, replies `any` or the
   * `Reply` type argument. Only the process's role's send methods exist at runtime.
   */
  export interface UntypedNamespace extends NamespaceBase {
    /** Assign handlers by command name; only own properties count. */
    handlers: Record<string, Handler>
    /**
     * Primary only: send `cmd` to `peer` (a cluster Worker or a forked ChildProcess). Queued until it
     * is ready; a handle is refused while queued unless `forceQueueHandle`.
     */
    sendTo<Reply = any>(peer: Peer, cmd: CommandName, payload?: unknown, handle?: SendHandle | null, forceQueueHandle?: boolean): Message<Reply>
    /** Primary only: send `cmd` to every live cluster worker; `acknowledged()` gathers every outcome. */
    broadcast<Reply = any>(cmd: CommandName, payload?: unknown): BroadcastMessage<Reply>
    /** Worker only: send `cmd` to the primary (or parent). */
    sendToMaster<Reply = any>(cmd: CommandName, payload?: unknown, handle?: SendHandle | null): Message<Reply>
    /** Worker only: send `cmd` to the worker with id `workerId`, relayed by the primary. */
    sendToWorker<Reply = any>(workerId: number, cmd: CommandName, payload?: unknown): Message<Reply>
  }

  /**
   * A typed namespace whose role is not known statically (`ns<C>(name)`): every send method (only
   * the process's role's exist at runtime) and handlers typed by each command's `to`
   * (`PrimaryHandler | WorkerHandler` without one).
   */
  export interface TypedNamespace<C extends CommandMap<C>> extends NamespaceBase, PrimarySends<C>, WorkerSends<C> {
    /** Assign handlers by command name; only own properties count. */
    handlers: Handlers<C>
  }

  /**
   * What `ns(name)` / `ns<C>(name)` return: `UntypedNamespace` without a command map,
   * `TypedNamespace<C>` with one. (In code generic over `C`, write `TypedNamespace<C>`: this alias is
   * a conditional type and stays unresolved there.)
   */
  export type Namespace<C extends CommandMap<C> = UntypedCommands> = string extends keyof C ? UntypedNamespace : TypedNamespace<C>

  /** The primary's view of a namespace: `ns<C, 'primary'>(name)`. */
  export interface PrimaryNamespace<C extends CommandMap<C> = UntypedCommands> extends NamespaceBase, PrimarySends<C> {
    /** The commands the primary handles, as `PrimaryHandler`s. */
    handlers: Handlers<C, 'primary'>
  }

  /** A worker's view of a namespace: `ns<C, 'worker'>(name)`. */
  export interface WorkerNamespace<C extends CommandMap<C> = UntypedCommands> extends NamespaceBase, WorkerSends<C> {
    /** The commands a worker handles, as `WorkerHandler`s. */
    handlers: Handlers<C, 'worker'>
  }

  /** The module: the default namespace `"_"` (untyped), callable as `clusterphone(name)`. */
  export interface Clusterphone extends UntypedNamespace {
    (name: string): UntypedNamespace
    <C extends CommandMap<C>>(name: string): TypedNamespace<C>
    <C extends CommandMap<C>, R extends 'primary'>(name: string): PrimaryNamespace<C>
    <C extends CommandMap<C>, R extends 'worker'>(name: string): WorkerNamespace<C>
    /** The namespace `name`; the same name always returns the same object. */
    ns(name: string): UntypedNamespace
    ns<C extends CommandMap<C>>(name: string): TypedNamespace<C>
    ns<C extends CommandMap<C>, R extends 'primary'>(name: string): PrimaryNamespace<C>
    ns<C extends CommandMap<C>, R extends 'worker'>(name: string): WorkerNamespace<C>
    /**
     * Default acknowledgement timeout in milliseconds (10000), read when a message is sent. Typed as
     * a number; JavaScript may assign a string, which is parsed like `within()`'s (and reads back as
     * it was written, as on 1.x's plain property).
     */
    ackTimeout: number
    /** Resolves when the channel takes writes again (primary: to `peer`; worker: to the primary). */
    whenWritable(peer?: Peer): Promise<void>
    /**
     * What the library holds right now, for tests and debugging (not a stable API): the core's
     * peers, slots, pending acknowledgements, queued messages and deadline entries, and the slots
     * JavaScript holds something for. All zero once traffic settles and workers are gone.
     */
    _stats(): { peers: number; slots: number; pending: number; queued: number; deadlineEntries: number; held: number }
    /** `child_process.fork()` for a child that talks clusterphone with this process (`sendTo(child)` / `sendToMaster()` there). */
    fork(modulePath: string | URL, args?: readonly string[], options?: ForkOptions): ChildProcess
    fork(modulePath: string | URL, options?: ForkOptions): ChildProcess
  }

  // The default namespace's members, on the module itself (untyped).
  /** Handlers of the default namespace `"_"`. */
  let handlers: Record<string, Handler>
  /** Primary only: send `cmd` to `peer` in the default namespace. */
  function sendTo<Reply = any>(peer: Peer, cmd: CommandName, payload?: unknown, handle?: SendHandle | null, forceQueueHandle?: boolean): Message<Reply>
  /** Primary only: send `cmd` to every live worker in the default namespace. */
  function broadcast<Reply = any>(cmd: CommandName, payload?: unknown): BroadcastMessage<Reply>
  /** Worker only: send `cmd` to the primary in the default namespace. */
  function sendToMaster<Reply = any>(cmd: CommandName, payload?: unknown, handle?: SendHandle | null): Message<Reply>
  /** Worker only: send `cmd` to the worker with id `workerId`, relayed by the primary. */
  function sendToWorker<Reply = any>(workerId: number, cmd: CommandName, payload?: unknown): Message<Reply>
  /**
   * The namespace `name`; the same name always returns the same object. `ns<Commands>(name)` types
   * it; `ns<Commands, 'primary' | 'worker'>(name)` is that role's view (see the top of this file).
   */
  function ns(name: string): UntypedNamespace
  function ns<C extends CommandMap<C>>(name: string): TypedNamespace<C>
  function ns<C extends CommandMap<C>, R extends 'primary'>(name: string): PrimaryNamespace<C>
  function ns<C extends CommandMap<C>, R extends 'worker'>(name: string): WorkerNamespace<C>
  /**
   * Default acknowledgement timeout in milliseconds (10000), read when a message is sent. Typed as
   * a number; JavaScript may assign a string, which is parsed like `within()`'s (and reads back as
   * it was written, as on 1.x's plain property).
   */
  let ackTimeout: number
  /**
   * Backpressure: resolves when the channel takes writes again (at once when it does now). Primary:
   * the channel to `peer`; worker: to the primary (no argument). Rejects if the peer is gone.
   */
  function whenWritable(peer?: Peer): Promise<void>
  /** What the library holds right now, for tests and debugging (not a stable API): see `Clusterphone._stats`. */
  function _stats(): ReturnType<Clusterphone['_stats']>
  /**
   * `child_process.fork()` for a child that talks clusterphone with this process: `sendTo(child)`
   * here and `sendToMaster()` there work as with cluster workers.
   */
  function fork(modulePath: string | URL, args?: readonly string[], options?: ForkOptions): ChildProcess
  function fork(modulePath: string | URL, options?: ForkOptions): ChildProcess
}

export = clusterphone
