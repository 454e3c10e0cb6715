//! Deadlines per clock. A clock is one pair of `setTimeout`/`Date` the JavaScript side found on
//! the global object; fake timers installed later get a clock of their own, so a deadline is only
//! ever compared with the time of the clock it was set on.
//!
//! Each clock is a min-heap of (deadline, slot, generation). Settling a message does not search the
//! heap: the entry goes stale (its slot generation moved on) and is skipped when it surfaces, and
//! the heap is rebuilt when stale entries outnumber live ones, so memory follows what is pending.

use super::{ClockId, SlotId};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

#[derive(Debug, Clone, Copy)]
pub struct Due {
    pub at: f64,
    pub slot: SlotId,
    pub generation: u32,
}

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.at
            .total_cmp(&other.at)
            .then(self.slot.cmp(&other.slot))
            .then(self.generation.cmp(&other.generation))
    }
}

/// Entries allowed to go stale before a rebuild is considered.
const STALE_SLACK: usize = 1024;
/// Heap capacity kept when a clock is cleared.
const KEEP_ENTRIES: usize = 1024;

#[derive(Debug, Default)]
struct Clock {
    heap: BinaryHeap<Reverse<Due>>,
    stale: usize,
}

impl Clock {
    /// Rebuilds the heap without its stale entries once they outnumber the live ones (plus slack),
    /// so the heap never holds more than about twice what is pending.
    fn compact_if_mostly_stale(&mut self, is_live: impl Fn(&Due) -> bool) {
        let live = self.heap.len().saturating_sub(self.stale);
        if self.stale > live + STALE_SLACK {
            self.heap.retain(|Reverse(due)| is_live(due));
            self.stale = 0;
        }
    }
}

#[derive(Debug, Default)]
pub struct Deadlines {
    clocks: Vec<Clock>,
}

impl Deadlines {
    pub fn add_clock(&mut self) -> ClockId {
        self.clocks.push(Clock::default());
        (self.clocks.len() - 1) as ClockId
    }

    pub fn has_clock(&self, clock: ClockId) -> bool {
        (clock as usize) < self.clocks.len()
    }

    pub fn push(&mut self, clock: ClockId, due: Due) {
        if let Some(clock) = self.clocks.get_mut(clock as usize) {
            clock.heap.push(Reverse(due));
        }
    }

    /// Records that one entry of `clock` no longer stands for a live slot.
    pub fn forget_one(&mut self, clock: ClockId, is_live: impl Fn(&Due) -> bool) {
        let Some(clock) = self.clocks.get_mut(clock as usize) else {
            return;
        };
        clock.stale += 1;
        clock.compact_if_mostly_stale(is_live);
    }

    /// Pops the earliest live entry due at `now` or before, skipping stale ones on the way.
    pub fn pop_due(
        &mut self,
        clock: ClockId,
        now: f64,
        is_live: impl Fn(&Due) -> bool,
    ) -> Option<Due> {
        // A clock that reads NaN is at no time: nothing is due (deadlines themselves are never NaN).
        if now.is_nan() {
            return None;
        }
        let clock = self.clocks.get_mut(clock as usize)?;
        while let Some(Reverse(due)) = clock.heap.peek() {
            if due.at > now {
                return None;
            }
            let due = *due;
            clock.heap.pop();
            if is_live(&due) {
                return Some(due);
            }
            clock.stale = clock.stale.saturating_sub(1);
        }
        None
    }

    /// Drops stale entries from the top, then reports the earliest live deadline. Expiring live
    /// entries can leave the stale ones behind them outnumbering the rest: they are compacted here.
    pub fn next(&mut self, clock: ClockId, is_live: impl Fn(&Due) -> bool) -> Option<f64> {
        let clock = self.clocks.get_mut(clock as usize)?;
        clock.compact_if_mostly_stale(&is_live);
        while let Some(Reverse(due)) = clock.heap.peek() {
            if is_live(due) {
                return Some(due.at);
            }
            clock.heap.pop();
            clock.stale = clock.stale.saturating_sub(1);
        }
        None
    }

    /// Drops every entry of every clock (all of them stale: nothing is pending). A small heap keeps
    /// its memory, so a steady trickle does not reallocate; a burst's is given back.
    pub fn clear(&mut self) {
        for clock in &mut self.clocks {
            if clock.heap.capacity() > KEEP_ENTRIES {
                clock.heap = BinaryHeap::new();
            } else {
                clock.heap.clear();
            }
            clock.stale = 0;
        }
    }

    /// Entries held across all clocks, stale ones included.
    pub fn len(&self) -> usize {
        self.clocks.iter().map(|clock| clock.heap.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes allocated for the heaps (for the footprint test).
    #[cfg(test)]
    pub fn bytes_held(&self) -> usize {
        let per_entry = std::mem::size_of::<Reverse<Due>>();
        self.clocks
            .iter()
            .map(|clock| clock.heap.capacity() * per_entry)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(at: f64, slot: SlotId) -> Due {
        Due {
            at,
            slot,
            generation: 0,
        }
    }

    #[test]
    fn pops_in_deadline_order_and_only_when_due() {
        let mut deadlines = Deadlines::default();
        let clock = deadlines.add_clock();
        deadlines.push(clock, due(30.0, 3));
        deadlines.push(clock, due(10.0, 1));
        deadlines.push(clock, due(20.0, 2));
        assert_eq!(deadlines.next(clock, |_| true), Some(10.0));
        assert!(deadlines.pop_due(clock, 9.0, |_| true).is_none());
        assert_eq!(
            deadlines.pop_due(clock, 25.0, |_| true).map(|d| d.slot),
            Some(1)
        );
        assert_eq!(
            deadlines.pop_due(clock, 25.0, |_| true).map(|d| d.slot),
            Some(2)
        );
        assert!(deadlines.pop_due(clock, 25.0, |_| true).is_none());
    }

    #[test]
    fn clocks_are_independent() {
        let mut deadlines = Deadlines::default();
        let real = deadlines.add_clock();
        let fake = deadlines.add_clock();
        deadlines.push(real, due(1_700_000_000_000.0, 1));
        deadlines.push(fake, due(100.0, 2));
        assert!(deadlines.pop_due(real, 150.0, |_| true).is_none());
        assert_eq!(
            deadlines.pop_due(fake, 150.0, |_| true).map(|d| d.slot),
            Some(2)
        );
    }

    #[test]
    fn stale_entries_are_skipped_and_compacted() {
        let mut deadlines = Deadlines::default();
        let clock = deadlines.add_clock();
        for slot in 0..5000 {
            deadlines.push(clock, due(slot as f64, slot));
        }
        // Every slot but the last settles.
        for _ in 0..4999 {
            deadlines.forget_one(clock, |due| due.slot == 4999);
        }
        assert!(
            deadlines.len() < 5000,
            "rebuilt once stale outnumbered live"
        );
        assert_eq!(deadlines.next(clock, |due| due.slot == 4999), Some(4999.0));
    }

    #[test]
    fn unknown_clock_is_harmless() {
        let mut deadlines = Deadlines::default();
        deadlines.push(7, due(1.0, 1));
        assert!(deadlines.pop_due(7, 2.0, |_| true).is_none());
        assert_eq!(deadlines.next(7, |_| true), None);
        assert!(deadlines.is_empty());
    }
}
