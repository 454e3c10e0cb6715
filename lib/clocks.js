'use strict'
// Timers for acknowledgement deadlines: on Node's timers, one JavaScript timer per clock, not per
// message.
//
// A clock is the `setTimeout`/`clearTimeout`/`Date` found on the global object when a message is
// awaited. Fake timers (sinon, node:test mock timers, jest) replace those globals; the next awaited
// message then gets a clock of its own, so a deadline is only ever compared with the time it was
// set in. Nothing is captured at load.
//
// A clock's first awaited message gets a timer of its own. When that timer is Node's `Timeout` and
// the clock's `Date` is the real one, the clock's later deadlines go on a core deadline heap of its
// own, served by one timer. Otherwise the clock is a fake one and every awaited message keeps a
// timer of its own, as 1.x gave each: a fake clock can drop every timer it holds and keep its
// functions (node:test's mock.timers.reset(), jest's clearAllTimers(), sinon's clock.reset()),
// which would leave one shared timer unarmed for good; a fake `setTimeout` without a fake `Date`
// tells its time only by firing its timers; and a fake `Date` beside Node's timers does not move
// with them.

const nodeTimers = require('node:timers')
const { isProxy } = require('node:util').types
const pending = require('./pending')

const MAX_DELAY = 0x7fffffff // setTimeout fires at once for anything longer

class Clock {
  /**
   * @param clocks the `Clocks` it belongs to; its deadlines start on their fake clocks' core clock
   * @param setTimeout, DateClass, dateNow the globals found (`clearTimeout` is taken with them)
   */
  constructor(clocks, setTimeout, DateClass, dateNow) {
    this.clocks = clocks
    this.core = clocks.core
    this.onExpired = clocks.onExpired
    this.id = clocks.fakeCoreClock()
    this.setTimeout = setTimeout
    this.clearTimeout = globalThis.clearTimeout
    this.Date = DateClass
    // `Date.now` itself is part of the clock: a stub of it alone (sinon.stub(Date, 'now'),
    // jest.spyOn(Date, 'now'), node:test's mock.method) keeps the `Date` object and must not move
    // this clock's deadlines.
    this.dateNow = dateNow
    this.timer = null
    this.armedAt = Infinity
    this.firesAt = -Infinity
    this.fire = this.fire.bind(this)
    /** Until a timer of this clock shows it is Node's own, and its `Date` the real one. */
    this.timerPerMessage = true
  }

  now() {
    // Only a stub returns anything but a number (or throws), and only on a fake clock, whose
    // messages' own timers do not go by it.
    try {
      const now = this.dateNow.call(this.Date)
      return typeof now === 'number' && Number.isFinite(now) ? now : 0
    } catch {
      return 0
    }
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
   * held in `slot` with `resolve` (lib/pending.js) times out `timeout` ms from now, at `deadline`
   * on this clock's `Date`, on a timer of its own.
   */
  armFor(slot, resolve, deadline, timeout) {
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
      if (!pending.holds(slot, resolve)) return
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
      if (!pending.holds(slot, resolve)) return
      const out = clock.core.expireSlot(slot)
      if (out.length > 0) clock.onExpired(slot, out[0], out[1], out[2])
    }
    wait()
    if (isNodeTimeout(timer) && isRealNow(clock.dateNow)) clock.clocks.useHeap(clock)
    pending.alsoOnForget(slot, () => {
      // Only while the clock's fake is installed: another fake's clearTimeout would clear its own
      // timer of the same id, and node:test's, after a reset() dropped ours, another of its own.
      // And never a number given to Node's own clearTimeout (a fake of setTimeout alone): Node
      // clears the real timer it knows by that number.
      const clearTimeout = clock.clearTimeout
      if (timer === undefined || globalThis.clearTimeout !== clearTimeout) return
      if (typeof timer !== 'object' && clearTimeout === nodeTimers.clearTimeout) return
      clearTimeout.call(globalThis, timer)
    })
  }

  fire() {
    // The timer fired, so the time it was set for is reached on this clock, even if `Date.now()`
    // reads a millisecond short of it.
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

const functionToString = Function.prototype.toString

/**
 * Whether `now` is V8's own `Date.now`: every fake's and stub's is a JavaScript function, except a
 * Proxy (node:test's mock.method) or a bound function, which also print as native code.
 */
function isRealNow(now) {
  try {
    return typeof now === 'function' && !isProxy(now) && now.name === 'now' && functionToString.call(now).endsWith('{ [native code] }')
  } catch {
    return false
  }
}

/**
 * Clocks on Node's timers and the real `Date` kept to be found again when their globals come back
 * (real timers after a fake clock is uninstalled), the last used ones. An older one is dropped from
 * here; with a deadline left it keeps itself alive through its armed timer and still serves it.
 * Fake clocks are never kept: their messages hold their own timers, so one made anew when the
 * same fake comes back serves as well, and we keep no uninstalled fake alive with whatever its
 * functions hold (a test suite installs one per test).
 */
const KEPT_CLOCKS = 4

class Clocks {
  constructor(core, onExpired) {
    this.core = core
    this.onExpired = onExpired
    this.kept = []
    this.last = null
    /** One core clock for every fake one: nothing expires its deadlines, each message's timer does. */
    this.fakes = -1
  }

  /** The clock of the globals in place right now; the core sets new deadlines on it. */
  current() {
    const last = this.last
    const setTimeout = globalThis.setTimeout
    const DateClass = globalThis.Date
    const dateNow = DateClass.now
    if (last !== null && last.setTimeout === setTimeout && last.Date === DateClass && last.dateNow === dateNow) return last
    const kept = this.kept
    const found = kept.findIndex((c) => c.setTimeout === setTimeout && c.Date === DateClass && c.dateNow === dateNow)
    let clock
    if (found < 0) clock = new Clock(this, setTimeout, DateClass, dateNow)
    else {
      clock = kept.splice(found, 1)[0]
      kept.push(clock)
    }
    this.last = clock
    this.core.useClock(clock.id)
    return clock
  }

  fakeCoreClock() {
    if (this.fakes < 0) this.fakes = this.core.addClock()
    return this.fakes
  }

  /** `clock`, the current one, is on Node's timers and Date: its deadlines go on a heap of its own. */
  useHeap(clock) {
    clock.timerPerMessage = false
    clock.id = this.core.addClock()
    this.core.useClock(clock.id)
    this.kept.push(clock)
    if (this.kept.length > KEPT_CLOCKS) this.kept.shift()
  }
}

module.exports = { Clocks }
