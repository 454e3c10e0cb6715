//! A slab of message slots. A slot stands for one message the core still has to remember:
//! queued for a worker that is not ready, or awaiting its acknowledgement. JavaScript keeps the
//! message's resolvers and payload in arrays indexed by the same slot id.

use super::{ClockId, PeerId, SlotId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotState {
    /// Waiting in a (peer, namespace) queue; `awaited` once `acknowledged()` was called.
    Queued { awaited: bool },
    /// Sent, acknowledgement awaited.
    Pending,
}

impl SlotState {
    /// `acknowledged()` was called: the slot has a deadline.
    pub fn is_awaited(self) -> bool {
        matches!(
            self,
            SlotState::Queued { awaited: true } | SlotState::Pending
        )
    }
}

/// When to give up on a message: a time on one clock. The time is kept in that clock's heap only.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadline {
    pub clock: ClockId,
    pub at: f64,
}

/// What the core remembers of a message (a copy: the slab stores it packed).
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    pub peer: PeerId,
    /// Namespace ids fit in 16 bits (`registry::MAX_NAMESPACES`); callers check before inserting.
    pub ns: u16,
    pub seq: u64,
    pub state: SlotState,
    /// The clock of its deadline, once awaited. The deadline's time is only in that clock's heap.
    pub clock: Option<ClockId>,
}

/// Slab size kept when it empties.
const KEEP_SLOTS: usize = 1024;

/// One slab entry, 24 bytes (a nested `Option<Slot>` took 56): the slot's fields flattened, the
/// state's spare values marking a free entry, and the clock read only while the state is awaited.
#[derive(Debug)]
struct Entry {
    seq: u64,
    peer: PeerId,
    clock: ClockId,
    /// Bumped every time the slot is freed, so stale deadline entries can tell.
    generation: u32,
    ns: u16,
    /// None while the entry is free.
    state: Option<SlotState>,
}

// The slab is most of what the core holds per message: keep an entry at 24 bytes.
const _: () = assert!(std::mem::size_of::<Entry>() <= 24);

impl Entry {
    fn slot(&self) -> Option<Slot> {
        let state = self.state?;
        Some(Slot {
            peer: self.peer,
            ns: self.ns,
            seq: self.seq,
            state,
            clock: state.is_awaited().then_some(self.clock),
        })
    }

    fn set(&mut self, slot: Slot) {
        self.seq = slot.seq;
        self.peer = slot.peer;
        self.clock = slot.clock.unwrap_or(0);
        self.ns = slot.ns;
        self.state = Some(slot.state);
    }
}

#[derive(Debug, Default)]
pub struct Slots {
    entries: Vec<Entry>,
    free: Vec<SlotId>,
    in_use: usize,
}

impl Slots {
    pub fn insert(&mut self, slot: Slot) -> SlotId {
        self.in_use += 1;
        if let Some(id) = self.free.pop() {
            if let Some(entry) = self.entries.get_mut(id as usize) {
                entry.set(slot);
                return id;
            }
        }
        let mut entry = Entry {
            seq: 0,
            peer: 0,
            clock: 0,
            generation: 0,
            ns: 0,
            state: None,
        };
        entry.set(slot);
        self.entries.push(entry);
        (self.entries.len() - 1) as SlotId
    }

    pub fn get(&self, id: SlotId) -> Option<Slot> {
        self.entries.get(id as usize)?.slot()
    }

    /// Overwrites a held slot (its id and generation stay); false when the id holds nothing.
    pub fn update(&mut self, id: SlotId, slot: Slot) -> bool {
        match self.entries.get_mut(id as usize) {
            Some(entry) if entry.state.is_some() => {
                entry.set(slot);
                true
            }
            _ => false,
        }
    }

    pub fn generation(&self, id: SlotId) -> Option<u32> {
        self.entries.get(id as usize).map(|entry| entry.generation)
    }

    /// Frees the slot and hands back what it held; the id may be handed out again.
    pub fn remove(&mut self, id: SlotId) -> Option<Slot> {
        let entry = self.entries.get_mut(id as usize)?;
        let slot = entry.slot()?;
        entry.state = None;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(id);
        self.in_use -= 1;
        Some(slot)
    }

    /// Gives the memory of a burst back once nothing is held (small slabs are kept, so a steady
    /// trickle does not reallocate). Generations restart, so the caller must drop every deadline
    /// entry that could still name an old slot.
    pub fn reset_if_empty(&mut self) -> bool {
        if self.in_use != 0 || self.entries.len() <= KEEP_SLOTS {
            return false;
        }
        self.entries = Vec::new();
        self.free = Vec::new();
        true
    }

    pub fn len(&self) -> usize {
        self.in_use
    }

    pub fn is_empty(&self) -> bool {
        self.in_use == 0
    }

    /// Bytes allocated for the slab and its free list (for the footprint test).
    #[cfg(test)]
    pub fn bytes_held(&self) -> usize {
        use std::mem::size_of;
        self.entries.capacity() * size_of::<Entry>() + self.free.capacity() * size_of::<SlotId>()
    }

    /// Ids of every slot held for `peer`, in id order.
    pub fn of_peer(&self, peer: PeerId) -> Vec<SlotId> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.state.is_some() && entry.peer == peer)
            .map(|(id, _)| id as SlotId)
            .collect()
    }
}

/// `size_of` of a slab entry (for the footprint test).
#[cfg(test)]
pub fn entry_size() -> usize {
    std::mem::size_of::<Entry>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(peer: PeerId) -> Slot {
        Slot {
            peer,
            ns: 1,
            seq: 1,
            state: SlotState::Pending,
            clock: Some(0),
        }
    }

    #[test]
    fn ids_are_reused_with_a_new_generation() {
        let mut slots = Slots::default();
        let a = slots.insert(slot(1));
        let generation = slots.generation(a);
        assert!(slots.remove(a).is_some());
        assert!(slots.remove(a).is_none(), "a slot is freed once");
        let b = slots.insert(slot(2));
        assert_eq!(a, b);
        assert_ne!(slots.generation(b), generation);
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn slots_of_a_peer() {
        let mut slots = Slots::default();
        let a = slots.insert(slot(1));
        slots.insert(slot(2));
        let c = slots.insert(slot(1));
        assert_eq!(slots.of_peer(1), vec![a, c]);
        assert!(slots.get(99).is_none());
    }
}
