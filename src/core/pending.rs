//! The awaited messages, found by (peer, namespace, seq) when their acknowledgement arrives.
//!
//! The table holds slot ids only (5 bytes a bucket with its control byte; a map holding the key
//! too took 25): the key is read back from the slab. So whenever the table looks up a key or grows,
//! every id in it must be a slot the slab holds: callers take a slot out of here before the slab
//! can hand its id out again.

use super::slots::Slots;
use super::{NsId, PeerId, SlotId};
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

/// Table capacity kept when it empties.
const KEEP_IDS: usize = 1024;

pub type PendingKey = (PeerId, NsId, u64);

fn hash(key: PendingKey) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// The key of a slot the slab holds.
fn key_of(slots: &Slots, id: SlotId) -> Option<PendingKey> {
    slots
        .get(id)
        .map(|slot| (slot.peer, slot.ns.into(), slot.seq))
}

#[derive(Debug, Default)]
pub struct Pending {
    table: HashTable<SlotId>,
}

impl Pending {
    pub fn get(&self, slots: &Slots, key: PendingKey) -> Option<SlotId> {
        self.table
            .find(hash(key), |&id| key_of(slots, id) == Some(key))
            .copied()
    }

    /// Adds `id`, which the slab already holds under `key` (and which is not in here yet).
    pub fn insert(&mut self, slots: &Slots, key: PendingKey, id: SlotId) {
        // Growing rehashes every id: all are in the slab (a missing one cannot be, see above).
        let rehash = |&id: &SlotId| {
            let key = key_of(slots, id);
            debug_assert!(
                key.is_some(),
                "the pending table holds slot {id}, which the slab freed"
            );
            key.map_or(0, hash)
        };
        self.table.insert_unique(hash(key), id, rehash);
    }

    /// Removes and returns the slot awaited under `key`.
    pub fn take(&mut self, slots: &Slots, key: PendingKey) -> Option<SlotId> {
        let entry = self
            .table
            .find_entry(hash(key), |&id| key_of(slots, id) == Some(key))
            .ok()?;
        Some(entry.remove().0)
    }

    /// Removes `id`, awaited under `key`. Compares ids only, so the slab may have freed it already.
    pub fn remove(&mut self, key: PendingKey, id: SlotId) {
        if let Ok(entry) = self.table.find_entry(hash(key), |&held| held == id) {
            entry.remove();
        }
    }

    /// Gives the memory of a burst back once nothing is awaited (a small table is kept, so a
    /// steady trickle does not reallocate).
    pub fn shrink_if_empty(&mut self) {
        if self.table.is_empty() && self.table.capacity() > KEEP_IDS {
            self.table = HashTable::new();
        }
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    #[cfg(test)]
    pub fn ids(&self) -> impl Iterator<Item = SlotId> + '_ {
        self.table.iter().copied()
    }

    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.table.capacity()
    }
}
