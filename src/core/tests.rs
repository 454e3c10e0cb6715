//! State transitions of the core, one behaviour per test.

use super::envelope::{Facts, NsField};
use super::slots::Deadline;
use super::*;

const CLOCK_NOW: f64 = 1_000.0;

/// The deadline `timeout` ms after `CLOCK_NOW` on `clock`.
fn at(clock: ClockId, timeout: f64) -> Deadline {
    Deadline {
        clock,
        at: CLOCK_NOW + timeout,
    }
}

struct World {
    core: Core,
    ns: NsId,
    clock: ClockId,
}

fn world() -> World {
    let mut core = Core::default();
    let ns = core.open_namespace("_").expect("valid name");
    let clock = core.add_clock();
    World { core, ns, clock }
}

/// Sends a message that must wait (its peer is not ready for `ns`): its slot and sequence number.
fn queue(core: &mut Core, peer: PeerId, ns: NsId) -> (SlotId, u64) {
    match core.send(peer, ns, false, false) {
        Ok(Sent::Queued { slot, seq }) => (slot, seq),
        other => panic!("expected a queued message, got {other:?}"),
    }
}

fn ack(ns: NsId, seq: u64) -> Facts {
    Facts {
        is_object: true,
        has_ack: true,
        ns: NsField::Known(ns),
        number: seq as f64,
        cmd_ok: false,
        worker_ready: false,
    }
}

#[test]
fn a_ready_peer_gets_messages_at_once_with_counting_seqs() {
    let World { mut core, ns, .. } = world();
    let other = core.open_namespace("other").expect("valid name");
    let peer = core.add_peer(true);
    assert_eq!(core.send(peer, ns, false, false), Ok(Sent::Now { seq: 1 }));
    assert_eq!(core.send(peer, ns, false, false), Ok(Sent::Now { seq: 2 }));
    assert_eq!(
        core.send(peer, other, false, false),
        Ok(Sent::Now { seq: 1 })
    );
    let second = core.add_peer(true);
    assert_eq!(
        core.send(second, ns, false, false),
        Ok(Sent::Now { seq: 1 })
    );
    assert_eq!(
        core.stats().slots,
        0,
        "unawaited messages leave nothing behind"
    );
}

#[test]
fn an_acknowledgement_settles_only_its_own_peers_message() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let a = core.add_peer(true);
    let b = core.add_peer(true);
    let Ok(Sent::Now { seq }) = core.send(a, ns, false, false) else {
        panic!("ready peer");
    };
    let slot = core
        .watch_sent(a, ns, seq, at(clock, 100.0))
        .expect("watch");
    assert_eq!(
        core.receive(b, ack(ns, seq)),
        Received::UnmatchedAck,
        "forged ack"
    );
    assert_eq!(core.receive(a, ack(ns, seq)), Received::Settled(slot));
    assert_eq!(
        core.receive(a, ack(ns, seq)),
        Received::UnmatchedAck,
        "settles once"
    );
    assert_eq!(core.stats().pending, 0);
    assert_eq!(core.stats().slots, 0);
}

#[test]
fn messages_queue_until_the_namespace_is_announced_and_keep_their_order() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(false);
    let first = core.send(peer, ns, false, false).expect("queue");
    let second = core.send(peer, ns, false, false).expect("queue");
    let (Sent::Queued { slot: s1, seq: 1 }, Sent::Queued { slot: s2, seq: 2 }) = (first, second)
    else {
        panic!("queued: {first:?} {second:?}");
    };
    core.watch_queued(s2, at(clock, 500.0))
        .expect("watch queued");
    let announced = core.announce(peer, Some(ns));
    assert!(announced.first_time);
    assert_eq!(announced.flushed, vec![(s1, 1), (s2, 2)]);
    // The awaited one is now pending, the other forgotten.
    assert_eq!(core.stats().pending, 1);
    assert_eq!(core.stats().slots, 1);
    assert_eq!(core.receive(peer, ack(ns, 2)), Received::Settled(s2));
    assert!(!core.announce(peer, Some(ns)).first_time);
}

/// A peer that is ready (it announced `ns`) while namespace "other" still holds a message queued
/// for it: the peer and "other".
fn ready_with_a_queue_in_other(core: &mut Core, ns: NsId) -> (PeerId, NsId) {
    let other = core.open_namespace("other").expect("valid name");
    let peer = core.add_peer(false);
    queue(core, peer, other);
    core.announce(peer, Some(ns));
    (peer, other)
}

#[test]
fn nothing_overtakes_a_queued_message_after_the_peer_is_ready() {
    let World { mut core, ns, .. } = world();
    let (peer, other) = ready_with_a_queue_in_other(&mut core, ns);
    // Ready now, but "other" still has a queue: join it.
    assert!(matches!(
        core.send(peer, other, false, false),
        Ok(Sent::Queued { seq: 2, .. })
    ));
    // A namespace with an empty queue goes out at once.
    assert_eq!(core.send(peer, ns, false, false), Ok(Sent::Now { seq: 1 }));
    assert_eq!(core.announce(peer, Some(other)).flushed.len(), 2);
}

#[test]
fn a_handle_is_never_queued_unless_forced() {
    let World { mut core, ns, .. } = world();
    let peer = core.add_peer(false);
    assert_eq!(
        core.send(peer, ns, true, false),
        Err(CoreError::HandleNotQueueable)
    );
    assert_eq!(core.stats().slots, 0, "a refused send leaves nothing");
    assert!(matches!(
        core.send(peer, ns, true, true),
        Ok(Sent::Queued { seq: 1, .. })
    ));
    core.announce(peer, Some(ns));
    assert_eq!(core.send(peer, ns, true, false), Ok(Sent::Now { seq: 2 }));
}

#[test]
fn a_handle_behind_a_ready_peers_queue_is_refused_with_its_own_reason() {
    let World { mut core, ns, .. } = world();
    let (peer, other) = ready_with_a_queue_in_other(&mut core, ns);
    assert_eq!(
        core.send(peer, other, true, false),
        Err(CoreError::HandleBehindQueue),
        "ready, but `other` still has a queue"
    );
    assert_eq!(core.send(peer, ns, true, false), Ok(Sent::Now { seq: 1 }));
    let refused = CoreError::HandleBehindQueue;
    assert_eq!(refused.code(), CoreError::HandleNotQueueable.code());
    assert!(refused.to_string().starts_with("You tried to send an FD"));
}

#[test]
fn deadlines_expire_pending_and_queued_messages() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let ready = core.add_peer(true);
    let waiting = core.add_peer(false);
    let sent = core
        .watch_sent(ready, ns, 1, at(clock, 100.0))
        .expect("watch");
    let (queued, _) = queue(&mut core, waiting, ns);
    core.watch_queued(queued, at(clock, 200.0))
        .expect("watch queued");
    assert_eq!(core.next_deadline(clock), Some(CLOCK_NOW + 100.0));

    let early = core.expire(clock, CLOCK_NOW + 99.0);
    assert!(early.expired.is_empty());
    assert_eq!(early.next, Some(CLOCK_NOW + 100.0));

    let first = core.expire(clock, CLOCK_NOW + 150.0);
    assert_eq!(first.expired.len(), 1);
    assert_eq!(first.expired[0].slot, sent);
    assert_eq!(first.next, Some(CLOCK_NOW + 200.0));

    let second = core.expire(clock, CLOCK_NOW + 200.0);
    assert_eq!(second.expired[0].slot, queued);
    assert_eq!(second.next, None);
    // The timed-out queued message is dropped, never sent late.
    assert!(core.announce(waiting, Some(ns)).flushed.is_empty());
    assert_eq!(core.stats().slots, 0);
}

#[test]
fn settled_messages_do_not_expire() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(true);
    core.watch_sent(peer, ns, 1, at(clock, 100.0))
        .expect("watch");
    assert!(core.settle(peer, ns, 1).is_some());
    assert!(core.expire(clock, CLOCK_NOW + 1_000.0).expired.is_empty());
    assert_eq!(core.next_deadline(clock), None);
}

#[test]
fn a_message_expires_alone_on_its_own_timer() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let ready = core.add_peer(true);
    let waiting = core.add_peer(false);
    let early = core
        .watch_sent(ready, ns, 1, at(clock, 100.0))
        .expect("watch");
    let late = core
        .watch_sent(ready, ns, 2, at(clock, 50.0))
        .expect("watch");
    let (queued, seq) = queue(&mut core, waiting, ns);
    assert_eq!(core.expire_slot(queued), None, "nobody awaits it");
    core.watch_queued(queued, at(clock, 10.0))
        .expect("watch queued");

    // Only the slot named expires, whatever the other deadlines say.
    let expiry = core.expire_slot(early).expect("awaited");
    assert_eq!(
        (expiry.slot, expiry.peer, expiry.ns, expiry.seq),
        (early, ready, ns, 1)
    );
    assert_eq!(core.expire_slot(early), None, "once");
    assert_eq!(core.settle(ready, ns, 1), None);
    assert!(
        core.settle(ready, ns, 2).is_some(),
        "the other still awaits"
    );
    assert_eq!(core.expire_slot(late), None, "settled");

    let expiry = core.expire_slot(queued).expect("awaited while queued");
    assert_eq!((expiry.peer, expiry.seq), (waiting, seq));
    assert!(
        core.announce(waiting, Some(ns)).flushed.is_empty(),
        "never sent late"
    );
    assert_eq!(core.stats().slots, 0);
    assert!(core.expire(clock, CLOCK_NOW + 1_000.0).expired.is_empty());
}

#[test]
fn a_gone_peer_hands_back_everything_and_leaves_no_state() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(false);
    let (queued, _) = queue(&mut core, peer, ns);
    core.watch_queued(queued, at(clock, 60_000.0))
        .expect("watch queued");
    core.announce(peer, None);
    let other = core.open_namespace("other").expect("valid name");
    let sent = core
        .watch_sent(peer, other, 1, at(clock, 60_000.0))
        .expect("watch");
    let held = core.peer_gone(peer);
    assert_eq!(held.len(), 2);
    assert!(held.contains(&queued) && held.contains(&sent));
    let stats = core.stats();
    assert_eq!(
        (stats.peers, stats.slots, stats.pending, stats.queued),
        (0, 0, 0, 0)
    );
    assert_eq!(core.send(peer, ns, false, false), Err(CoreError::PeerGone));
    assert_eq!(
        core.watch_sent(peer, ns, 9, at(clock, 1.0)),
        Err(CoreError::PeerGone)
    );
    assert!(core.peer_gone(peer).is_empty(), "idempotent");
    assert_eq!(core.next_deadline(clock), None);
}

#[test]
fn announcing_a_namespace_we_do_not_have_still_makes_the_peer_ready() {
    let World { mut core, ns, .. } = world();
    let peer = core.add_peer(false);
    let announced = core.announce(peer, None);
    assert!(announced.first_time);
    assert_eq!(core.send(peer, ns, false, false), Ok(Sent::Now { seq: 1 }));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(true);
    assert_eq!(
        core.watch_sent(peer, ns, 1, at(clock, f64::NAN)),
        Err(CoreError::BadDeadline)
    );
    assert_eq!(
        core.watch_sent(peer, ns, 1, at(99, 1.0)),
        Err(CoreError::UnknownClock)
    );
    assert_eq!(
        core.watch_queued(12345, at(clock, 1.0)),
        Err(CoreError::UnknownSlot)
    );
    assert_eq!(
        core.send(peer, 999, false, false),
        Err(CoreError::UnknownNamespaceId)
    );
    assert_eq!(
        core.watch_sent(peer, 999, 1, at(clock, 1.0)),
        Err(CoreError::UnknownNamespaceId)
    );
    assert_eq!(
        core.watch_sent(peer, 1 << 16, 1, at(clock, 1.0)),
        Err(CoreError::UnknownNamespaceId)
    );
    assert_eq!(core.announce(4242, Some(ns)), Announced::default());
    assert!(core.expire(99, CLOCK_NOW).expired.is_empty());
    assert_eq!(core.stats().slots, 0);
}

#[test]
fn watching_twice_is_one_slot() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(true);
    let a = core.watch_sent(peer, ns, 1, at(clock, 10.0));
    let b = core.watch_sent(peer, ns, 1, at(clock, 10.0));
    assert_eq!(a, b);
    assert_eq!(core.stats().slots, 1);
}

#[test]
fn a_sequence_base_applies_to_present_and_future_peers() {
    let World { mut core, ns, .. } = world();
    let early = core.add_peer(true);
    assert_eq!(core.send(early, ns, false, false), Ok(Sent::Now { seq: 1 }));
    core.set_sequence_base(ns, 1 << 32)
        .expect("known namespace");
    assert_eq!(
        core.send(early, ns, false, false),
        Ok(Sent::Now { seq: 1 << 32 })
    );
    let late = core.add_peer(true);
    assert_eq!(
        core.send(late, ns, false, false),
        Ok(Sent::Now { seq: 1 << 32 })
    );
    assert_eq!(
        core.set_sequence_base(999, 5),
        Err(CoreError::UnknownNamespaceId)
    );
}

#[test]
fn a_cancelled_message_is_never_sent_nor_awaited() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let waiting = core.add_peer(false);
    let (first, _) = queue(&mut core, waiting, ns);
    let (second, seq) = queue(&mut core, waiting, ns);
    assert!(core.cancel(first));
    assert!(!core.cancel(first), "once");
    assert_eq!(
        core.announce(waiting, Some(ns)).flushed,
        vec![(second, seq)]
    );

    let ready = core.add_peer(true);
    let slot = core
        .watch_sent(ready, ns, 1, at(clock, 10.0))
        .expect("watch");
    assert!(core.cancel(slot));
    assert_eq!(core.settle(ready, ns, 1), None);
    assert!(core.expire(clock, CLOCK_NOW + 100.0).expired.is_empty());
    assert_eq!(core.stats().slots, 0);
}

#[test]
fn memory_of_a_burst_is_given_back_and_ids_stay_safe() {
    let World {
        mut core,
        ns,
        clock,
    } = world();
    let peer = core.add_peer(true);
    for seq in 1..=3000 {
        core.watch_sent(peer, ns, seq, at(clock, 10.0))
            .expect("watch");
    }
    // Half are acknowledged, half time out.
    for seq in 1..=1500 {
        assert!(core.settle(peer, ns, seq).is_some());
    }
    assert_eq!(core.expire(clock, CLOCK_NOW + 10.0).expired.len(), 1500);
    assert_eq!(core.stats().slots, 0);
    assert_eq!(core.stats().deadline_entries, 0, "stale entries dropped");
    // A new message reuses slot ids from scratch and still expires exactly once.
    let slot = core
        .watch_sent(peer, ns, 3001, at(clock, 10.0))
        .expect("watch");
    let expired = core.expire(clock, CLOCK_NOW + 20.0).expired;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].slot, slot);
}
