'use strict'
// The same-turn window of `within()`/`acknowledged()`: valid until the event loop's next check
// phase, as 1.x's per-message `setImmediate` was. One `setImmediate` per turn that sends, not per
// message. `setImmediate` is read from the global object when used, so fake timers that replace it
// are honoured; if they were swapped since the last schedule, a new one is scheduled on the current
// function so a window never stays open forever on a clock that is gone.

let turn = 0
let scheduledWith = null
/** A message's turn that is never the current one: its window is closed. */
const CLOSED_TURN = -1

function endTurn() {
  turn++
  scheduledWith = null
}

/** The current turn number; call it when a message is created. */
function currentTurn() {
  const schedule = globalThis.setImmediate
  if (scheduledWith !== schedule) {
    scheduledWith = schedule
    schedule(endTurn)
  }
  return turn
}

/** Whether a message created in `messageTurn` may still be configured. */
function isCurrentTurn(messageTurn) {
  return messageTurn === turn
}

module.exports = { currentTurn, isCurrentTurn, CLOSED_TURN }
