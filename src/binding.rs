//! The N-API surface: plain functions over [`crate::core::Core`] handles. Numbers in, numbers out;
//! the encodings below are the whole contract with `lib/native.js`.

use crate::core::envelope::{Facts, NsField};
use crate::core::error::{CoreError, ErrorClass};
use crate::core::{Core, Received, Sent};
use napi::bindgen_prelude::{Float64Array, Uint32Array};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use std::cell::RefCell;

/// `receive()` flags: bits describing the envelope.
const FLAG_OBJECT: u32 = 1;
const FLAG_ACK: u32 = 2;
const FLAG_CMD_OK: u32 = 4;
const FLAG_WORKER_READY: u32 = 8;

/// `receive()` results below zero (zero and up: the slot an acknowledgement settles).
const RECEIVED_IGNORE: i64 = -1;
const RECEIVED_DELIVER: i64 = -2;
const RECEIVED_UNKNOWN_NAMESPACE: i64 = -3;
const RECEIVED_UNHANDLED: i64 = -4;
const RECEIVED_UNMATCHED_ACK: i64 = -5;
const RECEIVED_ANNOUNCE: i64 = -6;

/// `receive()` namespace argument below zero.
const NS_UNKNOWN: i32 = -1;

/// Throws the core error as the JavaScript class the SPEC names.
fn throw(env: &Env, err: CoreError) -> Error {
    let message = err.to_string();
    let thrown = match err.class() {
        ErrorClass::TypeError => env.throw_type_error(&message, None),
        ErrorClass::Error => env.throw_error(&message, None),
    };
    match thrown {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(failed) => failed,
    }
}

/// How much state the core holds (for tests and debugging).
#[napi(object)]
pub struct CoreStats {
    pub peers: u32,
    pub slots: u32,
    pub pending: u32,
    pub queued: u32,
    pub deadline_entries: u32,
}

thread_local! {
    /// The core of this JavaScript thread. Every copy of clusterphone 2 in a process shares one
    /// JavaScript instance (lib/shared.js), so one core per thread is all there is. Plain functions
    /// over it cost a third of a `#[napi]` class method, which unwraps `this` on every call, and
    /// every argument costs a conversion, so calls take as few as they can.
    static CORE: RefCell<Core> = RefCell::new(Core::default());
}

/// Runs `f` on this thread's core.
fn with_core<T>(f: impl FnOnce(&mut Core) -> T) -> T {
    CORE.with(|core| f(&mut core.borrow_mut()))
}

/// The id of namespace `name`, creating it; throws the SPEC's errors for "" and "clusterphone".
#[napi]
pub fn core_open_namespace(env: Env, name: String) -> Result<u32> {
    with_core(|core| core.open_namespace(&name)).map_err(|err| throw(&env, err))
}

/// The id of the internal "clusterphone" namespace.
#[napi]
pub fn core_internal_namespace() -> u32 {
    crate::core::registry::INTERNAL_NS
}

/// Sequence numbers of `ns` start at `base` from now on (namespaces shared with 1.x).
#[napi]
pub fn core_set_sequence_base(env: Env, ns: u32, base: f64) -> Result<()> {
    let Some(base) = crate::core::envelope::sequence_number(base) else {
        return Err(throw(&env, CoreError::UnknownNamespaceId));
    };
    with_core(|core| core.set_sequence_base(ns, base)).map_err(|err| throw(&env, err))
}

/// A new peer; `ready` for the primary as seen from a worker.
#[napi]
pub fn core_add_peer(ready: bool) -> u32 {
    with_core(|core| core.add_peer(ready))
}

/// A new clock (a set of `setTimeout`/`Date` globals) with its own deadlines.
#[napi]
pub fn core_add_clock() -> u32 {
    with_core(|core| core.add_clock())
}

/// `send()` flags.
const SEND_HAS_HANDLE: u32 = 1;
const SEND_FORCE_QUEUE: u32 = 2;

/// Returns the sequence number (> 0) of a message to write now, or `-(slot + 1)` of one queued
/// (its seq comes back from `announce`). Flags: 1 the message has a handle, 2 queue it anyway.
#[napi]
pub fn core_send(env: Env, peer: u32, ns: u32, flags: u32) -> Result<f64> {
    let sent = with_core(|core| {
        core.send(
            peer,
            ns,
            flags & SEND_HAS_HANDLE != 0,
            flags & SEND_FORCE_QUEUE != 0,
        )
    });
    match sent {
        Ok(Sent::Now { seq }) => Ok(seq as f64),
        Ok(Sent::Queued { slot, .. }) => Ok(-(f64::from(slot) + 1.0)),
        Err(err) => Err(throw(&env, err)),
    }
}

/// Awaits the acknowledgement of a sent message; returns its slot, or -1 when the peer is gone.
// One flat call per awaited message: an options object would cost more than the crossing.
#[allow(clippy::too_many_arguments)]
#[napi]
pub fn core_watch_sent(
    env: Env,
    peer: u32,
    ns: u32,
    seq: f64,
    clock: u32,
    now: f64,
    timeout: f64,
) -> Result<i64> {
    let Some(seq) = crate::core::envelope::sequence_number(seq) else {
        return Err(throw(&env, CoreError::UnknownSlot));
    };
    match with_core(|core| core.watch_sent(peer, ns, seq, clock, now, timeout)) {
        Ok(slot) => Ok(i64::from(slot)),
        Err(CoreError::PeerGone) => Ok(-1),
        Err(err) => Err(throw(&env, err)),
    }
}

/// Awaits the acknowledgement of a queued message; its timeout starts now.
#[napi]
pub fn core_watch_queued(env: Env, slot: u32, clock: u32, now: f64, timeout: f64) -> Result<()> {
    with_core(|core| core.watch_queued(slot, clock, now, timeout)).map_err(|err| throw(&env, err))
}

/// Forgets the awaited message (peer, ns, seq); returns its slot, or -1 when none was awaited.
#[napi]
pub fn core_settle(peer: u32, ns: u32, seq: f64) -> i64 {
    crate::core::envelope::sequence_number(seq)
        .and_then(|seq| with_core(|core| core.settle(peer, ns, seq)))
        .map_or(-1, i64::from)
}

/// Classifies an envelope from `peer`. `ns` is a namespace id, -1 for a name we do not have,
/// -2 for a missing or non-string one; `number` is the `ack` or `seq` field. Returns the slot an
/// acknowledgement settles (>= 0) or one of the `RECEIVED_*` codes.
#[napi]
pub fn core_receive(peer: u32, flags: u32, ns: i32, number: f64) -> i64 {
    let ns = match u32::try_from(ns) {
        Ok(id) => NsField::Known(id),
        Err(_) if ns == NS_UNKNOWN => NsField::Unknown,
        Err(_) => NsField::Invalid,
    };
    let facts = Facts {
        is_object: flags & FLAG_OBJECT != 0,
        has_ack: flags & FLAG_ACK != 0,
        ns,
        number,
        cmd_ok: flags & FLAG_CMD_OK != 0,
        worker_ready: flags & FLAG_WORKER_READY != 0,
    };
    match with_core(|core| core.receive(peer, facts)) {
        Received::Settled(slot) => i64::from(slot),
        Received::Ignore => RECEIVED_IGNORE,
        Received::Deliver => RECEIVED_DELIVER,
        Received::UnknownNamespace => RECEIVED_UNKNOWN_NAMESPACE,
        Received::Unhandled => RECEIVED_UNHANDLED,
        Received::UnmatchedAck => RECEIVED_UNMATCHED_ACK,
        Received::Announce => RECEIVED_ANNOUNCE,
    }
}

/// `peer` announced namespace `ns` (-1: one we do not have). Returns
/// `[firstTime, slot, seq, slot, seq, ...]`: the queue to send, in order.
#[napi]
pub fn core_announce(peer: u32, ns: i32) -> Float64Array {
    let announced = with_core(|core| core.announce(peer, u32::try_from(ns).ok()));
    let mut out = Vec::with_capacity(1 + 2 * announced.flushed.len());
    out.push(if announced.first_time { 1.0 } else { 0.0 });
    for (slot, seq) in announced.flushed {
        out.push(f64::from(slot));
        out.push(seq as f64);
    }
    Float64Array::new(out)
}

/// Deadlines of `clock` passed at `now`. Returns `[next, slot, peer, ns, seq, ...]` where
/// `next` is the earliest remaining deadline or NaN when there is none.
#[napi]
pub fn core_expire(clock: u32, now: f64) -> Float64Array {
    let expired = with_core(|core| core.expire(clock, now));
    let mut out = Vec::with_capacity(1 + 4 * expired.expired.len());
    out.push(expired.next.unwrap_or(f64::NAN));
    for expiry in expired.expired {
        out.push(f64::from(expiry.slot));
        out.push(f64::from(expiry.peer));
        out.push(f64::from(expiry.ns));
        out.push(expiry.seq as f64);
    }
    Float64Array::new(out)
}

/// The peer is gone: the slots held for it, in send order, all forgotten.
#[napi]
pub fn core_peer_gone(peer: u32) -> Uint32Array {
    Uint32Array::new(with_core(|core| core.peer_gone(peer)))
}

/// How much state the core holds (for tests and debugging).
#[napi]
pub fn core_stats() -> CoreStats {
    let stats = with_core(|core| core.stats());
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    CoreStats {
        peers: count(stats.peers),
        slots: count(stats.slots),
        pending: count(stats.pending),
        queued: count(stats.queued),
        deadline_entries: count(stats.deadline_entries),
    }
}
