//! Classification of what arrives on the channel. JavaScript reads the envelope's fields (it has
//! to touch the object anyway) and hands over plain facts; the decision of what to do lives here.

use super::registry::INTERNAL_NS;
use super::NsId;

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What the envelope's `ns` field turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NsField {
    /// A namespace this process created.
    Known(NsId),
    /// A non-empty string naming a namespace this process never created.
    Unknown,
    /// Missing, empty or not a string.
    Invalid,
}

/// Facts about one `__clusterphone` envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Facts {
    /// `__clusterphone` is a non-null object (not an array).
    pub is_object: bool,
    /// The envelope has an `ack` key: it is an acknowledgement, well formed or not.
    pub has_ack: bool,
    pub ns: NsField,
    /// `ack` for acknowledgements, `seq` for messages; NaN when not a number.
    pub number: f64,
    /// `cmd` is a non-empty string.
    pub cmd_ok: bool,
    /// `cmd` is `"workerReady"`.
    pub worker_ready: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Malformed with nothing to answer to: dropped without a word.
    Ignore,
    /// An acknowledgement that may settle (peer, ns, seq).
    Ack { ns: NsId, seq: u64 },
    /// A message for a handler (or for the internal namespace).
    Deliver { ns: NsId, seq: u64 },
    /// The internal `workerReady`: a worker announcing a namespace. Never acknowledged.
    Announce,
    /// A message for a namespace we never created: answered with "Unknown namespace.".
    UnknownNamespace { seq: u64 },
    /// A message without a usable command: answered with "Unhandled message type".
    Unhandled { ns: NsId, seq: u64 },
}

/// A positive safe integer, or nothing.
pub fn sequence_number(number: f64) -> Option<u64> {
    if (1.0..=MAX_SAFE_INTEGER).contains(&number) && number.fract() == 0.0 {
        Some(number as u64)
    } else {
        None
    }
}

pub fn classify(facts: Facts) -> Verdict {
    if !facts.is_object {
        return Verdict::Ignore;
    }
    // The readiness announcement is never answered, so it needs no sequence number: 1.x marks a
    // worker ready on it whatever its `seq`, and so does a worker written by hand.
    if !facts.has_ack && facts.worker_ready && facts.ns == NsField::Known(INTERNAL_NS) {
        return Verdict::Announce;
    }
    let Some(seq) = sequence_number(facts.number) else {
        return Verdict::Ignore;
    };
    // An acknowledgement is never answered, well formed or not: answering could ping-pong forever.
    if facts.has_ack {
        return match facts.ns {
            NsField::Known(ns) => Verdict::Ack { ns, seq },
            _ => Verdict::Ignore,
        };
    }
    match facts.ns {
        NsField::Invalid => Verdict::Ignore,
        NsField::Unknown => Verdict::UnknownNamespace { seq },
        NsField::Known(ns) if !facts.cmd_ok => Verdict::Unhandled { ns, seq },
        NsField::Known(ns) => Verdict::Deliver { ns, seq },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(ns: NsField, number: f64, cmd_ok: bool) -> Facts {
        Facts {
            is_object: true,
            has_ack: false,
            ns,
            number,
            cmd_ok,
            worker_ready: false,
        }
    }

    #[test]
    fn well_formed_message_is_delivered() {
        assert_eq!(
            classify(message(NsField::Known(2), 7.0, true)),
            Verdict::Deliver { ns: 2, seq: 7 }
        );
    }

    #[test]
    fn unusable_sequence_numbers_are_ignored() {
        for number in [
            0.0,
            -1.0,
            1.5,
            f64::NAN,
            f64::INFINITY,
            MAX_SAFE_INTEGER + 2.0,
        ] {
            assert_eq!(
                classify(message(NsField::Known(1), number, true)),
                Verdict::Ignore,
                "{number}"
            );
        }
        assert_eq!(
            sequence_number(MAX_SAFE_INTEGER),
            Some(9_007_199_254_740_991)
        );
    }

    #[test]
    fn unknown_namespace_and_missing_command_are_answered() {
        assert_eq!(
            classify(message(NsField::Unknown, 3.0, true)),
            Verdict::UnknownNamespace { seq: 3 }
        );
        assert_eq!(
            classify(message(NsField::Known(1), 3.0, false)),
            Verdict::Unhandled { ns: 1, seq: 3 }
        );
        assert_eq!(
            classify(message(NsField::Invalid, 3.0, true)),
            Verdict::Ignore
        );
    }

    #[test]
    fn acknowledgements_are_never_answered() {
        let ack = |ns, number| Facts {
            is_object: true,
            has_ack: true,
            ns,
            number,
            cmd_ok: false,
            worker_ready: false,
        };
        assert_eq!(
            classify(ack(NsField::Known(1), 4.0)),
            Verdict::Ack { ns: 1, seq: 4 }
        );
        assert_eq!(classify(ack(NsField::Unknown, 4.0)), Verdict::Ignore);
        assert_eq!(classify(ack(NsField::Known(1), f64::NAN)), Verdict::Ignore);
    }

    #[test]
    fn worker_ready_is_an_announcement_only_in_the_internal_namespace() {
        let mut facts = message(NsField::Known(INTERNAL_NS), 5.0, true);
        facts.worker_ready = true;
        assert_eq!(classify(facts), Verdict::Announce);
        for number in [f64::NAN, 0.0, -3.0, 1.5] {
            facts.number = number;
            assert_eq!(
                classify(facts),
                Verdict::Announce,
                "needs no usable seq: {number}"
            );
        }
        facts.has_ack = true;
        assert_eq!(
            classify(facts),
            Verdict::Ignore,
            "an acknowledgement is not one"
        );
        let mut user = message(NsField::Known(3), 5.0, true);
        user.worker_ready = true;
        assert_eq!(classify(user), Verdict::Deliver { ns: 3, seq: 5 });
    }

    #[test]
    fn non_objects_are_ignored() {
        let mut facts = message(NsField::Known(1), 1.0, true);
        facts.is_object = false;
        assert_eq!(classify(facts), Verdict::Ignore);
    }
}
