// The library's errors: a union narrowed by `code`, with `isOperational`, `origMessage`/`origStack`
// on all of them and `exitCode`/`signal` on worker-died errors.
import cluster from 'node:cluster'
import clusterphone = require('../..')
import type { Assert, Equal } from './assert'

declare const worker: import('node:cluster').Worker

function describe(err: clusterphone.ClusterphoneError): string {
  const operational: true = err.isOperational
  const message: string = err.message
  const orig: string | undefined = err.origMessage ?? err.origStack
  void [operational, message, orig]
  switch (err.code) {
    case 'ERR_CLUSTERPHONE_TIMEOUT':
      type _timeout = Assert<Equal<typeof err, clusterphone.TimeoutError>>
      return 'timed out'
    case 'ERR_CLUSTERPHONE_WORKER_DIED': {
      const exitCode: number | null | undefined = err.exitCode
      const signal: string | null | undefined = err.signal
      return `died ${exitCode} ${signal}`
    }
    case 'ERR_CLUSTERPHONE_HANDLER':
      return `handler: ${err.origMessage}\n${err.origStack}`
    case 'ERR_CLUSTERPHONE_UNHANDLED':
    case 'ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE':
      return 'nobody listens'
    case 'ERR_CLUSTERPHONE_ABORTED': {
      const name: 'AbortError' = err.name
      return `${name}: ${String(err.cause)}`
    }
    case 'ERR_CLUSTERPHONE_SEND_FAILED':
    case 'ERR_IPC_CHANNEL_CLOSED':
    case 'EPIPE':
      return 'send failed'
    case 'ERR_CLUSTERPHONE_UNKNOWN_WORKER':
      return 'no such worker'
    default: {
      // Every code is handled above.
      const exhaustive: never = err
      return exhaustive
    }
  }
}

if (cluster.isPrimary) {
  clusterphone
    .sendTo(worker, 'x')
    .acknowledged()
    .error((err) => describe(err))
  clusterphone.sendTo(worker, 'x').ackd((err) => {
    if (err !== null) describe(err)
  })
  clusterphone
    .sendTo(worker, 'x')
    .acknowledged()
    .catch((err: unknown) => {
      // A plain catch gets `unknown`-ish `any`: narrow it yourself.
      if (err instanceof Error && (err as clusterphone.ClusterphoneError).isOperational) describe(err as clusterphone.ClusterphoneError)
    })
}

type _codes = Assert<
  Equal<
    clusterphone.ClusterphoneError['code'],
    | 'ERR_CLUSTERPHONE_TIMEOUT'
    | 'ERR_CLUSTERPHONE_WORKER_DIED'
    | 'ERR_CLUSTERPHONE_HANDLER'
    | 'ERR_CLUSTERPHONE_UNHANDLED'
    | 'ERR_CLUSTERPHONE_UNKNOWN_NAMESPACE'
    | 'ERR_CLUSTERPHONE_ABORTED'
    | 'ERR_CLUSTERPHONE_SEND_FAILED'
    | 'ERR_CLUSTERPHONE_UNKNOWN_WORKER'
    | 'ERR_IPC_CHANNEL_CLOSED'
    | 'EPIPE'
  >
>

declare const someError: clusterphone.ClusterphoneError
// @ts-expect-error: exitCode only exists on worker-died errors: narrow by code first
void someError.exitCode
// @ts-expect-error: not one of the codes
if (someError.code === 'ERR_CLUSTERPHONE_TIMED_OUT') void 0
declare const died: clusterphone.WorkerDiedError
// @ts-expect-error: exitCode is a number or null
const exit: string = died.exitCode
void exit

// What a call throws at once is told apart by its own codes (not `isOperational`).
try {
  clusterphone.ns('')
} catch (err) {
  const thrown = err as clusterphone.ClusterphoneThrownError
  if (thrown.code === 'ERR_CLUSTERPHONE_INVALID_ARG' || thrown.code === 'ERR_CLUSTERPHONE_WORKER_DEAD') void thrown.message
  // @ts-expect-error: a rejection's code, never a thrown one
  if (thrown.code === 'ERR_CLUSTERPHONE_TIMEOUT') void 0
}
type _thrownCodes = Assert<
  Equal<
    clusterphone.ThrownErrorCode,
    | 'ERR_CLUSTERPHONE_INVALID_ARG'
    | 'ERR_CLUSTERPHONE_WORKER_DEAD'
    | 'ERR_CLUSTERPHONE_PRIVATE_NAMESPACE'
    | 'ERR_CLUSTERPHONE_HANDLE_NOT_QUEUEABLE'
    | 'ERR_CLUSTERPHONE_TOO_MANY_NAMESPACES'
  >
>

// The debug counter the README's reliability section reads.
const held: number = clusterphone._stats().pending + clusterphone._stats().held
void held
