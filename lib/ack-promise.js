'use strict'
// The Promise `acknowledged()` returns: a native Promise with bluebird 2's `.error(fn)`, which 1.x
// code calls, also down a chain (`.ackd().then(f).error(g)`).
//
// Measured (Node 20, 100k pending, each with the caller's `.then`): a subclass with the default
// species costs ~200 B more per pending message than a native Promise and runs ~3x slower, since
// every `.then` builds a promise capability with two resolving functions. Here the species is
// Promise, so `.then` takes V8's native path, and the derived promise is moved onto this prototype
// (a map change, no bytes): same heap as a native Promise. `constructor` is Promise, so `await`
// takes its fast path too.

/** Told of every `.then` (so `.catch`, `.finally`, `.error`) on these promises: lib/pending.js. */
let thenHook = null

class AckPromise extends Promise {
  static get [Symbol.species]() {
    return Promise
  }

  then(onFulfilled, onRejected) {
    if (thenHook !== null) thenHook(this)
    const derived = super.then(onFulfilled, onRejected)
    Object.setPrototypeOf(derived, AckPromise.prototype)
    return derived
  }

  /** Like `.catch(fn)`, but only for the library's own rejections (`isOperational`). */
  error(fn) {
    return this.then(undefined, (reason) => {
      if (reason !== null && typeof reason === 'object' && reason.isOperational === true) return fn(reason)
      throw reason
    })
  }
}

Object.defineProperty(AckPromise.prototype, 'constructor', {
  value: Promise,
  writable: true,
  configurable: true,
  enumerable: false,
})

/** The resolving functions of the promise `create()` made last: read them right after it. */
const captured = { resolve: undefined, reject: undefined }
function capture(resolve, reject) {
  captured.resolve = resolve
  captured.reject = reject
}

/** A new AckPromise, without a closure per call; its resolving functions are in `captured`. */
function create() {
  return new AckPromise(capture)
}

function onThen(hook) {
  thenHook = hook
}

const nativeThen = Promise.prototype.then
function ignore() {}

/**
 * Gives `promise` a handler that ignores its rejection, through the native `then` (nothing of a
 * caller's runs: a promise may have been given its own `then`). 1.x's bluebird printed "Unhandled
 * rejection" for an acknowledgement nobody waited on and went on; a native Promise nobody handles
 * ends the process. So `sendTo(...).acknowledged()` with its result dropped must not take the
 * primary down when it times out or its worker dies. Promises derived with `.then` are the
 * caller's, under Node's usual rules. Done when rejecting, not at creation: a handler per pending
 * acknowledgement would cost ~100 B of heap each.
 */
function markHandled(promise) {
  nativeThen.call(promise, undefined, ignore)
}

module.exports = { AckPromise, create, captured, onThen, markHandled }
