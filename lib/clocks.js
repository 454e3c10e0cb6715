'use strict'
// Timers for acknowledgement deadlines: on Node's timers, one JavaScript timer per clock, not per
// message.
//
// A clock is the `setTimeout`/`clearTimeout`/`Date` found on the global object when a message is
// awaited. Fake timers (sinon, node:test mock timers, jest) replace those globals; the next awaited
// message then gets a clock of its own, so a deadline is only ever compared with the time it was
// set in. Nothing is captured at load.
//
// A clock's first awaited message gets a timer of its own. When that timer is Node's `Timeout`,
// the clock's later deadlines go on its core deadline heap, served by one timer. Otherwise the
// clock is a fake one and every awaited message keeps a timer of its own, as 1.x gave each: a fake
// clock can drop every timer it holds and keep its functions (node:test's mock.timers.reset(),
// jest's clearAllTimers(), sinon's clock.reset()), which would leave one shared timer unarmed for
// good, and a fake `setTimeout` without a fake `Date` tells its time only by firing its timers.

const pending = require('./pending')

const MAX_DELAY = 0x7fffffff // setTimeout fires at once for anything longer

class Clock {
  constructor(core, onExpired) {
    this.core = core
    this.onExpired = onExpired
    this.id = core.addClock()
    this.setTimeout = globalThis.setTimeout
    this.clearTimeout = globalThis.clearTimeout
    this.Date = globalThis.Date
    this.timer = null
    this.armedAt = Infinity
    this.firesAt = -Infinity
    this.fire = this.fire.bind(this)
    /** Until a timer of this clock shows it is Node's own. */
    this.timerPerMessage = true
  }

  now() {
    return this.Date.now()
  }

  /** Makes sure the timer fires by `deadline`. */
  arm(deadline, now) {
    if (deadline >= this.armedAt) return
    if (this.timer !== null) this.clearTimeout.call(globalThis, this.timer)
    this.armedAt = deadline
    const delay = Math.min(Math.max(deadline - now, 0), MAX_DELAY)
    // What this clock's time is when the timer fires: the deadline, unless the delay was capped.
    this.firesAt = now + delay
    this.timer = unref(this.setTimeout.call(globalThis, this.fire, delay))
  }

  /**
   * Fake timers (and a clock's first message, until its timer shows Node's `Timeout`): the message
   * held in `slot` with `reject` (lib/pending.js) times out `timeout` ms from now, at `deadline`
   * on this clock's `Date`, on a timer of its own.
   */
  armFor(slot, reject, deadline, timeout) {
    const clock = this
    let left = timeout
    let timer
    function wait() {
      const delay = Math.min(left, MAX_DELAY)
      left -= delay
      timer = unref(clock.setTimeout.call(globalThis, left > 0 ? waitMore : expire, delay))
    }
    function waitMore() {
      timer = undefined
      if (!pending.holds(slot, reject)) return
      // A fake `Date` may already be past the capped delay (node:test moves it to the end of a
      // tick before firing); a real one, beside a fake `setTimeout`, is not: the count decides.
      left = Math.min(left, deadline - clock.now())
      if (left > 0) wait()
      else expire()
    }
    function expire() {
      timer = undefined
      // A fake whose clearTimeout was not in place leaves the timer of a settled message armed,
      // and its slot may hold a later message by now.
      if (!pending.holds(slot, reject)) return
      const out = clock.core.expireSlot(slot)
      if (out.length > 0) clock.onExpired(slot, out[0], out[1], out[2])
    }
    wait()
    if (isNodeTimeout(timer)) clock.timerPerMessage = false
    pending.alsoOnForget(slot, () => {
      // Only while the clock's fake is installed: another one's clearTimeout would clear its own
      // timer of the same id, and node:test's, after a reset() dropped ours, another of its own.
      if (timer !== undefined && globalThis.clearTimeout === clock.clearTimeout) clock.clearTimeout.call(globalThis, timer)
    })
  }

  fire() {
    // The timer fired, so the time it was set for is reached on this clock even when the clock's
    // `Date` says otherwise: with a fake `Date` that stands still and Node's timers, deadlines
    // pass on Node's time, as 1.x's timer per message passed them.
    const reached = this.firesAt
    this.timer = null
    this.armedAt = Infinity
    const now = Math.max(this.now(), reached)
    const out = this.core.expire(this.id, now)
    const next = out[0]
    if (next === next) this.arm(next, now)
    // A timeout's stack would only show this timer; skipping its capture keeps a burst of 100k
    // expiries within milliseconds of their deadlines.
    const stackTraceLimit = Error.stackTraceLimit
    Error.stackTraceLimit = 0
    try {
      for (let i = 1; i < out.length; i += 4) this.onExpired(out[i], out[i + 1], out[i + 2], out[i + 3])
    } finally {
      Error.stackTraceLimit = stackTraceLimit
    }
  }
}

function unref(timer) {
  if (timer !== null && typeof timer === 'object' && typeof timer.unref === 'function') timer.unref()
  return timer
}

/** Node's own timer (lib/timers.js `Timeout`): only its holder can clear it, nothing drops it. */
function isNodeTimeout(timer) {
  return timer !== null && typeof timer === 'object' && typeof timer._idleTimeout === 'number' && typeof timer._onTimeout === 'function'
}

/**
 * Clocks kept to be found again when their globals come back (real timers after a fake clock is
 * uninstalled), the last used ones. An older clock is dropped from here: one with a deadline left
 * keeps itself alive through its armed timer and still serves it, and a fake one, uninstalled, is
 * not kept alive by us with whatever its functions hold (a test suite installs one per test).
 */
const KEPT_CLOCKS = 2

class Clocks {
  constructor(core, onExpired) {
    this.core = core
    this.onExpired = onExpired
    this.all = []
    this.last = null
  }

  /** The clock of the globals in place right now; the core sets new deadlines on it. */
  current() {
    const last = this.last
    const setTimeout = globalThis.setTimeout
    const DateNow = globalThis.Date
    if (last !== null && last.setTimeout === setTimeout && last.Date === DateNow) return last
    const all = this.all
    const found = all.findIndex((c) => c.setTimeout === setTimeout && c.Date === DateNow)
    const clock = found >= 0 ? all.splice(found, 1)[0] : new Clock(this.core, this.onExpired)
    all.push(clock)
    if (all.length > KEPT_CLOCKS) all.shift()
    this.last = clock
    this.core.useClock(clock.id)
    return clock
  }
}

module.exports = { Clocks }
