//! What the core holds per pending acknowledgement: `cargo test --no-default-features footprint --
//! --nocapture` prints the entry sizes and the bytes held with 100k acknowledgements pending.

use super::slots::Deadline;
use super::*;
use std::mem::size_of;

const PENDING: u64 = 100_000;

/// Bytes of a hashbrown table with room for `capacity` entries of `entry` bytes: a power of two of
/// buckets, 7/8 of them usable, one control byte each.
fn table_bytes(capacity: usize, entry: usize) -> usize {
    if capacity == 0 {
        return 0;
    }
    (capacity * 8 / 7).next_power_of_two() * (entry + 1)
}

impl Core {
    fn bytes_held(&self) -> (usize, usize, usize) {
        let pending = table_bytes(self.pending.capacity(), size_of::<SlotId>());
        (
            self.slots.bytes_held(),
            pending,
            self.deadlines.bytes_held(),
        )
    }
}

#[test]
fn bytes_per_pending_acknowledgement() {
    let mut core = Core::default();
    let ns = core.open_namespace("_").expect("valid name");
    let clock = core.add_clock();
    let peer = core.add_peer(true);
    for seq in 1..=PENDING {
        let deadline = Deadline {
            clock,
            at: 1_000.0 + seq as f64,
        };
        core.watch_sent(peer, ns, seq, deadline).expect("watch");
    }
    assert_eq!(core.stats().pending, PENDING as usize);
    let (slots, pending, deadlines) = core.bytes_held();
    let total = slots + pending + deadlines;
    println!(
        "size_of: Slot {} Entry {} Due {} pending bucket {}",
        size_of::<slots::Slot>(),
        slots::entry_size(),
        size_of::<Due>(),
        size_of::<SlotId>(),
    );
    println!(
        "{PENDING} pending: slots {slots} B, pending map {pending} B, deadlines {deadlines} B, \
         total {total} B = {} B per pending",
        total as f64 / PENDING as f64
    );
    // 24 B a slot, 16 a heap entry, 5 a table bucket, at the capacities doubling leaves.
    assert!(total <= 60 * PENDING as usize, "{total} B held");

    // Once the burst is acknowledged, its memory is given back.
    for seq in 1..=PENDING {
        assert!(core.settle(peer, ns, seq).is_some());
    }
    assert_eq!(core.bytes_held(), (0, 0, 0));
}
