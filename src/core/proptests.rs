//! Property tests: random sequences of operations on [`Core`], checked step by step against a small
//! reference model written from the SPEC (not from the core's code).
//!
//! `cargo test --no-default-features` runs proptest's default 256 cases (a few seconds). The long
//! run, for a quiet machine:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test --release --no-default-features proptests
//! ```
//!
//! (about 90 s on 2 cores; without `--release` it takes ~25 min, but also checks for integer
//! overflow.)
//!
//! The operations: add peers (ready or not), open namespaces (also "", "clusterphone",
//! "__proto__", ...), add clocks, send with and without a handle and `force_queue`, bursts of
//! thousands of sends, `watch_sent`/`watch_queued` with deadlines on several clocks (also NaN,
//! infinite, already past, unknown clocks, stale or made-up slot ids), acknowledgements (valid,
//! forged from another peer, in the wrong namespace, garbage numbers, not an object), arbitrary
//! `Facts`, announcements (also of namespaces we do not have), `expire` at advancing, going back,
//! NaN and infinite times, `next_deadline`, `peer_gone` (also of unknown or already gone peers),
//! `set_sequence_base`, and `cancel` (of held, stale and made-up slot ids).
//!
//! Checked after every operation:
//! - nothing panics, and every answer (sequence number, error, verdict, flushed queue, expired set,
//!   next deadline, slots handed back) is the model's;
//! - every slot the core hands back (settled, expired, flushed unawaited, rejected because its peer
//!   is gone, cancelled) stands for a message the model holds under that id right now, and that
//!   message then leaves the model: so no message is ever handed back twice, nor under a stale id
//!   (slot ids are reused once freed);
//! - queued messages are flushed in send order, each with the sequence number it got when sent;
//! - the sequence numbers of each (peer, namespace) strictly increase (start at 1, or at the
//!   namespace's base);
//! - `expire(clock, now)` returns exactly the awaited messages of that clock whose deadline is at or
//!   before `now`, never a later one (a NaN `now` expires nothing);
//! - after `peer_gone` the core holds nothing for that peer (no peer, slot or pending entry; sends,
//!   watches and announcements for it are refused);
//! - `stats()` equals the model's counts; deadline entries stay within what compaction allows, and
//!   are zero whenever no slot is held. At the end every peer goes and all of `stats()` is zero.

use super::envelope::{Facts, NsField};
use super::error::CoreError;
use super::registry::INTERNAL_NAME;
use super::slots::Deadline;
use super::{Announced, ClockId, Core, NsId, PeerId, Received, Sent, SlotId};
use proptest::prelude::*;
use std::collections::{HashMap, VecDeque};

/// `Number.MAX_SAFE_INTEGER`, written out here rather than taken from the core.
const SAFE: f64 = 9_007_199_254_740_991.0;
/// Entries a clock may hold beyond twice its live ones before it must have compacted (the core's
/// slack is 1024 stale entries).
const STALE_BOUND: usize = 1025;

const NAMES: &[&str] = &[
    "_",
    "myapp",
    "other",
    "",
    "clusterphone",
    "__proto__",
    "constructor",
    "toString",
];

/// Numbers that are not usable sequence numbers, and some edge ones that are.
const SPECIAL_NUMBERS: &[f64] = &[
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    0.0,
    -0.0,
    -1.0,
    0.5,
    1.5,
    SAFE,
    SAFE + 1.0,
    SAFE + 3.0,
    18_446_744_073_709_551_616.0,
    f64::MAX,
    f64::MIN_POSITIVE,
    1e300,
    -1e300,
    4_294_967_296.0,
];

/// An index resolved against what exists when the operation runs; about one in ten picks something
/// that does not exist.
type Pick = usize;

fn is_garbage(pick: Pick) -> bool {
    pick % 10 == 9
}

#[derive(Debug, Clone, Copy)]
enum At {
    /// `offset` ms after the model's current time (negative: already past).
    Offset(f64),
    Nan,
    Inf,
    NegInf,
}

#[derive(Debug, Clone, Copy)]
enum Now {
    /// Time moves forward by this much.
    Advance(f64),
    /// A clock read earlier than the last one (time does not move).
    Back(f64),
    Nan,
    Inf,
    NegInf,
}

#[derive(Debug, Clone, Copy)]
enum Num {
    /// The sequence number of a message sent earlier.
    MsgSeq(Pick),
    Small(u8),
    Special(usize),
}

#[derive(Debug, Clone, Copy)]
enum NsGen {
    Known(Pick),
    Unknown,
    Invalid,
}

#[derive(Debug, Clone, Copy)]
struct FactsGen {
    is_object: bool,
    has_ack: bool,
    ns: NsGen,
    number: Num,
    cmd_ok: bool,
    worker_ready: bool,
}

#[derive(Debug, Clone, Copy)]
enum Forge {
    Valid,
    OtherPeer(Pick),
    OtherNs(Pick),
    UnknownNs,
    InvalidNs,
    Number(Num),
    NotObject,
}

#[derive(Debug, Clone, Copy)]
enum SlotPick {
    /// A message still queued.
    Queued(Pick),
    /// A raw slot id: live, stale or never handed out.
    Raw(u32),
}

#[derive(Debug, Clone)]
enum Op {
    AddPeer(bool),
    OpenNs(usize),
    AddClock,
    Send {
        peer: Pick,
        ns: Pick,
        handle: bool,
        force: bool,
    },
    Burst {
        peer: Pick,
        ns: Pick,
        n: usize,
        watch: bool,
        clock: Pick,
        offset: f64,
    },
    WatchSent {
        msg: Pick,
        clock: Pick,
        at: At,
    },
    WatchQueued {
        target: SlotPick,
        clock: Pick,
        at: At,
    },
    Ack {
        msg: Pick,
        forge: Forge,
        cmd_ok: bool,
        worker_ready: bool,
    },
    AckMany {
        peer: Pick,
        skip_every: usize,
    },
    Receive {
        peer: Pick,
        facts: FactsGen,
    },
    Announce {
        peer: Pick,
        ns: Option<Pick>,
    },
    Expire {
        clock: Pick,
        now: Now,
    },
    NextDeadline {
        clock: Pick,
    },
    PeerGone {
        peer: Pick,
    },
    SetBase {
        ns: Pick,
        base: u64,
    },
    /// Gives up on a held message (an aborted signal).
    Cancel {
        target: SlotPick,
    },
}

// ------------------------------------------------------------------------------------- the model

#[derive(Debug, Clone, Copy, PartialEq)]
enum St {
    /// Written to the channel, nobody awaits it: the core holds nothing.
    Sent,
    Queued {
        slot: SlotId,
        awaited: Option<Deadline>,
    },
    Pending {
        slot: SlotId,
        deadline: Deadline,
    },
    Settled,
    Expired,
    /// Handed back by `peer_gone`.
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone)]
struct Msg {
    peer: PeerId,
    ns: NsId,
    seq: u64,
    st: St,
}

impl Msg {
    fn deadline(&self) -> Option<Deadline> {
        match self.st {
            St::Pending { deadline, .. } => Some(deadline),
            St::Queued { awaited, .. } => awaited,
            _ => None,
        }
    }
}

#[derive(Debug)]
struct Lane {
    next: u64,
    queue: VecDeque<usize>,
}

impl Lane {
    fn new() -> Self {
        Lane {
            next: 1,
            queue: VecDeque::new(),
        }
    }
}

#[derive(Debug, Default)]
struct PeerModel {
    ready: bool,
    lanes: HashMap<NsId, Lane>,
}

#[derive(Debug)]
struct Model {
    /// Namespace names by id; id 0 is the internal namespace.
    names: Vec<String>,
    clocks: u32,
    /// Peers alive.
    peers: HashMap<PeerId, PeerModel>,
    /// Every peer id ever handed out, gone ones too.
    all_peers: Vec<PeerId>,
    msgs: Vec<Msg>,
    /// Slots the core holds, by id, and the message each stands for.
    slots: HashMap<SlotId, usize>,
    pending: HashMap<(PeerId, NsId, u64), SlotId>,
    bases: HashMap<NsId, u64>,
    /// The last sequence number the core handed out per (peer, namespace).
    last_seq: HashMap<(PeerId, NsId), u64>,
    time: f64,
}

impl Model {
    fn new() -> Self {
        Model {
            names: vec![INTERNAL_NAME.to_owned()],
            clocks: 0,
            peers: HashMap::new(),
            all_peers: Vec::new(),
            msgs: Vec::new(),
            slots: HashMap::new(),
            pending: HashMap::new(),
            bases: HashMap::new(),
            last_seq: HashMap::new(),
            time: 1_000.0,
        }
    }

    fn peer_id(&self, pick: Pick) -> PeerId {
        if self.all_peers.is_empty() || is_garbage(pick) {
            // Never handed out in a test: ids count up from 0.
            return 1_000_000 + pick as PeerId;
        }
        self.all_peers[pick % self.all_peers.len()]
    }

    fn ns_id(&self, pick: Pick) -> NsId {
        let count = self.names.len() as NsId;
        if is_garbage(pick) {
            let garbage = [count, count + 1, 0xfffe, 0xffff, NsId::MAX];
            return garbage[(pick / 10) % garbage.len()];
        }
        (pick % self.names.len()) as NsId
    }

    fn clock_id(&self, pick: Pick) -> ClockId {
        if self.clocks == 0 || is_garbage(pick) {
            return self.clocks + (pick % 3) as ClockId;
        }
        (pick as ClockId) % self.clocks
    }

    fn deadline(&self, clock: Pick, at: At) -> Deadline {
        Deadline {
            clock: self.clock_id(clock),
            at: match at {
                At::Offset(offset) => self.time + offset,
                At::Nan => f64::NAN,
                At::Inf => f64::INFINITY,
                At::NegInf => f64::NEG_INFINITY,
            },
        }
    }

    fn number(&self, num: Num) -> f64 {
        match num {
            Num::MsgSeq(pick) if !self.msgs.is_empty() => {
                self.msgs[pick % self.msgs.len()].seq as f64
            }
            Num::MsgSeq(pick) => (pick % 5) as f64,
            Num::Small(n) => f64::from(n),
            Num::Special(i) => SPECIAL_NUMBERS[i % SPECIAL_NUMBERS.len()],
        }
    }

    fn ns_field(&self, gen: NsGen) -> NsField {
        match gen {
            NsGen::Known(pick) => NsField::Known(self.ns_id(pick)),
            NsGen::Unknown => NsField::Unknown,
            NsGen::Invalid => NsField::Invalid,
        }
    }

    fn clock_valid(&self, clock: ClockId) -> bool {
        clock < self.clocks
    }

    /// The errors `watch_*` must give for a deadline, before anything else.
    fn deadline_error(&self, deadline: Deadline) -> Option<CoreError> {
        if !self.clock_valid(deadline.clock) {
            Some(CoreError::UnknownClock)
        } else if deadline.at.is_nan() {
            Some(CoreError::BadDeadline)
        } else {
            None
        }
    }

    /// Takes a slot the core handed back out of the model; it must stand for a message now.
    fn take_slot(&mut self, slot: SlotId, what: &str) -> usize {
        let Some(index) = self.slots.remove(&slot) else {
            panic!("{what}: slot {slot} handed back but the model holds nothing under it (handed back twice, or never handed out)");
        };
        index
    }

    fn queued_count(&self) -> usize {
        self.peers
            .values()
            .flat_map(|peer| peer.lanes.values())
            .map(|lane| lane.queue.len())
            .sum()
    }

    /// Earliest deadline of a message awaited on `clock`.
    fn next_deadline(&self, clock: ClockId) -> Option<f64> {
        self.slots
            .values()
            .filter_map(|&index| self.msgs[index].deadline())
            .filter(|deadline| deadline.clock == clock)
            .map(|deadline| deadline.at)
            .min_by(f64::total_cmp)
    }

    fn is_usable_seq(number: f64) -> Option<u64> {
        // A positive safe integer (SPEC §5 "Usable").
        if (1.0..=SAFE).contains(&number) && number.trunc() == number {
            Some(number as u64)
        } else {
            None
        }
    }
}

// ------------------------------------------------------------------------------------ the runner

struct Run {
    core: Core,
    model: Model,
}

impl Run {
    fn new() -> Self {
        let mut run = Run {
            core: Core::default(),
            model: Model::new(),
        };
        // A world to start from: two namespaces, two clocks, a ready and a not-ready peer.
        run.open_ns("_");
        run.open_ns("other");
        run.add_clock();
        run.add_clock();
        run.add_peer(true);
        run.add_peer(false);
        run
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::AddPeer(ready) => {
                self.add_peer(ready);
            }
            Op::OpenNs(i) => self.open_ns(NAMES[i % NAMES.len()]),
            Op::AddClock => self.add_clock(),
            Op::Send {
                peer,
                ns,
                handle,
                force,
            } => {
                let (peer, ns) = (self.model.peer_id(peer), self.model.ns_id(ns));
                self.send(peer, ns, handle, force);
            }
            Op::Burst {
                peer,
                ns,
                n,
                watch,
                clock,
                offset,
            } => self.burst(peer, ns, n, watch, clock, offset),
            Op::WatchSent { msg, clock, at } => self.watch_sent(msg, clock, at),
            Op::WatchQueued { target, clock, at } => self.watch_queued(target, clock, at),
            Op::Ack {
                msg,
                forge,
                cmd_ok,
                worker_ready,
            } => self.ack(msg, forge, cmd_ok, worker_ready),
            Op::AckMany { peer, skip_every } => self.ack_many(peer, skip_every),
            Op::Receive { peer, facts } => {
                let peer = self.model.peer_id(peer);
                let facts = Facts {
                    is_object: facts.is_object,
                    has_ack: facts.has_ack,
                    ns: self.model.ns_field(facts.ns),
                    number: self.model.number(facts.number),
                    cmd_ok: facts.cmd_ok,
                    worker_ready: facts.worker_ready,
                };
                self.receive(peer, facts);
            }
            Op::Announce { peer, ns } => {
                let peer = self.model.peer_id(peer);
                let ns = ns.map(|pick| self.model.ns_id(pick));
                self.announce(peer, ns);
            }
            Op::Expire { clock, now } => self.expire(clock, now),
            Op::NextDeadline { clock } => {
                let clock = self.model.clock_id(clock);
                assert_eq!(
                    self.core.next_deadline(clock),
                    self.model.next_deadline(clock),
                    "next_deadline({clock})"
                );
            }
            Op::PeerGone { peer } => {
                let peer = self.model.peer_id(peer);
                self.peer_gone(peer);
            }
            Op::SetBase { ns, base } => {
                let ns = self.model.ns_id(ns);
                self.set_base(ns, base);
            }
            Op::Cancel { target } => self.cancel(target),
        }
    }

    fn add_peer(&mut self, ready: bool) -> PeerId {
        let id = self.core.add_peer(ready);
        assert!(
            !self.model.all_peers.contains(&id),
            "peer id {id} handed out twice"
        );
        self.model.all_peers.push(id);
        self.model.peers.insert(
            id,
            PeerModel {
                ready,
                lanes: HashMap::new(),
            },
        );
        id
    }

    fn open_ns(&mut self, name: &str) {
        let got = self.core.open_namespace(name);
        let want = if name.is_empty() {
            Err(CoreError::NameRequired)
        } else if name == INTERNAL_NAME {
            Err(CoreError::PrivateName)
        } else if let Some(id) = self.model.names.iter().position(|n| n == name) {
            Ok(id as NsId)
        } else {
            self.model.names.push(name.to_owned());
            Ok((self.model.names.len() - 1) as NsId)
        };
        assert_eq!(got, want, "open_namespace({name:?})");
        if let Ok(id) = got {
            assert_eq!(self.core.namespace_name(id), Some(name));
            assert_eq!(self.core.namespace_id(name), Some(id));
        }
    }

    fn add_clock(&mut self) {
        let got = self.core.add_clock();
        assert_eq!(got, self.model.clocks, "clock ids count up");
        self.model.clocks += 1;
    }

    /// Sends one message; returns its index in the model when it got a sequence number.
    fn send(&mut self, peer: PeerId, ns: NsId, handle: bool, force: bool) -> Option<usize> {
        let got = self.core.send(peer, ns, handle, force);
        let m = &mut self.model;
        let want: Result<(u64, bool), CoreError> = (|| {
            if ns as usize >= m.names.len() {
                return Err(CoreError::UnknownNamespaceId);
            }
            let base = m.bases.get(&ns).copied().unwrap_or(1);
            let state = m.peers.get_mut(&peer).ok_or(CoreError::PeerGone)?;
            let lane = state.lanes.entry(ns).or_insert_with(Lane::new);
            // The lane catches up with the namespace's base even when the send is refused (which
            // only matters if the base is lowered later).
            lane.next = lane.next.max(base);
            let must_queue = !state.ready || !lane.queue.is_empty();
            if must_queue && handle && !force {
                return Err(if state.ready {
                    CoreError::HandleBehindQueue
                } else {
                    CoreError::HandleNotQueueable
                });
            }
            let seq = lane.next;
            lane.next = seq.checked_add(1).expect("model: sequence overflow");
            Ok((seq, must_queue))
        })();
        let (seq, queued) = match (got, want) {
            (Err(got), Err(want)) => {
                assert_eq!(got, want, "send({peer}, {ns}, {handle}, {force})");
                return None;
            }
            (Ok(Sent::Now { seq }), Ok((want_seq, false))) => {
                assert_eq!(seq, want_seq, "send: sequence number");
                (seq, None)
            }
            (Ok(Sent::Queued { seq, slot }), Ok((want_seq, true))) => {
                assert_eq!(seq, want_seq, "send: sequence number of a queued message");
                (seq, Some(slot))
            }
            (got, want) => {
                panic!("send({peer}, {ns}, {handle}, {force}): got {got:?}, model {want:?}")
            }
        };
        let last = m.last_seq.entry((peer, ns)).or_insert(0);
        assert!(
            seq > *last,
            "sequence numbers of ({peer}, {ns}) must strictly increase: {seq} after {last}"
        );
        *last = seq;
        let index = m.msgs.len();
        let st = match queued {
            None => St::Sent,
            Some(slot) => {
                assert!(
                    !m.slots.contains_key(&slot),
                    "send: slot {slot} handed out while still held"
                );
                m.slots.insert(slot, index);
                if let Some(lane) = m
                    .peers
                    .get_mut(&peer)
                    .and_then(|state| state.lanes.get_mut(&ns))
                {
                    lane.queue.push_back(index);
                }
                St::Queued {
                    slot,
                    awaited: None,
                }
            }
        };
        m.msgs.push(Msg { peer, ns, seq, st });
        Some(index)
    }

    fn burst(&mut self, peer: Pick, ns: Pick, n: usize, watch: bool, clock: Pick, offset: f64) {
        let (peer, ns) = (self.model.peer_id(peer), self.model.ns_id(ns));
        let deadline = self.model.deadline(clock, At::Offset(offset));
        for _ in 0..n {
            let Some(index) = self.send(peer, ns, false, false) else {
                return;
            };
            if watch {
                self.watch_index(index, deadline);
            }
        }
        self.check();
    }

    /// `watch_sent` or `watch_queued` for the message at `index`, whatever its state.
    fn watch_index(&mut self, index: usize, deadline: Deadline) {
        match self.model.msgs[index].st {
            St::Queued { slot, .. } => self.watch_slot(slot, deadline),
            _ => self.watch_sent_index(index, deadline),
        }
    }

    fn watch_sent(&mut self, pick: Pick, clock: Pick, at: At) {
        let candidates: Vec<usize> = (0..self.model.msgs.len())
            .filter(|&i| matches!(self.model.msgs[i].st, St::Sent | St::Pending { .. }))
            .collect();
        if candidates.is_empty() {
            return;
        }
        let index = candidates[pick % candidates.len()];
        let deadline = self.model.deadline(clock, at);
        self.watch_sent_index(index, deadline);
    }

    fn watch_sent_index(&mut self, index: usize, deadline: Deadline) {
        let Msg { peer, ns, seq, st } = self.model.msgs[index].clone();
        let got = self.core.watch_sent(peer, ns, seq, deadline);
        let m = &mut self.model;
        let what = || format!("watch_sent({peer}, {ns}, {seq}, {deadline:?})");
        if let Some(err) = m.deadline_error(deadline) {
            assert_eq!(got, Err(err), "{}", what());
            return;
        }
        if !m.peers.contains_key(&peer) {
            assert_eq!(got, Err(CoreError::PeerGone), "{}", what());
            return;
        }
        if let St::Pending { slot, .. } = st {
            // Watching twice is one slot; the first deadline stands.
            assert_eq!(got, Ok(slot), "{}: watched twice", what());
            return;
        }
        let slot = got.unwrap_or_else(|err| panic!("{}: {err:?}", what()));
        assert!(
            !m.slots.contains_key(&slot),
            "{}: slot {slot} handed out while still held",
            what()
        );
        m.slots.insert(slot, index);
        m.pending.insert((peer, ns, seq), slot);
        m.msgs[index].st = St::Pending { slot, deadline };
    }

    fn watch_queued(&mut self, target: SlotPick, clock: Pick, at: At) {
        let slot = match target {
            SlotPick::Queued(pick) => {
                let queued: Vec<SlotId> = self
                    .model
                    .msgs
                    .iter()
                    .filter_map(|msg| match msg.st {
                        St::Queued { slot, .. } => Some(slot),
                        _ => None,
                    })
                    .collect();
                if queued.is_empty() {
                    return;
                }
                queued[pick % queued.len()]
            }
            SlotPick::Raw(slot) => slot,
        };
        let deadline = self.model.deadline(clock, at);
        self.watch_slot(slot, deadline);
    }

    fn watch_slot(&mut self, slot: SlotId, deadline: Deadline) {
        let got = self.core.watch_queued(slot, deadline);
        let m = &mut self.model;
        let what = || format!("watch_queued({slot}, {deadline:?})");
        if let Some(err) = m.deadline_error(deadline) {
            assert_eq!(got, Err(err), "{}", what());
            return;
        }
        let Some(&index) = m.slots.get(&slot) else {
            assert_eq!(got, Err(CoreError::UnknownSlot), "{}: no such slot", what());
            return;
        };
        match m.msgs[index].st {
            St::Queued { awaited: None, .. } => {
                assert_eq!(got, Ok(()), "{}", what());
                m.msgs[index].st = St::Queued {
                    slot,
                    awaited: Some(deadline),
                };
            }
            St::Queued {
                awaited: Some(_), ..
            } => assert_eq!(got, Ok(()), "{}: twice", what()),
            _ => assert_eq!(got, Err(CoreError::UnknownSlot), "{}: not queued", what()),
        }
    }

    fn ack(&mut self, pick: Pick, forge: Forge, cmd_ok: bool, worker_ready: bool) {
        let m = &self.model;
        let (peer, ns, number) = if m.msgs.is_empty() {
            (m.peer_id(pick), NsField::Known(m.ns_id(pick)), 1.0)
        } else {
            let msg = &m.msgs[pick % m.msgs.len()];
            (msg.peer, NsField::Known(msg.ns), msg.seq as f64)
        };
        let mut facts = Facts {
            is_object: true,
            has_ack: true,
            ns,
            number,
            cmd_ok,
            worker_ready,
        };
        let mut from = peer;
        match forge {
            Forge::Valid => {}
            Forge::OtherPeer(other) => from = m.peer_id(other),
            Forge::OtherNs(other) => facts.ns = NsField::Known(m.ns_id(other)),
            Forge::UnknownNs => facts.ns = NsField::Unknown,
            Forge::InvalidNs => facts.ns = NsField::Invalid,
            Forge::Number(num) => facts.number = m.number(num),
            Forge::NotObject => facts.is_object = false,
        }
        self.receive(from, facts);
    }

    fn ack_many(&mut self, peer: Pick, skip_every: usize) {
        let peer = self.model.peer_id(peer);
        let mut keys: Vec<(PeerId, NsId, u64)> = self
            .model
            .pending
            .keys()
            .filter(|key| key.0 == peer)
            .copied()
            .collect();
        keys.sort_unstable();
        for (i, (peer, ns, seq)) in keys.into_iter().enumerate() {
            if skip_every > 0 && i % skip_every == 0 {
                continue;
            }
            self.receive(
                peer,
                Facts {
                    is_object: true,
                    has_ack: true,
                    ns: NsField::Known(ns),
                    number: seq as f64,
                    cmd_ok: false,
                    worker_ready: false,
                },
            );
        }
        self.check();
    }

    /// The reference classification of SPEC §5, and the settling of an acknowledgement.
    fn receive(&mut self, peer: PeerId, facts: Facts) {
        let got = self.core.receive(peer, facts);
        let m = &mut self.model;
        let seq = Model::is_usable_seq(facts.number);
        let want = match (facts.is_object, seq, facts.has_ack, facts.ns) {
            (false, _, _, _) => Received::Ignore,
            // The readiness announcement needs no usable seq (1.x takes it whatever its seq).
            (true, _, false, NsField::Known(0)) if facts.worker_ready => Received::Announce,
            (_, None, _, _) => Received::Ignore,
            // Acknowledgements are never answered; they settle only (this peer, ns, seq).
            (true, Some(seq), true, NsField::Known(ns)) => match m.pending.get(&(peer, ns, seq)) {
                Some(&slot) => Received::Settled(slot),
                None => Received::UnmatchedAck,
            },
            (true, Some(_), true, _) => Received::Ignore,
            (true, Some(_), false, NsField::Invalid) => Received::Ignore,
            (true, Some(_), false, NsField::Unknown) => Received::UnknownNamespace,
            (true, Some(_), false, NsField::Known(_)) if !facts.cmd_ok => Received::Unhandled,
            (true, Some(_), false, NsField::Known(_)) => Received::Deliver,
        };
        assert_eq!(got, want, "receive({peer}, {facts:?})");
        if let (Received::Settled(slot), Some(seq), NsField::Known(ns)) = (got, seq, facts.ns) {
            let index = m.take_slot(slot, "settle");
            let msg = &mut m.msgs[index];
            assert!(
                matches!(msg.st, St::Pending { .. }),
                "settled a message that was not pending: {msg:?}"
            );
            assert_eq!(
                (msg.peer, msg.ns, msg.seq),
                (peer, ns, seq),
                "settled another message"
            );
            msg.st = St::Settled;
            m.pending.remove(&(peer, ns, seq));
        }
    }

    fn announce(&mut self, peer: PeerId, ns: Option<NsId>) {
        let got = self.core.announce(peer, ns);
        let m = &mut self.model;
        let what = || format!("announce({peer}, {ns:?})");
        let Some(state) = m.peers.get_mut(&peer) else {
            assert_eq!(got, Announced::default(), "{}: gone peer", what());
            return;
        };
        let first_time = !state.ready;
        state.ready = true;
        let queue: Vec<usize> = match ns.filter(|&ns| (ns as usize) < m.names.len()) {
            Some(ns) => state
                .lanes
                .get_mut(&ns)
                .map(|lane| lane.queue.drain(..).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        let mut want = Vec::new();
        for index in queue {
            let msg = &mut m.msgs[index];
            let St::Queued { slot, awaited } = msg.st else {
                panic!("model: a queued message that is not queued: {msg:?}");
            };
            want.push((slot, msg.seq));
            // The slot leaves the model as queued; an awaited one comes back as pending.
            m.slots.remove(&slot);
            match awaited {
                Some(deadline) => {
                    msg.st = St::Pending { slot, deadline };
                    m.slots.insert(slot, index);
                    m.pending.insert((msg.peer, msg.ns, msg.seq), slot);
                }
                None => msg.st = St::Sent,
            }
        }
        let seqs: Vec<u64> = want.iter().map(|&(_, seq)| seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{}: flushed out of send order: {seqs:?}",
            what()
        );
        assert_eq!(
            got,
            Announced {
                first_time,
                flushed: want
            },
            "{}",
            what()
        );
    }

    fn expire(&mut self, clock: Pick, now: Now) {
        let clock = self.model.clock_id(clock);
        let now = match now {
            Now::Advance(by) => {
                self.model.time += by;
                self.model.time
            }
            Now::Back(by) => self.model.time - by,
            Now::Nan => f64::NAN,
            Now::Inf => f64::INFINITY,
            Now::NegInf => f64::NEG_INFINITY,
        };
        let got = self.core.expire(clock, now);
        let m = &mut self.model;
        let what = || format!("expire({clock}, {now})");
        // Never a message whose deadline is after `now`.
        for expiry in &got.expired {
            let deadline = m
                .slots
                .get(&expiry.slot)
                .and_then(|&index| m.msgs[index].deadline());
            assert!(
                deadline.is_some_and(|d| d.clock == clock && d.at <= now),
                "{}: expired slot {} whose deadline is {deadline:?}",
                what(),
                expiry.slot
            );
        }
        let mut want: Vec<(SlotId, PeerId, NsId, u64)> = m
            .slots
            .iter()
            .filter(|&(_, &index)| {
                m.msgs[index]
                    .deadline()
                    .is_some_and(|d| d.clock == clock && d.at <= now)
            })
            .map(|(&slot, &index)| {
                let msg = &m.msgs[index];
                (slot, msg.peer, msg.ns, msg.seq)
            })
            .collect();
        want.sort_unstable();
        let mut expired: Vec<(SlotId, PeerId, NsId, u64)> = got
            .expired
            .iter()
            .map(|e| (e.slot, e.peer, e.ns, e.seq))
            .collect();
        expired.sort_unstable();
        assert_eq!(expired, want, "{}: expired set", what());
        for (slot, peer, ns, seq) in want {
            let index = m.take_slot(slot, "expire");
            let msg = &mut m.msgs[index];
            match msg.st {
                St::Pending { .. } => {
                    m.pending.remove(&(peer, ns, seq));
                }
                St::Queued { .. } => {
                    // Dropped from its queue, never sent late.
                    if let Some(lane) = m
                        .peers
                        .get_mut(&peer)
                        .and_then(|state| state.lanes.get_mut(&ns))
                    {
                        lane.queue.retain(|&queued| queued != index);
                    }
                }
                _ => unreachable!("a held message is pending or queued"),
            }
            msg.st = St::Expired;
        }
        assert_eq!(
            got.next,
            m.next_deadline(clock),
            "{}: next deadline",
            what()
        );
    }

    fn peer_gone(&mut self, peer: PeerId) {
        let got = self.core.peer_gone(peer);
        let m = &mut self.model;
        let what = || format!("peer_gone({peer})");
        if m.peers.remove(&peer).is_none() {
            assert!(got.is_empty(), "{}: unknown or gone peer: {got:?}", what());
        } else {
            let mut held: Vec<(NsId, u64, SlotId)> = m
                .slots
                .iter()
                .filter(|&(_, &index)| m.msgs[index].peer == peer)
                .map(|(&slot, &index)| (m.msgs[index].ns, m.msgs[index].seq, slot))
                .collect();
            held.sort_unstable();
            let want: Vec<SlotId> = held.iter().map(|&(_, _, slot)| slot).collect();
            assert_eq!(got, want, "{}: held slots, in send order", what());
            for slot in got {
                let index = m.take_slot(slot, "peer_gone");
                let msg = &mut m.msgs[index];
                m.pending.remove(&(msg.peer, msg.ns, msg.seq));
                msg.st = St::Rejected;
            }
        }
        // Nothing is left for it, and it cannot come back.
        assert!(self.core.peers.get(peer).is_none(), "{}: peer kept", what());
        assert!(
            self.core.slots.of_peer(peer).is_empty(),
            "{}: slots kept",
            what()
        );
        // The table holds bare slot ids: each left must be a slot held for another peer.
        let of_others = |id| {
            self.core
                .slots
                .get(id)
                .is_some_and(|slot| slot.peer != peer)
        };
        assert!(
            self.core.pending.ids().all(of_others),
            "{}: pending entries kept",
            what()
        );
        assert_eq!(
            self.core.send(peer, 0, false, false),
            Err(CoreError::PeerGone)
        );
        assert_eq!(self.core.announce(peer, Some(0)), Announced::default());
        if self.model.clocks > 0 {
            let deadline = Deadline {
                clock: 0,
                at: self.model.time,
            };
            assert_eq!(
                self.core.watch_sent(peer, 0, 1, deadline),
                Err(CoreError::PeerGone)
            );
        }
    }

    fn cancel(&mut self, target: SlotPick) {
        let slot = match target {
            SlotPick::Queued(pick) => {
                let mut held: Vec<SlotId> = self.model.slots.keys().copied().collect();
                if held.is_empty() {
                    return;
                }
                held.sort_unstable();
                held[pick % held.len()]
            }
            SlotPick::Raw(slot) => slot,
        };
        let got = self.core.cancel(slot);
        let m = &mut self.model;
        assert_eq!(got, m.slots.contains_key(&slot), "cancel({slot})");
        if !got {
            return;
        }
        let index = m.take_slot(slot, "cancel");
        let msg = &mut m.msgs[index];
        match msg.st {
            St::Pending { .. } => {
                m.pending.remove(&(msg.peer, msg.ns, msg.seq));
            }
            St::Queued { .. } => {
                // Never sent: it leaves its queue.
                if let Some(lane) = m
                    .peers
                    .get_mut(&msg.peer)
                    .and_then(|state| state.lanes.get_mut(&msg.ns))
                {
                    lane.queue.retain(|&queued| queued != index);
                }
            }
            _ => unreachable!("a held message is pending or queued"),
        }
        msg.st = St::Cancelled;
    }

    fn set_base(&mut self, ns: NsId, base: u64) {
        let got = self.core.set_sequence_base(ns, base);
        let m = &mut self.model;
        if ns as usize >= m.names.len() || base == 0 {
            assert_eq!(
                got,
                Err(CoreError::UnknownNamespaceId),
                "set_sequence_base({ns}, {base})"
            );
            return;
        }
        assert_eq!(got, Ok(()), "set_sequence_base({ns}, {base})");
        m.bases.insert(ns, base);
        for state in m.peers.values_mut() {
            let lane = state.lanes.entry(ns).or_insert_with(Lane::new);
            lane.next = lane.next.max(base);
        }
    }

    /// `stats()` is the model's, and deadline entries neither leak nor linger.
    fn check(&self) {
        let m = &self.model;
        let stats = self.core.stats();
        assert_eq!(stats.peers, m.peers.len(), "stats: peers");
        assert_eq!(stats.slots, m.slots.len(), "stats: slots");
        assert_eq!(stats.pending, m.pending.len(), "stats: pending");
        assert_eq!(stats.queued, m.queued_count(), "stats: queued");
        let awaited = m
            .slots
            .values()
            .filter(|&&index| m.msgs[index].deadline().is_some())
            .count();
        assert!(
            stats.deadline_entries <= 2 * awaited + STALE_BOUND * m.clocks as usize,
            "stats: {} deadline entries for {awaited} awaited messages: stale entries pile up",
            stats.deadline_entries
        );
        if m.slots.is_empty() {
            assert_eq!(
                stats.deadline_entries, 0,
                "stats: deadline entries left while no message is held"
            );
        }
    }

    /// Every peer goes; then the core holds nothing at all.
    fn finish(&mut self) {
        let alive: Vec<PeerId> = self.model.peers.keys().copied().collect();
        for peer in alive {
            self.peer_gone(peer);
            self.check();
        }
        let stats = self.core.stats();
        assert_eq!(
            stats,
            super::Stats::default(),
            "stats once every peer is gone"
        );
        for msg in &self.model.msgs {
            assert!(
                !matches!(msg.st, St::Queued { .. } | St::Pending { .. }),
                "still held at the end: {msg:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------- strategies

fn pick() -> impl Strategy<Value = Pick> {
    0usize..1000
}

fn at() -> impl Strategy<Value = At> {
    prop_oneof![
        20 => (-50.0f64..2_000.0).prop_map(At::Offset),
        1 => Just(At::Nan),
        1 => Just(At::Inf),
        1 => Just(At::NegInf),
    ]
}

fn now() -> impl Strategy<Value = Now> {
    prop_oneof![
        12 => (0.0f64..600.0).prop_map(Now::Advance),
        4 => (0.0f64..300.0).prop_map(Now::Back),
        1 => Just(Now::Nan),
        1 => Just(Now::Inf),
        1 => Just(Now::NegInf),
    ]
}

fn num() -> impl Strategy<Value = Num> {
    prop_oneof![
        4 => pick().prop_map(Num::MsgSeq),
        2 => (0u8..12).prop_map(Num::Small),
        3 => (0usize..SPECIAL_NUMBERS.len()).prop_map(Num::Special),
    ]
}

fn ns_gen() -> impl Strategy<Value = NsGen> {
    prop_oneof![
        6 => pick().prop_map(NsGen::Known),
        1 => Just(NsGen::Unknown),
        1 => Just(NsGen::Invalid),
    ]
}

fn facts() -> impl Strategy<Value = FactsGen> {
    (
        prop::bool::weighted(0.9),
        any::<bool>(),
        ns_gen(),
        num(),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(is_object, has_ack, ns, number, cmd_ok, worker_ready)| FactsGen {
                is_object,
                has_ack,
                ns,
                number,
                cmd_ok,
                worker_ready,
            },
        )
}

fn forge() -> impl Strategy<Value = Forge> {
    prop_oneof![
        8 => Just(Forge::Valid),
        3 => pick().prop_map(Forge::OtherPeer),
        2 => pick().prop_map(Forge::OtherNs),
        1 => Just(Forge::UnknownNs),
        1 => Just(Forge::InvalidNs),
        2 => num().prop_map(Forge::Number),
        1 => Just(Forge::NotObject),
    ]
}

fn base() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1u64),
        2u64..100,
        Just(1u64 << 32),
        Just(SAFE as u64 - 5),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<bool>().prop_map(Op::AddPeer),
        2 => (0..NAMES.len()).prop_map(Op::OpenNs),
        1 => Just(Op::AddClock),
        24 => (pick(), pick(), prop::bool::weighted(0.15), any::<bool>())
            .prop_map(|(peer, ns, handle, force)| Op::Send { peer, ns, handle, force }),
        1 => (pick(), pick(), 900usize..2_600, prop::bool::weighted(0.8), pick(), -10.0f64..3_000.0)
            .prop_map(|(peer, ns, n, watch, clock, offset)| Op::Burst { peer, ns, n, watch, clock, offset }),
        12 => (pick(), pick(), at()).prop_map(|(msg, clock, at)| Op::WatchSent { msg, clock, at }),
        8 => (prop_oneof![4 => pick().prop_map(SlotPick::Queued), 1 => (0u32..64).prop_map(SlotPick::Raw)], pick(), at())
            .prop_map(|(target, clock, at)| Op::WatchQueued { target, clock, at }),
        14 => (pick(), forge(), any::<bool>(), prop::bool::weighted(0.1))
            .prop_map(|(msg, forge, cmd_ok, worker_ready)| Op::Ack { msg, forge, cmd_ok, worker_ready }),
        2 => (pick(), 0usize..5).prop_map(|(peer, skip_every)| Op::AckMany { peer, skip_every }),
        6 => (pick(), facts()).prop_map(|(peer, facts)| Op::Receive { peer, facts }),
        6 => (pick(), prop::option::weighted(0.85, pick())).prop_map(|(peer, ns)| Op::Announce { peer, ns }),
        8 => (pick(), now()).prop_map(|(clock, now)| Op::Expire { clock, now }),
        2 => pick().prop_map(|clock| Op::NextDeadline { clock }),
        3 => pick().prop_map(|peer| Op::PeerGone { peer }),
        2 => (pick(), base()).prop_map(|(ns, base)| Op::SetBase { ns, base }),
        3 => prop_oneof![4 => pick().prop_map(SlotPick::Queued), 1 => (0u32..64).prop_map(SlotPick::Raw)]
            .prop_map(|target| Op::Cancel { target }),
    ]
}

fn run(ops: &[Op]) {
    let mut run = Run::new();
    run.check();
    for op in ops {
        run.apply(op);
        run.check();
    }
    run.finish();
}

proptest! {
    // Failures are turned into plain regression tests (src/core/tests.rs) rather than saved to
    // files. XorShift: ChaCha, the default generator, is most of the run time of an unoptimized
    // test build.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    })]

    #[test]
    fn core_follows_the_model(ops in prop::collection::vec(op(), 1..250)) {
        run(&ops);
    }
}

// ----------------------------------------------------------- regressions the model found (fixed)
// The first three failed against the core before their fixes; the last one checks the rewrite that
// removed a quadratic cost (no timing in tests: it checks the result only).

fn world() -> (Core, NsId, ClockId) {
    let mut core = Core::default();
    let ns = core.open_namespace("_").expect("valid name");
    let clock = core.add_clock();
    (core, ns, clock)
}

fn due(clock: ClockId, at: f64) -> Deadline {
    Deadline { clock, at }
}

/// Stale deadline entries stayed (counted in `stats()`) after the last message was forgotten,
/// until the clock's timer fired: a queued, awaited message to a peer that then went.
#[test]
fn no_deadline_entry_is_left_once_nothing_is_held() {
    let (mut core, ns, clock) = world();
    let peer = core.add_peer(false);
    let Ok(Sent::Queued { slot, .. }) = core.send(peer, ns, false, false) else {
        panic!("queued");
    };
    core.watch_queued(slot, due(clock, 1_000.0))
        .expect("watch queued");
    assert_eq!(core.peer_gone(peer), vec![slot]);
    assert_eq!(core.stats(), super::Stats::default());
    // The same after an acknowledgement.
    let ready = core.add_peer(true);
    core.watch_sent(ready, ns, 1, due(clock, 1_000.0))
        .expect("watch");
    assert!(core.settle(ready, ns, 1).is_some());
    assert_eq!(core.stats().deadline_entries, 0);
}

/// `expire(clock, NaN)` expired every deadline of the clock.
#[test]
fn a_clock_that_reads_nan_expires_nothing() {
    let (mut core, ns, clock) = world();
    let peer = core.add_peer(true);
    let slot = core
        .watch_sent(peer, ns, 1, due(clock, 1_000.0))
        .expect("watch");
    let expired = core.expire(clock, f64::NAN);
    assert!(expired.expired.is_empty());
    assert_eq!(expired.next, Some(1_000.0));
    assert_eq!(core.expire(clock, 1_000.0).expired[0].slot, slot);
}

/// Stale entries behind the ones that expired were never compacted: 2052 stale entries stayed
/// for a handful of live ones (only settling checked for compaction, not expiring).
#[test]
fn stale_entries_left_behind_expired_ones_are_compacted() {
    let (mut core, ns, clock) = world();
    let ready = core.add_peer(true);
    let waiting = core.add_peer(false);
    for seq in 1..=1240 {
        core.watch_sent(ready, ns, seq, due(clock, 1_000.0))
            .expect("watch");
    }
    for _ in 0..2052 {
        let Ok(Sent::Queued { slot, .. }) = core.send(waiting, ns, false, false) else {
            panic!("queued");
        };
        core.watch_queued(slot, due(clock, 2_478.0))
            .expect("watch queued");
    }
    assert_eq!(core.peer_gone(waiting).len(), 2052);
    core.watch_sent(ready, ns, 5_000, due(clock, 1_769.0))
        .expect("watch");
    assert_eq!(core.expire(clock, 1_000.0).expired.len(), 1240);
    assert!(
        core.stats().deadline_entries <= 2 + STALE_BOUND,
        "{} entries for 1 live message",
        core.stats().deadline_entries
    );
}

/// Expiring n queued messages cost O(n^2) (one scan of the queue each): 40,000 took 1.3 s in a
/// release build, blocking the event loop. They are now pruned in one pass per queue; this checks
/// the survivors and their order across several queues.
#[test]
fn expiring_queued_messages_keeps_the_survivors_in_order() {
    let (mut core, ns, clock) = world();
    let other = core.open_namespace("other").expect("valid name");
    let peer = core.add_peer(false);
    let mut survivors = Vec::new();
    for i in 0..3_000u32 {
        let lane = if i % 3 == 0 { other } else { ns };
        let Ok(Sent::Queued { slot, seq }) = core.send(peer, lane, false, false) else {
            panic!("queued");
        };
        if i % 2 == 0 {
            core.watch_queued(slot, due(clock, 10.0))
                .expect("watch queued");
        } else if lane == ns {
            survivors.push((slot, seq));
        }
    }
    assert_eq!(core.expire(clock, 10.0).expired.len(), 1_500);
    assert_eq!(core.stats().queued, 1_500);
    assert_eq!(core.announce(peer, Some(ns)).flushed, survivors);
    assert_eq!(core.stats().queued, 500);
}
