'use strict'
// The Promise `acknowledged()` returns: a native Promise subclass with bluebird 2's `.error(fn)`,
// which 1.x code calls, also further down a chain (`.ackd().then(f).error(g)`), so promises
// derived with `.then`/`.catch` are AckPromises too. `.error` lives on the prototype and costs
// nothing per message.

class AckPromise extends Promise {
  /** Like `.catch(fn)`, but only for the library's own rejections (`isOperational`). */
  error(fn) {
    return this.then(undefined, (reason) => {
      if (reason !== null && typeof reason === 'object' && reason.isOperational === true) return fn(reason)
      throw reason
    })
  }
}

module.exports = { AckPromise }
