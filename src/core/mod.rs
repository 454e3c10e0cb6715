//! The sans-IO core: it never sends, sleeps or reads a clock. JavaScript tells it what happened
//! (a send, an `acknowledged()`, an incoming envelope, a timer, a dead worker) with small numbers
//! and `Date.now()`, and it answers with what to do: a sequence number, slots to settle or reject,
//! queued slots to flush, the next deadline.

pub mod deadlines;
pub mod envelope;
pub mod error;
pub mod peers;
pub mod pending;
pub mod registry;
pub mod slots;

use deadlines::{Deadlines, Due};
use envelope::{classify, Facts, Verdict};
use error::CoreError;
use peers::Peers;
use pending::{Pending, PendingKey};
use registry::Registry;
use rustc_hash::FxHashMap;
pub use slots::Deadline;
use slots::{Slot, SlotState, Slots};

pub type PeerId = u32;
pub type NsId = u32;
pub type SlotId = u32;
pub type ClockId = u32;

/// What became of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Write it to the channel now with this sequence number.
    Now { seq: u64 },
    /// Keep it (payload and handle stay in JavaScript under `slot`) until the peer is ready.
    Queued { seq: u64, slot: SlotId },
}

/// A message whose deadline passed before its acknowledgement came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub slot: SlotId,
    pub peer: PeerId,
    pub ns: NsId,
    pub seq: u64,
}

#[derive(Debug, Default, PartialEq)]
pub struct Expired {
    pub expired: Vec<Expiry>,
    /// The clock's earliest remaining deadline, to arm its timer for.
    pub next: Option<f64>,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Announced {
    /// The peer was not ready before: emit `clusterphone:online`.
    pub first_time: bool,
    /// Queued (slot, seq) to send now, in order. Slots nobody awaits are already freed.
    pub flushed: Vec<(SlotId, u64)>,
}

/// How much state the core holds: zero everywhere once traffic and peers are gone.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub peers: usize,
    pub slots: usize,
    pub pending: usize,
    pub queued: usize,
    pub deadline_entries: usize,
}

fn pending_key(slot: &Slot) -> PendingKey {
    (slot.peer, slot.ns.into(), slot.seq)
}

#[derive(Debug, Default)]
pub struct Core {
    registry: Registry,
    peers: Peers,
    slots: Slots,
    pending: Pending,
    deadlines: Deadlines,
    /// First sequence number per namespace id where it is not 1 (see `set_sequence_base`).
    sequence_bases: FxHashMap<NsId, u64>,
}

/// A deadline entry still stands for its slot.
fn is_live(slots: &Slots, due: &Due) -> bool {
    slots.generation(due.slot) == Some(due.generation) && slots.get(due.slot).is_some()
}

impl Core {
    pub fn open_namespace(&mut self, name: &str) -> Result<NsId, CoreError> {
        self.registry.open(name)
    }

    pub fn namespace_id(&self, name: &str) -> Option<NsId> {
        self.registry.lookup(name)
    }

    pub fn namespace_name(&self, ns: NsId) -> Option<&str> {
        self.registry.name(ns)
    }

    /// A new peer: a worker in the primary (not ready until it announces a namespace), or the
    /// primary in a worker (ready from the start).
    pub fn add_peer(&mut self, ready: bool) -> PeerId {
        self.peers.add(ready)
    }

    pub fn add_clock(&mut self) -> ClockId {
        self.deadlines.add_clock()
    }

    /// Makes the sequence numbers of `ns` start at `base` (for every peer, present and future), so
    /// they never collide with those another library in this process hands out for the same
    /// namespace: clusterphone 1.x counts from 1, so 2.x counts from 2^32 in namespaces it shares.
    pub fn set_sequence_base(&mut self, ns: NsId, base: u64) -> Result<(), CoreError> {
        if (ns as usize) >= self.registry.len() || base == 0 {
            return Err(CoreError::UnknownNamespaceId);
        }
        self.sequence_bases.insert(ns, base);
        self.peers.raise_sequences(ns, base);
        Ok(())
    }

    /// Takes the next sequence number of (peer, ns) and decides whether the message goes out now
    /// or waits. Nothing is kept for a message that goes out now.
    pub fn send(
        &mut self,
        peer: PeerId,
        ns: NsId,
        has_handle: bool,
        force_queue: bool,
    ) -> Result<Sent, CoreError> {
        let ns16 = self.known_ns(ns)?;
        let base = self.sequence_bases.get(&ns).copied().unwrap_or(1);
        let state = self.peers.get_mut(peer).ok_or(CoreError::PeerGone)?;
        let ready = state.ready;
        let lane = state.lane(ns);
        if lane.next_seq < base {
            lane.next_seq = base;
        }
        // Nothing overtakes a queued message: while the queue has any, new ones join it.
        let must_queue = !ready || !lane.queue.is_empty();
        if must_queue && has_handle && !force_queue {
            return Err(if ready {
                CoreError::HandleBehindQueue
            } else {
                CoreError::HandleNotQueueable
            });
        }
        let seq = lane.next_seq;
        lane.next_seq += 1;
        if !must_queue {
            return Ok(Sent::Now { seq });
        }
        let slot = self.slots.insert(Slot {
            peer,
            ns: ns16,
            seq,
            state: SlotState::Queued { awaited: false },
            clock: None,
        });
        lane.queue.push_back(slot);
        Ok(Sent::Queued { seq, slot })
    }

    /// `acknowledged()` on a message that went out: remember it until its ack or deadline.
    pub fn watch_sent(
        &mut self,
        peer: PeerId,
        ns: NsId,
        seq: u64,
        deadline: Deadline,
    ) -> Result<SlotId, CoreError> {
        self.check(deadline)?;
        if self.peers.get(peer).is_none() {
            return Err(CoreError::PeerGone);
        }
        // Only a message sent in a known namespace can be awaited: send refuses the others.
        let ns16 = self.known_ns(ns)?;
        if let Some(slot) = self.pending.get(&self.slots, (peer, ns, seq)) {
            return Ok(slot);
        }
        let slot = self.slots.insert(Slot {
            peer,
            ns: ns16,
            seq,
            state: SlotState::Pending,
            clock: Some(deadline.clock),
        });
        self.pending.insert(&self.slots, (peer, ns, seq), slot);
        self.push_deadline(slot, deadline);
        Ok(slot)
    }

    /// `acknowledged()` on a message still queued: its timeout runs from now, queued or not.
    pub fn watch_queued(&mut self, slot: SlotId, deadline: Deadline) -> Result<(), CoreError> {
        self.check(deadline)?;
        let entry = self.slots.get(slot).ok_or(CoreError::UnknownSlot)?;
        match entry.state {
            SlotState::Queued { awaited: false } => {
                self.slots.update(
                    slot,
                    Slot {
                        state: SlotState::Queued { awaited: true },
                        clock: Some(deadline.clock),
                        ..entry
                    },
                );
                self.push_deadline(slot, deadline);
                Ok(())
            }
            SlotState::Queued { awaited: true } => Ok(()),
            SlotState::Pending => Err(CoreError::UnknownSlot),
        }
    }

    /// Classifies an incoming envelope; an acknowledgement that matches a message sent to this very
    /// peer settles it (`Received::Settled`).
    pub fn receive(&mut self, peer: PeerId, facts: Facts) -> Received {
        match classify(facts) {
            Verdict::Ack { ns, seq } => match self.settle(peer, ns, seq) {
                Some(slot) => Received::Settled(slot),
                None => Received::UnmatchedAck,
            },
            Verdict::Ignore => Received::Ignore,
            Verdict::Deliver { .. } => Received::Deliver,
            Verdict::Announce => Received::Announce,
            Verdict::UnknownNamespace { .. } => Received::UnknownNamespace,
            Verdict::Unhandled { .. } => Received::Unhandled,
        }
    }

    /// The acknowledgement of (peer, ns, seq) arrived: frees and returns its slot if awaited.
    pub fn settle(&mut self, peer: PeerId, ns: NsId, seq: u64) -> Option<SlotId> {
        let slot = self.pending.take(&self.slots, (peer, ns, seq))?;
        self.release(slot);
        Some(slot)
    }

    /// Gives up on a held message (its signal aborted): a queued one is never sent, a pending one
    /// no longer awaited. False when the slot holds nothing.
    pub fn cancel(&mut self, slot: SlotId) -> bool {
        let Some(entry) = self.slots.get(slot) else {
            return false;
        };
        match entry.state {
            SlotState::Pending => {
                self.pending.remove(pending_key(&entry), slot);
            }
            SlotState::Queued { .. } => {
                if let Some(peer) = self.peers.get_mut(entry.peer) {
                    // Cancels come mostly in send order: the slot is usually near the front.
                    let queue = &mut peer.lane(entry.ns.into()).queue;
                    if let Some(position) = queue.iter().position(|&queued| queued == slot) {
                        queue.remove(position);
                    }
                }
            }
        }
        self.release(slot);
        true
    }

    /// The peer announced namespace `ns` (None: one this process does not have). The peer is
    /// ready from now on, and that namespace's queue is handed back in order to be sent.
    pub fn announce(&mut self, peer: PeerId, ns: Option<NsId>) -> Announced {
        let Some(state) = self.peers.get_mut(peer) else {
            return Announced::default();
        };
        let first_time = !state.ready;
        state.ready = true;
        let Some(ns) = ns.filter(|&ns| (ns as usize) < self.registry.len()) else {
            return Announced {
                first_time,
                flushed: Vec::new(),
            };
        };
        let queue: Vec<SlotId> = state.lane(ns).queue.drain(..).collect();
        let mut flushed = Vec::with_capacity(queue.len());
        for slot in queue {
            let Some(entry) = self.slots.get(slot) else {
                continue;
            };
            flushed.push((slot, entry.seq));
            match entry.state {
                SlotState::Queued { awaited: true } => {
                    let entry = Slot {
                        state: SlotState::Pending,
                        ..entry
                    };
                    self.slots.update(slot, entry);
                    self.pending.insert(&self.slots, pending_key(&entry), slot);
                }
                SlotState::Queued { awaited: false } => {
                    self.slots.remove(slot);
                }
                SlotState::Pending => {
                    // A queue never holds a sent message; were one there, it stays awaited (and in
                    // the pending table) instead of leaving the table an id the slab freed.
                    debug_assert!(false, "slot {slot} is queued and pending at once");
                }
            }
        }
        self.shrink_if_idle();
        Announced {
            first_time,
            flushed,
        }
    }

    /// Every deadline of `clock` at or before `now`: those messages are forgotten (a queued one is
    /// dropped, never sent late) and handed back to be rejected.
    pub fn expire(&mut self, clock: ClockId, now: f64) -> Expired {
        let mut expired = Vec::new();
        // Queues that lost a message; pruned once each afterwards (one `retain` per expired message
        // made expiring n queued messages cost O(n^2)).
        let mut pruned: Vec<(PeerId, u16)> = Vec::new();
        loop {
            let slots = &self.slots;
            let Some(due) = self
                .deadlines
                .pop_due(clock, now, |due| is_live(slots, due))
            else {
                break;
            };
            let Some(slot) = self.slots.remove(due.slot) else {
                continue;
            };
            match slot.state {
                SlotState::Pending => {
                    self.pending.remove(pending_key(&slot), due.slot);
                }
                SlotState::Queued { .. } => {
                    if pruned.last() != Some(&(slot.peer, slot.ns)) {
                        pruned.push((slot.peer, slot.ns));
                    }
                }
            }
            expired.push(Expiry {
                slot: due.slot,
                peer: slot.peer,
                ns: slot.ns.into(),
                seq: slot.seq,
            });
        }
        // No slot was taken in between, so the ids still held are exactly the queue's survivors.
        pruned.sort_unstable();
        pruned.dedup();
        for (peer, ns) in pruned {
            if let Some(state) = self.peers.get_mut(peer) {
                let slots = &self.slots;
                state
                    .lane(ns.into())
                    .queue
                    .retain(|&queued| slots.get(queued).is_some());
            }
        }
        self.shrink_if_idle();
        let slots = &self.slots;
        let next = self.deadlines.next(clock, |due| is_live(slots, due));
        Expired { expired, next }
    }

    /// The timeout of one awaited message whose timer is its own (fake timers, lib/clocks.js):
    /// forgotten as `expire` forgets it, whatever its deadline says. None when `slot` holds no
    /// awaited message (settled, cancelled or gone since).
    pub fn expire_slot(&mut self, slot: SlotId) -> Option<Expiry> {
        let entry = self.slots.get(slot)?;
        if entry.state == (SlotState::Queued { awaited: false }) {
            return None;
        }
        let expiry = Expiry {
            slot,
            peer: entry.peer,
            ns: entry.ns.into(),
            seq: entry.seq,
        };
        self.cancel(slot);
        Some(expiry)
    }

    /// The earliest live deadline of `clock`.
    pub fn next_deadline(&mut self, clock: ClockId) -> Option<f64> {
        let slots = &self.slots;
        self.deadlines.next(clock, |due| is_live(slots, due))
    }

    /// The peer died or disconnected: everything held for it, pending or queued, is handed back
    /// in send order and forgotten, along with its sequence counters and readiness.
    pub fn peer_gone(&mut self, peer: PeerId) -> Vec<SlotId> {
        if self.peers.remove(peer).is_none() {
            return Vec::new();
        }
        let mut held = self.slots.of_peer(peer);
        held.sort_by_key(|&slot| self.slots.get(slot).map(|s| (s.ns, s.seq)));
        for &slot in &held {
            if let Some(entry) = self.slots.get(slot) {
                self.pending.remove(pending_key(&entry), slot);
            }
            self.release(slot);
        }
        held
    }

    pub fn stats(&self) -> Stats {
        Stats {
            peers: self.peers.len(),
            slots: self.slots.len(),
            pending: self.pending.len(),
            queued: self.peers.queued(),
            deadline_entries: self.deadlines.len(),
        }
    }

    /// A namespace id the registry handed out, in the 16 bits a slot keeps of it.
    fn known_ns(&self, ns: NsId) -> Result<u16, CoreError> {
        u16::try_from(ns)
            .ok()
            .filter(|&ns| usize::from(ns) < self.registry.len())
            .ok_or(CoreError::UnknownNamespaceId)
    }

    fn check(&self, deadline: Deadline) -> Result<(), CoreError> {
        if !self.deadlines.has_clock(deadline.clock) {
            return Err(CoreError::UnknownClock);
        }
        if deadline.at.is_nan() {
            return Err(CoreError::BadDeadline);
        }
        Ok(())
    }

    fn push_deadline(&mut self, slot: SlotId, deadline: Deadline) {
        if let Some(generation) = self.slots.generation(slot) {
            self.deadlines.push(
                deadline.clock,
                Due {
                    at: deadline.at,
                    slot,
                    generation,
                },
            );
        }
    }

    /// Frees a slot; its deadline entry, if any, goes stale.
    fn release(&mut self, slot: SlotId) {
        let Some(entry) = self.slots.remove(slot) else {
            return;
        };
        if let Some(clock) = entry.clock {
            let slots = &self.slots;
            self.deadlines.forget_one(clock, |due| is_live(slots, due));
        }
        self.shrink_if_idle();
    }

    /// Nothing held any more: every deadline entry left is stale, so drop them all (else they
    /// linger until their clock's timer fires), and give the memory of the last burst back.
    fn shrink_if_idle(&mut self) {
        if !self.slots.is_empty() {
            return;
        }
        self.slots.reset_if_empty();
        self.pending.shrink_if_empty();
        self.deadlines.clear();
    }
}

/// What to do with an incoming envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Malformed, unknown acknowledgement, or one for a message nobody awaits: nothing to do.
    Ignore,
    /// The acknowledgement settles this slot.
    Settled(SlotId),
    /// A well-formed acknowledgement nothing here awaits (maybe another library's in this process).
    UnmatchedAck,
    /// A message for its namespace's handler.
    Deliver,
    /// A worker announced a namespace (internal `workerReady`).
    Announce,
    /// Answer with "Unknown namespace.".
    UnknownNamespace,
    /// Answer with "Unhandled message type".
    Unhandled,
}

#[cfg(test)]
mod footprint;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
