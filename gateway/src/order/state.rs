//! The order state machine: one pure transition function over (state, event).
//!
//! ```text
//!            ack            partial fill             fill
//! PendingNew ───> New ──────────────> PartiallyFilled ───> Filled
//!     │            │ cancel / replace        │ cancel / replace
//!     │            v                         v
//!     │     PendingCancel ──cancelled──> Cancelled      (cancel refused: back where it was)
//!     │     PendingReplace ─replaced───> Replaced       (the replacement id lives on)
//!     └──── rejected ──> Rejected;  expired (IOC remainder, end of day) ──> Expired
//! ```
//!
//! Local events (`Cancel`, `Replace`) are our own requests: refused when the table says so,
//! before anything is sent. Venue events are what the venue reports. A pending request does
//! not stop fills: a fill while a cancel is pending keeps the order pending, and a fill that
//! completes it wins the race (the venue then refuses the cancel, which is legal in `Filled`).
//! The tracker ([`super::OrderTracker`]) keeps the state to go back to when a request is
//! refused and checks quantities; this table is only the shape of the lifecycle.

/// Where an order is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrdState {
    /// Sent; the venue has not acknowledged it yet.
    PendingNew = 0,
    /// Acknowledged, nothing filled.
    New = 1,
    /// Part filled, the rest working.
    PartiallyFilled = 2,
    /// Completely filled (terminal).
    Filled = 3,
    /// A cancel was sent; the venue has not answered.
    PendingCancel = 4,
    /// Cancelled (terminal).
    Cancelled = 5,
    /// A cancel/replace was sent; the venue has not answered.
    PendingReplace = 6,
    /// Replaced by another order id (terminal for this id).
    Replaced = 7,
    /// Refused by the venue or by the gateway (terminal).
    Rejected = 8,
    /// Expired: IOC/FOK remainder, end of day (terminal).
    Expired = 9,
}

impl OrdState {
    /// Every state, in declaration order.
    pub const ALL: [OrdState; 10] = [
        OrdState::PendingNew,
        OrdState::New,
        OrdState::PartiallyFilled,
        OrdState::Filled,
        OrdState::PendingCancel,
        OrdState::Cancelled,
        OrdState::PendingReplace,
        OrdState::Replaced,
        OrdState::Rejected,
        OrdState::Expired,
    ];

    /// Whether nothing more can happen to the order.
    #[inline]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            OrdState::Filled
                | OrdState::Cancelled
                | OrdState::Replaced
                | OrdState::Rejected
                | OrdState::Expired
        )
    }

    /// Whether a request to the venue awaits an answer.
    #[inline]
    pub const fn is_pending(self) -> bool {
        matches!(self, OrdState::PendingNew | OrdState::PendingCancel | OrdState::PendingReplace)
    }
}

/// Something that happens to an order: our request (local) or the venue's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OrdEvent {
    /// We ask to cancel (local).
    Cancel = 0,
    /// We ask to replace (local).
    Replace = 1,
    /// The venue acknowledged the order.
    Ack = 2,
    /// The venue filled part of it.
    PartialFill = 3,
    /// The venue filled the rest of it.
    Fill = 4,
    /// The venue cancelled it (our cancel, or unsolicited: IOC remainder, venue action).
    Cancelled = 5,
    /// The venue replaced it.
    Replaced = 6,
    /// The venue rejected it.
    Rejected = 7,
    /// The venue expired it.
    Expired = 8,
    /// The venue refused our cancel or replace.
    CancelRejected = 9,
}

impl OrdEvent {
    /// Every event, in declaration order.
    pub const ALL: [OrdEvent; 10] = [
        OrdEvent::Cancel,
        OrdEvent::Replace,
        OrdEvent::Ack,
        OrdEvent::PartialFill,
        OrdEvent::Fill,
        OrdEvent::Cancelled,
        OrdEvent::Replaced,
        OrdEvent::Rejected,
        OrdEvent::Expired,
        OrdEvent::CancelRejected,
    ];

    /// The event an execution report kind stands for.
    #[inline]
    pub const fn of(kind: tickline_engine::types::ExecKind) -> OrdEvent {
        use tickline_engine::types::ExecKind as K;
        match kind {
            K::New => OrdEvent::Ack,
            K::PartialFill => OrdEvent::PartialFill,
            K::Fill => OrdEvent::Fill,
            K::Cancelled => OrdEvent::Cancelled,
            K::Replaced => OrdEvent::Replaced,
            K::Rejected => OrdEvent::Rejected,
            K::Expired => OrdEvent::Expired,
            K::CancelRejected => OrdEvent::CancelRejected,
        }
    }
}

/// What an event does to an order in a given state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Move to this state.
    To(OrdState),
    /// Legal, the state does not change (a fill while a cancel is pending, an ack that
    /// overtook our cancel, a refusal that lost the race to a fill).
    Stay,
    /// A pending request was refused: go back to the state before it.
    Resume,
    /// Not allowed: refused and counted.
    Illegal,
}

/// The transition table.
#[inline]
pub const fn step(state: OrdState, event: OrdEvent) -> Step {
    use OrdEvent as E;
    use OrdState as S;
    use Step::{Illegal, Resume, Stay, To};
    match (state, event) {
        // Not acknowledged yet: a cancel may chase it; a replace may not (the venue has no
        // order to replace until it acks). A venue may fill, cancel (IOC) or expire without
        // an ack first.
        (S::PendingNew, E::Cancel) => To(S::PendingCancel),
        (S::PendingNew, E::Replace) => Illegal,
        (S::PendingNew, E::Ack) => To(S::New),
        (S::PendingNew, E::PartialFill) => To(S::PartiallyFilled),
        (S::PendingNew, E::Fill) => To(S::Filled),
        (S::PendingNew, E::Cancelled) => To(S::Cancelled),
        (S::PendingNew, E::Replaced) => Illegal,
        (S::PendingNew, E::Rejected) => To(S::Rejected),
        (S::PendingNew, E::Expired) => To(S::Expired),
        (S::PendingNew, E::CancelRejected) => Illegal,

        (S::New | S::PartiallyFilled, E::Cancel) => To(S::PendingCancel),
        (S::New | S::PartiallyFilled, E::Replace) => To(S::PendingReplace),
        // A second ack, or an ack after a fill: out of order.
        (S::New | S::PartiallyFilled, E::Ack) => Illegal,
        (S::New, E::PartialFill) => To(S::PartiallyFilled),
        (S::PartiallyFilled, E::PartialFill) => Stay,
        (S::New | S::PartiallyFilled, E::Fill) => To(S::Filled),
        (S::New | S::PartiallyFilled, E::Cancelled) => To(S::Cancelled),
        (S::New | S::PartiallyFilled, E::Replaced) => Illegal,
        // Once accepted, an order can no longer be rejected.
        (S::New | S::PartiallyFilled, E::Rejected) => Illegal,
        (S::New | S::PartiallyFilled, E::Expired) => To(S::Expired),
        (S::New | S::PartiallyFilled, E::CancelRejected) => Illegal,

        // One request in flight per order.
        (S::PendingCancel, E::Cancel | E::Replace) => Illegal,
        (S::PendingCancel, E::Ack | E::PartialFill) => Stay,
        (S::PendingCancel, E::Fill) => To(S::Filled),
        (S::PendingCancel, E::Cancelled) => To(S::Cancelled),
        (S::PendingCancel, E::Replaced) => Illegal,
        // The order itself was refused before our cancel got there.
        (S::PendingCancel, E::Rejected) => To(S::Rejected),
        (S::PendingCancel, E::Expired) => To(S::Expired),
        (S::PendingCancel, E::CancelRejected) => Resume,

        (S::PendingReplace, E::Cancel | E::Replace) => Illegal,
        // Replace is refused from PendingNew, so an ack here is out of order.
        (S::PendingReplace, E::Ack) => Illegal,
        (S::PendingReplace, E::PartialFill) => Stay,
        (S::PendingReplace, E::Fill) => To(S::Filled),
        (S::PendingReplace, E::Cancelled) => To(S::Cancelled),
        (S::PendingReplace, E::Replaced) => To(S::Replaced),
        (S::PendingReplace, E::Rejected) => Illegal,
        (S::PendingReplace, E::Expired) => To(S::Expired),
        (S::PendingReplace, E::CancelRejected) => Resume,

        // Terminal. The only legal event is the refusal of a request that lost the race to
        // the event that finished the order ("too late to cancel"); the tracker accepts it
        // only while such a request is outstanding.
        (S::Filled | S::Cancelled | S::Rejected | S::Expired, E::CancelRejected) => Stay,
        (S::Filled | S::Cancelled | S::Rejected | S::Expired, _) => Illegal,
        (S::Replaced, _) => Illegal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrdEvent as E;
    use OrdState as S;
    use Step::{Illegal as X, Resume as R, Stay as K};

    const fn to(s: OrdState) -> Step {
        Step::To(s)
    }

    /// The whole table, written out: rows are states (declaration order), columns events
    /// (Cancel, Replace, Ack, PartialFill, Fill, Cancelled, Replaced, Rejected, Expired,
    /// CancelRejected). The test walks every pair against it.
    const TABLE: [[Step; 10]; 10] = [
        // PendingNew
        [
            to(S::PendingCancel),
            X,
            to(S::New),
            to(S::PartiallyFilled),
            to(S::Filled),
            to(S::Cancelled),
            X,
            to(S::Rejected),
            to(S::Expired),
            X,
        ],
        // New
        [
            to(S::PendingCancel),
            to(S::PendingReplace),
            X,
            to(S::PartiallyFilled),
            to(S::Filled),
            to(S::Cancelled),
            X,
            X,
            to(S::Expired),
            X,
        ],
        // PartiallyFilled
        [
            to(S::PendingCancel),
            to(S::PendingReplace),
            X,
            K,
            to(S::Filled),
            to(S::Cancelled),
            X,
            X,
            to(S::Expired),
            X,
        ],
        // Filled
        [X, X, X, X, X, X, X, X, X, K],
        // PendingCancel
        [X, X, K, K, to(S::Filled), to(S::Cancelled), X, to(S::Rejected), to(S::Expired), R],
        // Cancelled
        [X, X, X, X, X, X, X, X, X, K],
        // PendingReplace
        [X, X, X, K, to(S::Filled), to(S::Cancelled), to(S::Replaced), X, to(S::Expired), R],
        // Replaced
        [X, X, X, X, X, X, X, X, X, X],
        // Rejected
        [X, X, X, X, X, X, X, X, X, K],
        // Expired
        [X, X, X, X, X, X, X, X, X, K],
    ];

    #[test]
    fn every_state_event_pair_matches_the_table() {
        let mut checked = 0;
        for (si, &s) in OrdState::ALL.iter().enumerate() {
            assert_eq!(s as usize, si, "ALL is in declaration order");
            for (ei, &e) in OrdEvent::ALL.iter().enumerate() {
                assert_eq!(e as usize, ei);
                assert_eq!(step(s, e), TABLE[si][ei], "({s:?}, {e:?})");
                checked += 1;
            }
        }
        assert_eq!(checked, 100);
    }

    #[test]
    fn terminal_states_accept_nothing_but_a_late_refusal() {
        for s in OrdState::ALL.into_iter().filter(|s| s.is_terminal()) {
            for e in OrdEvent::ALL {
                let r = step(s, e);
                if e == E::CancelRejected && s != S::Replaced {
                    assert_eq!(r, K, "({s:?}, {e:?})");
                } else {
                    assert_eq!(r, X, "({s:?}, {e:?})");
                }
            }
        }
    }

    #[test]
    fn every_transition_target_is_consistent() {
        // No transition leaves a terminal state, and every pending state can be left.
        for s in OrdState::ALL {
            for e in OrdEvent::ALL {
                if let Step::To(t) = step(s, e) {
                    assert!(!s.is_terminal(), "({s:?}, {e:?}) leaves a terminal state");
                    assert_ne!(t, s, "({s:?}, {e:?}) is a self-loop, use Stay");
                }
            }
            if s.is_pending() {
                assert!(OrdEvent::ALL.iter().any(|&e| matches!(step(s, e), Step::To(_) | R)));
            }
        }
        // Local events only ever lead to a pending state.
        for s in OrdState::ALL {
            for e in [E::Cancel, E::Replace] {
                match step(s, e) {
                    Step::To(t) => assert!(t.is_pending(), "({s:?}, {e:?}) -> {t:?}"),
                    other => assert_eq!(other, X, "({s:?}, {e:?})"),
                }
            }
        }
        assert_eq!(
            OrdEvent::of(tickline_engine::types::ExecKind::CancelRejected),
            E::CancelRejected
        );
    }
}
