//! Per-peer state: readiness, a sequence counter and a queue per namespace.
//!
//! In the primary every worker is a peer; in a worker the primary is its only peer, ready from the
//! start. Readiness is per peer, as in 1.x: once a worker announced any namespace, sends in
//! namespaces with an empty queue go out at once.

use super::{NsId, PeerId, SlotId};
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

#[derive(Debug)]
pub struct Lane {
    /// The sequence number the next message in this namespace gets; starts at 1.
    pub next_seq: u64,
    /// Messages waiting for the peer to announce this namespace, oldest first.
    pub queue: VecDeque<SlotId>,
}

impl Default for Lane {
    fn default() -> Self {
        Lane {
            next_seq: 1,
            queue: VecDeque::new(),
        }
    }
}

#[derive(Debug, Default)]
pub struct Peer {
    pub ready: bool,
    lanes: Vec<Lane>,
}

impl Peer {
    pub fn lane(&mut self, ns: NsId) -> &mut Lane {
        let index = ns as usize;
        if self.lanes.len() <= index {
            self.lanes.resize_with(index + 1, Lane::default);
        }
        &mut self.lanes[index]
    }

    pub fn queued(&self) -> usize {
        self.lanes.iter().map(|lane| lane.queue.len()).sum()
    }
}

#[derive(Debug, Default)]
pub struct Peers {
    peers: FxHashMap<PeerId, Peer>,
    next_id: PeerId,
}

impl Peers {
    pub fn add(&mut self, ready: bool) -> PeerId {
        // Ids are not reused while a peer with that id lives, so a stale id never aliases a new peer.
        loop {
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            if let std::collections::hash_map::Entry::Vacant(entry) = self.peers.entry(id) {
                entry.insert(Peer {
                    ready,
                    lanes: Vec::new(),
                });
                return id;
            }
        }
    }

    pub fn get_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        self.peers.get_mut(&id)
    }

    pub fn get(&self, id: PeerId) -> Option<&Peer> {
        self.peers.get(&id)
    }

    pub fn remove(&mut self, id: PeerId) -> Option<Peer> {
        self.peers.remove(&id)
    }

    pub fn len(&self) -> usize {
        self.peers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    pub fn queued(&self) -> usize {
        self.peers.values().map(Peer::queued).sum()
    }

    /// Every peer's counter for `ns` continues at `base` at least.
    pub fn raise_sequences(&mut self, ns: NsId, base: u64) {
        for peer in self.peers.values_mut() {
            let lane = peer.lane(ns);
            lane.next_seq = lane.next_seq.max(base);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_start_at_one_per_namespace() {
        let mut peers = Peers::default();
        let id = peers.add(false);
        let peer = peers.get_mut(id).expect("just added");
        assert_eq!(peer.lane(3).next_seq, 1);
        peer.lane(3).next_seq += 1;
        assert_eq!(peer.lane(3).next_seq, 2);
        assert_eq!(peer.lane(1).next_seq, 1);
    }

    #[test]
    fn ids_are_distinct_and_removal_forgets() {
        let mut peers = Peers::default();
        let a = peers.add(true);
        let b = peers.add(false);
        assert_ne!(a, b);
        assert!(peers.get(a).is_some_and(|peer| peer.ready));
        assert!(peers.remove(a).is_some());
        assert!(peers.get(a).is_none());
        assert_eq!(peers.len(), 1);
    }
}
