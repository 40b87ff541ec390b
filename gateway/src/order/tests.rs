//! Tracker scenarios: the state table applied to real orders, with quantities, request ids and
//! the anomalies a venue can produce.

use tickline_engine::types::{
    Action, ClientOrderId, ExecKind, InstrumentId, Nanos, OrdType, Order, OrderIntent, Px, Qty,
    Side, StrategyId, TimeInForce,
};

use super::*;

fn order(action: Action, id: u64, target: u64, price: i64, qty: i64) -> Order {
    Order {
        intent: OrderIntent {
            decided_ns: Nanos(1),
            tick_recv_ns: Nanos(1),
            client_id: ClientOrderId(id),
            target: ClientOrderId(target),
            price: Px::from_raw(price),
            qty: Qty::from_raw(qty),
            instrument: InstrumentId(0),
            strategy: StrategyId(3),
            action,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            reserved: [0; 6],
        },
        approved_ns: Nanos(2),
    }
}

fn new(id: u64, qty: i64) -> Order {
    order(Action::New, id, 0, 100, qty)
}

fn ev(kind: ExecKind, id: u64) -> VenueEvent {
    VenueEvent::plain(kind, ClientOrderId(id), Nanos(5))
}

fn fill(id: u64, last: i64, cum: i64) -> VenueEvent {
    VenueEvent {
        last_px: Px::from_raw(100),
        last_qty: Qty::from_raw(last),
        cum_qty: Qty::from_raw(cum),
        ..ev(ExecKind::PartialFill, id)
    }
}

fn report(a: Applied) -> tickline_engine::types::ExecReport {
    match a {
        Applied::Report(r) => r,
        Applied::Refused(why) => panic!("refused: {why:?}"),
    }
}

fn state(t: &OrderTracker, id: u64) -> OrdState {
    t.get(ClientOrderId(id)).expect("known").state
}

/// Drives an order into `s` through legal events only; returns the tracker and the order id.
fn order_in(s: OrdState) -> (OrderTracker, u64) {
    let mut t = OrderTracker::new(16);
    t.track_new(&new(1, 10), Nanos(0)).unwrap();
    let ack = |t: &mut OrderTracker| report(t.apply(&ev(ExecKind::New, 1)));
    match s {
        OrdState::PendingNew => {}
        OrdState::New => {
            ack(&mut t);
        }
        OrdState::PartiallyFilled => {
            ack(&mut t);
            report(t.apply(&fill(1, 4, 4)));
        }
        OrdState::Filled => {
            ack(&mut t);
            report(t.apply(&fill(1, 10, 10)));
        }
        OrdState::PendingCancel => {
            // Cancelled before the ack, so the ack that overtakes the cancel is legal.
            t.track_cancel(&order(Action::Cancel, 2, 1, 0, 0), Nanos(0)).unwrap();
        }
        OrdState::Cancelled => {
            ack(&mut t);
            report(t.apply(&ev(ExecKind::Cancelled, 1)));
        }
        OrdState::PendingReplace => {
            ack(&mut t);
            report(t.apply(&fill(1, 4, 4)));
            t.track_replace(&order(Action::Replace, 7, 1, 101, 12), Nanos(0)).unwrap();
        }
        OrdState::Replaced => {
            ack(&mut t);
            t.track_replace(&order(Action::Replace, 7, 1, 101, 12), Nanos(0)).unwrap();
            report(t.apply(&ev(ExecKind::Replaced, 7)));
        }
        OrdState::Rejected => {
            report(t.apply(&ev(ExecKind::Rejected, 1)));
        }
        OrdState::Expired => {
            ack(&mut t);
            report(t.apply(&ev(ExecKind::Expired, 1)));
        }
    }
    assert_eq!(state(&t, 1), s);
    (t, 1)
}

/// The venue event (or local request) that stands for `e` on order 1.
fn deliver(t: &mut OrderTracker, e: OrdEvent) -> Result<(), ()> {
    let o = *t.get(ClientOrderId(1)).unwrap();
    match e {
        OrdEvent::Cancel => t
            .track_cancel(&order(Action::Cancel, 50, 1, 0, 0), Nanos(0))
            .map(|_| ())
            .map_err(|_| ()),
        OrdEvent::Replace => t
            .track_replace(&order(Action::Replace, 51, 1, 102, 20), Nanos(0))
            .map(|_| ())
            .map_err(|_| ()),
        _ => {
            let kind = match e {
                OrdEvent::Ack => ExecKind::New,
                OrdEvent::PartialFill => ExecKind::PartialFill,
                OrdEvent::Fill => ExecKind::Fill,
                OrdEvent::Cancelled => ExecKind::Cancelled,
                OrdEvent::Replaced => ExecKind::Replaced,
                OrdEvent::Rejected => ExecKind::Rejected,
                OrdEvent::Expired => ExecKind::Expired,
                _ => ExecKind::CancelRejected,
            };
            let mut v = ev(kind, 1);
            match e {
                OrdEvent::PartialFill => v = fill(1, 1, o.cum.raw() + 1),
                OrdEvent::Fill => {
                    let rest = o.qty.raw() - o.cum.raw();
                    v = VenueEvent { kind: ExecKind::Fill, ..fill(1, rest.max(1), o.qty.raw()) };
                }
                // A venue names the replace it confirms by the replacement's id.
                OrdEvent::Replaced => v.id = ClientOrderId(o.link.0.max(1)),
                _ => {}
            }
            match t.apply(&v) {
                Applied::Report(_) => Ok(()),
                Applied::Refused(_) => Err(()),
            }
        }
    }
}

#[test]
fn tracker_follows_the_table_for_every_state_event_pair() {
    for s in OrdState::ALL {
        for e in OrdEvent::ALL {
            let (mut t, id) = order_in(s);
            let stats = t.stats();
            let counts = || {
                (
                    stats.illegal_transitions.get(),
                    stats.out_of_order.get(),
                    stats.illegal_requests.get(),
                )
            };
            let before = counts();
            let result = deliver(&mut t, e);
            let expected = step(s, e);
            let after = state(&t, id);
            match expected {
                Step::Illegal => {
                    assert!(result.is_err(), "({s:?}, {e:?}) should be refused");
                    assert_eq!(after, s, "({s:?}, {e:?}) refused but the state moved");
                    assert!(counts() != before, "({s:?}, {e:?}) refused but not counted");
                }
                Step::To(next) => {
                    assert_eq!(result, Ok(()), "({s:?}, {e:?})");
                    assert_eq!(after, next, "({s:?}, {e:?})");
                }
                Step::Stay => {
                    // A late refusal in a terminal state is legal only while a request is
                    // outstanding; these orders finished without one.
                    if s.is_terminal() {
                        assert!(result.is_err(), "({s:?}, {e:?}) with no request outstanding");
                    } else {
                        assert_eq!(result, Ok(()), "({s:?}, {e:?})");
                    }
                    assert_eq!(after, s, "({s:?}, {e:?})");
                }
                Step::Resume => {
                    assert_eq!(result, Ok(()), "({s:?}, {e:?})");
                    let resumed = if s == OrdState::PendingReplace {
                        OrdState::PartiallyFilled
                    } else {
                        OrdState::PendingNew
                    };
                    assert_eq!(after, resumed, "({s:?}, {e:?})");
                }
            }
        }
    }
}

#[test]
fn fills_accumulate_and_overfills_are_refused() {
    let mut t = OrderTracker::new(8);
    let stats = t.stats();
    t.track_new(&new(1, 10), Nanos(0)).unwrap();
    let r = report(t.apply(&ev(ExecKind::New, 1)));
    assert_eq!((r.kind, r.leaves_qty.raw()), (ExecKind::New, 10));
    let r = report(t.apply(&fill(1, 4, 4)));
    assert_eq!((r.kind, r.cum_qty.raw(), r.leaves_qty.raw()), (ExecKind::PartialFill, 4, 6));
    assert_eq!((r.strategy, r.last_qty.raw()), (StrategyId(3), 4));
    // 4 + 7 > 10.
    assert_eq!(t.apply(&fill(1, 7, 11)), Applied::Refused(Anomaly::Overfill));
    // A fill whose cumulative quantity skips one we never saw.
    assert_eq!(t.apply(&fill(1, 2, 9)), Applied::Refused(Anomaly::OutOfOrder));
    // The same fill again (cum does not move on).
    assert_eq!(t.apply(&fill(1, 4, 4)), Applied::Refused(Anomaly::OutOfOrder));
    // A "partial" fill that completes the order is a fill.
    let r = report(t.apply(&fill(1, 6, 10)));
    assert_eq!((r.kind, r.leaves_qty.raw()), (ExecKind::Fill, 0));
    assert_eq!(state(&t, 1), OrdState::Filled);
    // Anything after the end.
    assert!(matches!(t.apply(&fill(1, 1, 11)), Applied::Refused(_)));
    let counts = (stats.overfills.get(), stats.out_of_order.get(), stats.illegal_transitions.get());
    assert_eq!(counts, (1, 2, 1));
    assert_eq!(stats.anomalies(), 4);
    assert_eq!(t.pending(), 0);
}

#[test]
fn unknown_orders_and_second_acks_are_refused() {
    let mut t = OrderTracker::new(8);
    let stats = t.stats();
    assert_eq!(t.apply(&fill(99, 1, 1)), Applied::Refused(Anomaly::UnknownOrder));
    t.track_new(&new(1, 10), Nanos(0)).unwrap();
    report(t.apply(&ev(ExecKind::New, 1)));
    let second_ack = Anomaly::IllegalTransition { state: OrdState::New, event: OrdEvent::Ack };
    assert_eq!(t.apply(&ev(ExecKind::New, 1)), Applied::Refused(second_ack));
    // An ack after a fill: out of order.
    report(t.apply(&fill(1, 1, 1)));
    assert!(matches!(t.apply(&ev(ExecKind::New, 1)), Applied::Refused(_)));
    assert_eq!(stats.unknown_orders.get(), 1);
    assert_eq!(stats.illegal_transitions.get(), 2);
    // Duplicate ids are refused before sending.
    let (why, r) = t.track_new(&new(1, 5), Nanos(9)).unwrap_err();
    assert_eq!((why, r.kind, r.ts), (Refusal::DuplicateId, ExecKind::Rejected, Nanos(9)));
    assert_eq!(stats.duplicate_ids.get(), 1);
}

#[test]
fn cancel_race_with_fill_allows_one_late_refusal() {
    let (mut t, _) = order_in(OrdState::New);
    t.track_cancel(&order(Action::Cancel, 2, 1, 0, 0), Nanos(0)).unwrap();
    assert_eq!(t.pending(), 1);
    // A partial fill while the cancel is pending: still pending, resumes to partially filled.
    report(t.apply(&fill(1, 3, 3)));
    assert_eq!(state(&t, 1), OrdState::PendingCancel);
    // Then the rest fills: the fill wins.
    report(t.apply(&VenueEvent { kind: ExecKind::Fill, ..fill(1, 7, 10) }));
    assert_eq!(state(&t, 1), OrdState::Filled);
    // The venue refuses the cancel, naming the request: legal once.
    let refusal = VenueEvent { request: ClientOrderId(2), ..ev(ExecKind::CancelRejected, 1) };
    let r = report(t.apply(&refusal));
    // Named by the request, as risk's open-order book expects.
    assert_eq!((r.kind, r.client_id), (ExecKind::CancelRejected, ClientOrderId(2)));
    assert!(matches!(t.apply(&refusal), Applied::Refused(_)), "a second refusal");
    assert_eq!(t.pending(), 0);
}

#[test]
fn refused_cancel_resumes_and_answers_by_request_id() {
    let (mut t, _) = order_in(OrdState::PartiallyFilled);
    t.track_cancel(&order(Action::Cancel, 2, 1, 0, 0), Nanos(0)).unwrap();
    // FIX names a cancel's answer by the request's ClOrdID; the alias finds the order.
    let r = report(
        t.apply(&VenueEvent { request: ClientOrderId(2), ..ev(ExecKind::CancelRejected, 2) }),
    );
    assert_eq!((r.client_id, r.kind), (ClientOrderId(2), ExecKind::CancelRejected));
    assert_eq!(state(&t, 1), OrdState::PartiallyFilled);
    assert!(t.get(ClientOrderId(2)).is_none(), "the request alias is gone");
    // Cancel again, and this time it works; the report names the order.
    t.track_cancel(&order(Action::Cancel, 3, 1, 0, 0), Nanos(0)).unwrap();
    let r =
        report(t.apply(&VenueEvent { request: ClientOrderId(3), ..ev(ExecKind::Cancelled, 3) }));
    assert_eq!((r.client_id, r.kind, r.cum_qty.raw()), (ClientOrderId(1), ExecKind::Cancelled, 4));
    // A second cancel of a finished order is refused locally with a CancelRejected.
    let (why, r) = t.track_cancel(&order(Action::Cancel, 4, 1, 0, 0), Nanos(0)).unwrap_err();
    assert_eq!(why, Refusal::IllegalTransition(OrdState::Cancelled));
    assert_eq!((r.client_id, r.kind), (ClientOrderId(4), ExecKind::CancelRejected));
    let (why, _) = t.track_cancel(&order(Action::Cancel, 5, 77, 0, 0), Nanos(0)).unwrap_err();
    assert_eq!(why, Refusal::UnknownTarget);
}

#[test]
fn replace_moves_the_order_to_its_new_id_with_fills_carried() {
    let (mut t, _) = order_in(OrdState::PartiallyFilled);
    t.track_replace(&order(Action::Replace, 7, 1, 101, 12), Nanos(0)).unwrap();
    // Before the venue confirms, the replacement takes no fills.
    assert_eq!(t.apply(&fill(7, 1, 5)), Applied::Refused(Anomaly::OutOfOrder));
    let r = report(t.apply(&ev(ExecKind::Replaced, 7)));
    assert_eq!(
        (r.client_id, r.kind, r.cum_qty.raw(), r.leaves_qty.raw()),
        (ClientOrderId(7), ExecKind::Replaced, 4, 8)
    );
    assert_eq!(state(&t, 1), OrdState::Replaced);
    assert_eq!(state(&t, 7), OrdState::PartiallyFilled);
    let r = report(t.apply(&VenueEvent { kind: ExecKind::Fill, ..fill(7, 8, 12) }));
    assert_eq!((r.kind, r.cum_qty.raw()), (ExecKind::Fill, 12));
    // Fills for the old id after it was replaced.
    assert!(matches!(t.apply(&fill(1, 1, 5)), Applied::Refused(_)));
    assert_eq!(t.pending(), 0);
}

#[test]
fn refused_replace_forgets_the_replacement() {
    let (mut t, _) = order_in(OrdState::New);
    t.track_replace(&order(Action::Replace, 7, 1, 101, 12), Nanos(0)).unwrap();
    let r = report(
        t.apply(&VenueEvent { request: ClientOrderId(7), ..ev(ExecKind::CancelRejected, 1) }),
    );
    assert_eq!((r.client_id, r.kind), (ClientOrderId(7), ExecKind::CancelRejected));
    assert_eq!(state(&t, 1), OrdState::New);
    assert!(t.get(ClientOrderId(7)).is_none());
    assert_eq!(t.pending(), 0);
    // Replaces that would change side, or leave nothing open, are refused before sending.
    let mut bad = order(Action::Replace, 8, 1, 101, 12);
    bad.intent.side = Side::Sell;
    assert_eq!(t.track_replace(&bad, Nanos(0)).unwrap_err().0, Refusal::BadReplace);
    // A replace of an order not yet acknowledged is refused.
    t.track_new(&new(20, 5), Nanos(0)).unwrap();
    let e = t.track_replace(&order(Action::Replace, 21, 20, 100, 5), Nanos(0)).unwrap_err();
    assert_eq!(e.0, Refusal::IllegalTransition(OrdState::PendingNew));
    // A session-level reject of a replace request.
    t.track_replace(&order(Action::Replace, 9, 1, 101, 12), Nanos(0)).unwrap();
    let r =
        report(t.request_refused(Action::Replace, ClientOrderId(9), ClientOrderId(1), Nanos(0)));
    assert_eq!((r.client_id, r.kind), (ClientOrderId(9), ExecKind::CancelRejected));
    assert_eq!(state(&t, 1), OrdState::New);
    let r = report(t.request_refused(Action::New, ClientOrderId(20), ClientOrderId(0), Nanos(0)));
    assert_eq!((r.client_id, r.kind), (ClientOrderId(20), ExecKind::Rejected));
}

#[test]
fn cancel_all_cancels_open_orders_and_defers_the_ones_being_replaced() {
    let mut t = OrderTracker::new(16);
    for id in 1..=4 {
        t.track_new(&new(id, 10), Nanos(0)).unwrap();
        report(t.apply(&ev(ExecKind::New, id)));
    }
    t.track_cancel(&order(Action::Cancel, 10, 2, 0, 0), Nanos(0)).unwrap();
    t.track_replace(&order(Action::Replace, 11, 3, 101, 10), Nanos(0)).unwrap();
    report(t.apply(&VenueEvent { kind: ExecKind::Fill, ..fill(4, 10, 10) }));
    let mut next = 100;
    let mut sent = Vec::new();
    let n = t.cancel_all(
        || {
            next += 1;
            ClientOrderId(next)
        },
        |o, req| sent.push((o.id.0, req.0)),
    );
    assert_eq!((n, sent), (1, vec![(1, 101)]));
    assert_eq!(t.take_deferred_cancel(), None);
    // The replace of order 3 is confirmed: its new id must now be cancelled.
    report(t.apply(&ev(ExecKind::Replaced, 11)));
    assert_eq!(t.take_deferred_cancel(), Some(ClientOrderId(11)));
    assert_eq!(t.take_deferred_cancel(), None);
    t.begin_cancel(ClientOrderId(11), ClientOrderId(102)).unwrap();
    assert_eq!(state(&t, 11), OrdState::PendingCancel);
    assert_eq!(t.open_orders(), 3, "1, 2 and 11 are being cancelled");
}

#[test]
fn finished_orders_are_evicted_oldest_first_when_the_table_fills() {
    let mut t = OrderTracker::new(4);
    for id in 1..=4 {
        t.track_new(&new(id, 1), Nanos(0)).unwrap();
    }
    let (why, _) = t.track_new(&new(5, 1), Nanos(0)).unwrap_err();
    assert_eq!(why, Refusal::TableFull);
    report(t.apply(&VenueEvent { kind: ExecKind::Fill, ..fill(2, 1, 1) }));
    report(t.apply(&VenueEvent { kind: ExecKind::Fill, ..fill(3, 1, 1) }));
    t.track_new(&new(5, 1), Nanos(0)).unwrap();
    assert!(t.get(ClientOrderId(2)).is_none(), "the oldest finished order went first");
    assert_eq!(state(&t, 3), OrdState::Filled);
    assert_eq!(t.apply(&fill(2, 1, 1)), Applied::Refused(Anomaly::UnknownOrder));
    assert_eq!(t.stats().table_full.get(), 1);
}

#[test]
fn a_restored_order_takes_its_reports_and_its_cancel() {
    use tickline_engine::risk::SeedOrder;
    let mut t = OrderTracker::new(8);
    let seed = SeedOrder {
        id: ClientOrderId(40),
        instrument: InstrumentId(0),
        strategy: StrategyId(3),
        side: Side::Buy,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        price: Px::from_raw(100),
        qty: Qty::from_raw(10),
        cum: Qty::from_raw(4),
        leaves: Qty::from_raw(6),
    };
    t.restore(&seed).unwrap();
    assert_eq!(t.restore(&seed), Err(Refusal::DuplicateId));
    assert_eq!((state(&t, 40), t.open_orders(), t.pending()), (OrdState::PartiallyFilled, 1, 0));
    // Fills continue from the cumulative quantity the previous session saw.
    let r = report(t.apply(&fill(40, 2, 6)));
    assert_eq!(
        (r.kind, r.cum_qty, r.leaves_qty),
        (ExecKind::PartialFill, Qty::from_raw(6), Qty::from_raw(4))
    );
    assert!(matches!(t.apply(&fill(40, 1, 5)), Applied::Refused(Anomaly::OutOfOrder)));
    // The gateway's own cancel (cancel-on-disconnect) and its answer.
    t.begin_cancel(ClientOrderId(40), ClientOrderId(41)).unwrap();
    let r =
        report(t.apply(&VenueEvent { request: ClientOrderId(41), ..ev(ExecKind::Cancelled, 40) }));
    assert_eq!((r.kind, r.client_id), (ExecKind::Cancelled, ClientOrderId(40)));
    assert_eq!(t.open_orders(), 0);
}
