//! The N-API surface: plain functions over this thread's [`Core`]. Numbers in, numbers out.
//!
//! A call costs ~40 ns plus ~35 ns per argument (each is a conversion through N-API), and a
//! `#[napi]` class method ~400 ns (it unwraps `this`), so the per-message calls are plain
//! functions taking few, packed arguments. The encodings, shared with `lib/native.js`:
//! - a lane is `peer * 65536 + ns` (namespace ids fit in 16 bits);
//! - an envelope is `(lane * 16) + flags`, where the namespace part may also be 65534 (a name we
//!   do not have) or 65535 (not a usable name);
//! - deadlines are on the clock last named with `coreUseClock`.
//!
//! The four calls made per message (`coreSend`, `coreWatchSent`, `coreSettle`, `coreReceive`)
//! are raw N-API callbacks in src/fast.rs, a third of the cost of these generated ones.

use crate::core::envelope::{sequence_number, Facts, NsField};
use crate::core::error::{CoreError, ErrorClass};
use crate::core::{Core, Deadline, NsId, PeerId, Received, Sent};
use napi::bindgen_prelude::{Float64Array, Uint32Array};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use std::cell::{Cell, RefCell};

thread_local! {
    /// The core of this JavaScript thread. Every copy of clusterphone 2 in a process shares one
    /// JavaScript instance (lib/shared.js), so one core per thread is all there is.
    static CORE: RefCell<Core> = RefCell::new(Core::default());
    /// The clock new deadlines are set on (see `coreUseClock`).
    pub(crate) static CLOCK: Cell<u32> = const { Cell::new(0) };
}

pub(crate) fn with_core<T>(f: impl FnOnce(&mut Core) -> T) -> T {
    CORE.with(|core| f(&mut core.borrow_mut()))
}

const LANE_NS_BITS: u32 = 16;
const NS_FIELD_UNKNOWN: u64 = 0xfffe;
const NS_FIELD_INVALID: u64 = 0xffff;

/// Envelope flags.
const FLAG_OBJECT: u64 = 1;
const FLAG_ACK: u64 = 2;
const FLAG_CMD_OK: u64 = 4;
const FLAG_WORKER_READY: u64 = 8;

/// `coreReceive` results below zero (zero and up: the slot an acknowledgement settles).
const RECEIVED_IGNORE: i64 = -1;
const RECEIVED_DELIVER: i64 = -2;
const RECEIVED_UNKNOWN_NAMESPACE: i64 = -3;
const RECEIVED_UNHANDLED: i64 = -4;
const RECEIVED_UNMATCHED_ACK: i64 = -5;
const RECEIVED_ANNOUNCE: i64 = -6;

/// A non-negative integer below 2^53 from a JavaScript number.
pub(crate) fn whole(value: f64) -> Option<u64> {
    if (0.0..=crate::core::envelope::MAX_SAFE_INTEGER).contains(&value) && value.fract() == 0.0 {
        Some(value as u64)
    } else {
        None
    }
}

/// (peer, namespace) of a lane number.
pub(crate) fn unpack_lane(lane: u64) -> Option<(PeerId, NsId)> {
    let peer = PeerId::try_from(lane >> LANE_NS_BITS).ok()?;
    Some((peer, (lane & 0xffff) as NsId))
}

/// Throws the core error as the JavaScript class the SPEC names.
fn throw(env: &Env, err: CoreError) -> Error {
    let message = err.to_string();
    let thrown = match err.class() {
        ErrorClass::TypeError => env.throw_type_error(&message, Some(err.code())),
        ErrorClass::Error => env.throw_error(&message, Some(err.code())),
    };
    match thrown {
        Ok(()) => Error::from_status(Status::PendingException),
        Err(failed) => failed,
    }
}

fn lane_of(env: &Env, lane: f64) -> Result<(PeerId, NsId)> {
    whole(lane)
        .and_then(unpack_lane)
        .ok_or_else(|| throw(env, CoreError::PeerGone))
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
    let Some(base) = sequence_number(base) else {
        return Err(throw(&env, CoreError::UnknownNamespaceId));
    };
    with_core(|core| core.set_sequence_base(ns, base)).map_err(|err| throw(&env, err))
}

/// A new peer; `ready` for the primary as seen from a worker.
#[napi]
pub fn core_add_peer(ready: bool) -> u32 {
    with_core(|core| core.add_peer(ready))
}

/// A new clock (one set of `setTimeout`/`Date` globals) with its own deadlines.
#[napi]
pub fn core_add_clock() -> u32 {
    with_core(|core| core.add_clock())
}

/// New deadlines are set on `clock` until another is named.
#[napi]
pub fn core_use_clock(clock: u32) {
    CLOCK.with(|current| current.set(clock));
}

/// A send's result as JavaScript gets it: the seq (> 0) to write now, or `-(slot + 1)` queued.
pub(crate) fn sent_number(sent: Sent) -> f64 {
    match sent {
        Sent::Now { seq } => seq as f64,
        Sent::Queued { slot, .. } => -(f64::from(slot) + 1.0),
    }
}

/// `coreSend` (src/fast.rs) for a message with a handle, which is queued only when `force_queue`.
#[napi]
pub fn core_send_handle(env: Env, lane: f64, force_queue: bool) -> Result<f64> {
    let (peer, ns) = lane_of(&env, lane)?;
    with_core(|core| core.send(peer, ns, true, force_queue))
        .map(sent_number)
        .map_err(|err| throw(&env, err))
}

/// Awaits the acknowledgement of a queued message until `deadline` on the current clock.
#[napi]
pub fn core_watch_queued(env: Env, slot: u32, deadline: f64) -> Result<()> {
    let deadline = Deadline {
        clock: CLOCK.with(Cell::get),
        at: deadline,
    };
    with_core(|core| core.watch_queued(slot, deadline)).map_err(|err| throw(&env, err))
}

/// Classifies an envelope (packed as above); `number` is its `ack` or `seq` field. Returns the
/// slot an acknowledgement settles (>= 0) or one of the `RECEIVED_*` codes. (`coreReceive`, a
/// raw callback in src/fast.rs.)
pub(crate) fn receive(envelope: f64, number: f64) -> i64 {
    let Some(packed) = whole(envelope) else {
        return RECEIVED_IGNORE;
    };
    let flags = packed & 0xf;
    let Some((peer, ns)) = unpack_lane(packed >> 4) else {
        return RECEIVED_IGNORE;
    };
    let ns = match u64::from(ns) {
        NS_FIELD_UNKNOWN => NsField::Unknown,
        NS_FIELD_INVALID => NsField::Invalid,
        _ => NsField::Known(ns),
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

/// Gives up on the message held in `slot` (its signal aborted); false when it holds nothing.
#[napi]
pub fn core_cancel(slot: u32) -> bool {
    with_core(|core| core.cancel(slot))
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

/// The one awaited message in `slot` timed out on its own timer. Returns `[peer, ns, seq]`, or
/// nothing when the slot holds no awaited message any more.
#[napi]
pub fn core_expire_slot(slot: u32) -> Float64Array {
    let out = match with_core(|core| core.expire_slot(slot)) {
        Some(expiry) => vec![
            f64::from(expiry.peer),
            f64::from(expiry.ns),
            expiry.seq as f64,
        ],
        None => Vec::new(),
    };
    Float64Array::new(out)
}

/// The peer is gone: the slots held for it, in send order, all forgotten.
#[napi]
pub fn core_peer_gone(peer: u32) -> Uint32Array {
    Uint32Array::new(with_core(|core| core.peer_gone(peer)))
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
