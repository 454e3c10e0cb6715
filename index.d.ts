// Type definitions for clusterphone 2.
import type { Worker } from 'node:cluster'
import type { Server, Socket } from 'node:net'
import type { Socket as DgramSocket } from 'node:dgram'

/** The module is the default namespace `"_"`; calling it is `ns(name)`. */
declare function clusterphone(name: string): clusterphone.Namespace

declare namespace clusterphone {
  /** What Node's `worker.send(message, handle)` / `process.send(message, handle)` can pass along. */
  export type SendHandle = Socket | Server | DgramSocket

  /** An error the library itself produced: timeout, worker died, error acknowledgement, send failure. */
  export interface ClusterphoneError extends Error {
    /** Non-enumerable, as bluebird marks operational errors (what `.error(fn)` catches). */
    readonly isOperational: true
    /** For an error acknowledgement: the message of the error the remote handler threw. */
    origMessage?: string
    /** For an error acknowledgement: the remote stack without its first line. */
    origStack?: string
  }

  /**
   * A native Promise with bluebird 2's `.error(fn)`, which 1.x code calls; promises derived with
   * `.then`/`.catch` keep it.
   */
  export interface AckPromise<T> extends Promise<T> {
    then<A = T, B = never>(
      onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
      onrejected?: ((reason: any) => B | PromiseLike<B>) | null,
    ): AckPromise<A | B>
    catch<B = never>(onrejected?: ((reason: any) => B | PromiseLike<B>) | null): AckPromise<T | B>
    /** Like `.catch(fn)`, but only for the library's own rejections (`isOperational`). */
    error<R = never>(fn: (err: ClusterphoneError) => R | PromiseLike<R>): AckPromise<T | R>
  }

  export type NodeCallback<T> = (err: ClusterphoneError | null, reply?: T) => void

  /** What `sendTo` / `sendToMaster` return. Configure it in the same turn of the event loop. */
  export interface Message<Reply = any> {
    /** This message's timeout in milliseconds (a string is parsed as an integer). Before `acknowledged()`. */
    within(ms: number | string): this
    /** A Promise of the reply; with `cb`, also `cb(err, reply)`. */
    acknowledged(cb?: NodeCallback<Reply>): AckPromise<Reply>
    /** Alias of `acknowledged`. */
    ackd(cb?: NodeCallback<Reply>): AckPromise<Reply>
  }

  /**
   * The acknowledgement callback a handler gets: `ack(reply)` (or `ack()`), or Node style
   * `ack(err, reply)`. Call it at most once.
   */
  export interface Ack {
    (reply?: unknown): void
    (err: unknown, reply: unknown): void
  }

  /** A handler in the primary: `worker` is the very Worker object `cluster.fork()` returned. */
  export type PrimaryHandler<Payload = any> = (
    worker: Worker,
    payload: Payload,
    handle: SendHandle | undefined,
    ack: Ack,
  ) => unknown

  /** A handler in a worker. */
  export type WorkerHandler<Payload = any> = (payload: Payload, handle: SendHandle | undefined, ack: Ack) => unknown

  /**
   * A handler acknowledges by calling `ack`, returning a thenable (its value is the reply) or
   * throwing. Primary: `(worker, payload, handle, ack)`; worker: `(payload, handle, ack)`; annotate
   * with `PrimaryHandler` / `WorkerHandler` for exact parameter types.
   */
  export type Handler = (arg0?: any, arg1?: any, arg2?: any, arg3?: any) => unknown

  export interface Namespace {
    readonly name: string
    /** Assign handlers by command name; only own properties count. */
    handlers: Record<string, Handler>
    /** Primary only: send `cmd` to `worker`. Queued until the worker is ready; a handle is refused while queued unless `forceQueueHandle`. */
    sendTo<Reply = any>(worker: Worker, cmd: string, payload?: unknown, handle?: SendHandle, forceQueueHandle?: boolean): Message<Reply>
    /** Worker only: send `cmd` to the primary. */
    sendToMaster<Reply = any>(cmd: string, payload?: unknown, handle?: SendHandle): Message<Reply>
  }

  /** The module: the default namespace `"_"`, callable as `clusterphone(name)`. */
  export interface Clusterphone extends Namespace {
    (name: string): Namespace
    /** The namespace `name`; the same name always returns the same object. */
    ns(name: string): Namespace
    /** Default acknowledgement timeout in milliseconds (10000), read when a message is sent. */
    ackTimeout: number
  }

  // The default namespace's members, on the module itself.
  /** Handlers of the default namespace `"_"`. */
  let handlers: Record<string, Handler>
  /** Primary only: send `cmd` to `worker` in the default namespace. */
  function sendTo<Reply = any>(worker: Worker, cmd: string, payload?: unknown, handle?: SendHandle, forceQueueHandle?: boolean): Message<Reply>
  /** Worker only: send `cmd` to the primary in the default namespace. */
  function sendToMaster<Reply = any>(cmd: string, payload?: unknown, handle?: SendHandle): Message<Reply>
  /** The namespace `name`; the same name always returns the same object. */
  function ns(name: string): Namespace
  /** Default acknowledgement timeout in milliseconds (10000), read when a message is sent. */
  let ackTimeout: number
}

export = clusterphone
