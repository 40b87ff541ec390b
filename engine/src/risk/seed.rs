//! Starting a risk stage where an earlier session left off.
//!
//! A [`RiskSeed`] is the positions and open orders a risk stage starts from instead of flat
//! (see [`super::RiskSetup::with_seed`]). [`SeedBuilder`] rebuilds one from an earlier
//! session's journaled records with the risk stage's own rules: a fill moves the position
//! through the same [`Position::apply_fill`], an order counts from its approval until a
//! report says it is gone, a partial fill releases what it filled, a replace reserves the
//! replacement beside the original until the venue answers. Cold path: it allocates freely.
//!
//! ```
//! use tickline_engine::record::RecordBody;
//! use tickline_engine::risk::{RiskSeed, SeedBuilder};
//! use tickline_engine::types::*;
//!
//! let intent = OrderIntent {
//!     decided_ns: Nanos(1), tick_recv_ns: Nanos(1), client_id: ClientOrderId(7),
//!     target: ClientOrderId(0), price: Px::from_raw(100), qty: Qty::from_raw(3),
//!     instrument: InstrumentId(0), strategy: StrategyId(0), action: Action::New,
//!     side: Side::Buy, ord_type: OrdType::Limit, tif: TimeInForce::Gtc, reserved: [0; 6],
//! };
//! let fill = ExecReport {
//!     ts: Nanos(2), client_id: ClientOrderId(7), venue_order_id: 1,
//!     last_px: Px::from_raw(100), last_qty: Qty::from_raw(1), cum_qty: Qty::from_raw(1),
//!     leaves_qty: Qty::from_raw(2), fee: 0, instrument: InstrumentId(0),
//!     strategy: StrategyId(0), kind: ExecKind::PartialFill, side: Side::Buy,
//! };
//! let mut b = SeedBuilder::new(1, &RiskSeed::default());
//! b.apply(&RecordBody::Approved(Order { intent, approved_ns: Nanos(1) }));
//! b.apply(&RecordBody::Exec(fill));
//! let rebuilt = b.finish();
//! assert_eq!(rebuilt.seed.positions[0].1.qty(), Qty::from_raw(1));
//! assert_eq!(rebuilt.seed.open_orders[0].leaves, Qty::from_raw(2));
//! ```

use std::collections::{BTreeMap, HashMap};

use crate::position::Position;
use crate::record::RecordBody;
use crate::types::{
    Action, ClientOrderId, ExecKind, ExecReport, InstrumentId, OrdType, Order, Px, Qty, Side,
    StrategyId, Tick, TickKind, TimeInForce,
};

/// An order an earlier session left open: what risk reserves for it and what the venue
/// adapter needs to recognise its reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeedOrder {
    /// Client order id.
    pub id: ClientOrderId,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Strategy that owns it.
    pub strategy: StrategyId,
    /// Side.
    pub side: Side,
    /// Limit or market.
    pub ord_type: OrdType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Limit price.
    pub price: Px,
    /// Order quantity (a confirmed replacement's own).
    pub qty: Qty,
    /// Filled so far, as the venue's last report on it said.
    pub cum: Qty,
    /// Quantity risk still reserves for it.
    pub leaves: Qty,
}

/// Positions and open orders a risk stage starts from. The default is flat with nothing
/// open, what a first session starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RiskSeed {
    /// Positions (with their last mark) by instrument; an instrument not listed starts flat
    /// and unmarked.
    pub positions: Vec<(InstrumentId, Position)>,
    /// Orders counted as open from the start.
    pub open_orders: Vec<SeedOrder>,
}

impl RiskSeed {
    /// Whether it is the flat start.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty() && self.open_orders.is_empty()
    }
}

/// What the records said that a seed cannot carry, for the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedNotes {
    /// Records applied.
    pub records: u64,
    /// Fills applied to positions.
    pub fills: u64,
    /// Fills the position arithmetic refused (the risk stage counts them as
    /// `position_errors` too): the position is left as it was.
    pub position_errors: u64,
    /// Reports naming no order the rebuild knew of (the risk stage's `unknown_reports`).
    pub unknown_reports: u64,
    /// Replaces still unanswered at the end: (original, replacement). The original is kept
    /// open, the replacement dropped: which of the two the venue holds is unknown.
    pub unanswered_replaces: Vec<(ClientOrderId, ClientOrderId)>,
    /// Orders with a cancel still unanswered at the end: kept open.
    pub unanswered_cancels: Vec<ClientOrderId>,
}

#[derive(Clone, Copy, Debug)]
struct Tracked {
    order: SeedOrder,
    /// The order it replaces, while the replace is unanswered; 0 otherwise.
    replaces: u64,
    /// The pending cancel request's id, 0 if none.
    cancel_id: u64,
}

/// A rebuilt seed and what went into it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Positions and open orders at the end of the records.
    pub seed: RiskSeed,
    /// What the records said that the seed cannot carry.
    pub notes: SeedNotes,
}

/// Rebuilds a [`RiskSeed`] from a session's records, in journal order (see the
/// [module docs](self)). Instruments are the session's own ids.
#[derive(Debug)]
pub struct SeedBuilder {
    positions: Vec<Position>,
    orders: BTreeMap<u64, Tracked>,
    /// Cancel request id → the order it cancels.
    cancels: HashMap<u64, u64>,
    notes: SeedNotes,
}

impl SeedBuilder {
    /// A rebuild over `instruments` instruments that starts from `start` (what the session
    /// itself started from).
    pub fn new(instruments: usize, start: &RiskSeed) -> SeedBuilder {
        let mut positions = vec![Position::new(); instruments];
        for (id, p) in &start.positions {
            if let Some(slot) = positions.get_mut(id.index()) {
                *slot = *p;
            }
        }
        let orders = start
            .open_orders
            .iter()
            .map(|o| (o.id.0, Tracked { order: *o, replaces: 0, cancel_id: 0 }))
            .collect();
        SeedBuilder { positions, orders, cancels: HashMap::new(), notes: SeedNotes::default() }
    }

    /// Applies one record: ticks mark positions, approvals open orders (or ask to cancel or
    /// replace them), execution reports fill and close them. Rejections, commands and halts
    /// change neither.
    pub fn apply(&mut self, body: &RecordBody) {
        self.notes.records += 1;
        match body {
            RecordBody::Tick(t) => self.on_tick(t),
            RecordBody::Approved(o) => self.on_approved(o),
            RecordBody::Exec(r) => self.on_exec(r),
            RecordBody::Intent(_)
            | RecordBody::Rejected(_)
            | RecordBody::Control(_)
            | RecordBody::Halt(_)
            | RecordBody::VenueSeq(_) => {}
        }
    }

    /// The seed at the end of the records.
    pub fn finish(mut self) -> Rebuilt {
        let positions = self
            .positions
            .iter()
            .enumerate()
            .filter(|(_, p)| **p != Position::new())
            .map(|(i, p)| (InstrumentId(i as u32), *p))
            .collect();
        let mut open_orders = Vec::new();
        for t in self.orders.values() {
            if t.replaces != 0 {
                self.notes.unanswered_replaces.push((ClientOrderId(t.replaces), t.order.id));
                continue;
            }
            if t.cancel_id != 0 {
                self.notes.unanswered_cancels.push(t.order.id);
            }
            open_orders.push(t.order);
        }
        Rebuilt { seed: RiskSeed { positions, open_orders }, notes: self.notes }
    }

    /// The risk stage's reference price: a quote's mid, a trade's price.
    fn on_tick(&mut self, t: &Tick) {
        let reference = match t.kind() {
            TickKind::Quote => t.mid(),
            TickKind::Trade => t.last_trade().map(|(l, _)| l.px),
        };
        if let (Some(px), Some(p)) =
            (reference.filter(|p| p.is_positive()), self.positions.get_mut(t.instrument().index()))
        {
            p.set_mark(px);
        }
    }

    fn on_approved(&mut self, o: &Order) {
        let i = o.intent;
        match i.action {
            Action::New | Action::Replace => {
                let replaces = match i.action {
                    // Risk approves a replace only of an order it holds.
                    Action::Replace if self.orders.contains_key(&i.target.0) => i.target.0,
                    Action::Replace => return,
                    _ => 0,
                };
                if i.client_id.0 == 0
                    || self.orders.contains_key(&i.client_id.0)
                    || self.cancels.contains_key(&i.client_id.0)
                {
                    return;
                }
                let order = SeedOrder {
                    id: i.client_id,
                    instrument: i.instrument,
                    strategy: i.strategy,
                    side: i.side,
                    ord_type: i.ord_type,
                    tif: i.tif,
                    price: i.price,
                    qty: i.qty,
                    cum: self.orders.get(&replaces).map_or(Qty::ZERO, |t| t.order.cum),
                    leaves: i.qty,
                };
                self.orders.insert(i.client_id.0, Tracked { order, replaces, cancel_id: 0 });
            }
            Action::Cancel if i.target == ClientOrderId::ALL => {}
            Action::Cancel => {
                let id = i.client_id.0;
                if id == 0 || self.orders.contains_key(&id) || self.cancels.contains_key(&id) {
                    return;
                }
                if let Some(t) = self.orders.get_mut(&i.target.0) {
                    if t.cancel_id != 0 {
                        self.cancels.remove(&t.cancel_id);
                    }
                    t.cancel_id = id;
                    self.cancels.insert(id, i.target.0);
                }
            }
        }
    }

    fn remove(&mut self, id: u64) {
        if let Some(t) = self.orders.remove(&id) {
            if t.cancel_id != 0 {
                self.cancels.remove(&t.cancel_id);
            }
        }
    }

    fn on_exec(&mut self, r: &ExecReport) {
        if r.kind.is_fill() {
            let applied = self
                .positions
                .get_mut(r.instrument.index())
                .map(|p| p.apply_fill(r.side, r.last_qty, r.last_px, r.fee));
            match applied {
                Some(Ok(_)) => self.notes.fills += 1,
                _ => self.notes.position_errors += 1,
            }
        }
        let id = r.client_id.0;
        if let Some(t) = self.orders.get_mut(&id) {
            t.order.cum = r.cum_qty;
            match r.kind {
                ExecKind::New => {}
                // A refused cancel leaves the order; a refused replace ends the replacement.
                ExecKind::CancelRejected if t.replaces == 0 => {}
                ExecKind::PartialFill => {
                    let released = r.last_qty.raw().clamp(0, t.order.leaves.raw());
                    t.order.leaves = Qty::from_raw(t.order.leaves.raw() - released);
                }
                ExecKind::Fill
                | ExecKind::Cancelled
                | ExecKind::Expired
                | ExecKind::Rejected
                | ExecKind::CancelRejected => self.remove(id),
                ExecKind::Replaced => {
                    let old = std::mem::take(&mut t.replaces);
                    self.remove(old);
                }
            }
        } else if let Some(&order) = self.cancels.get(&id) {
            match r.kind {
                ExecKind::Cancelled => self.remove(order),
                ExecKind::CancelRejected | ExecKind::Rejected => {
                    self.cancels.remove(&id);
                    if let Some(t) = self.orders.get_mut(&order) {
                        t.cancel_id = 0;
                    }
                }
                _ => {}
            }
        } else {
            self.notes.unknown_reports += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Aggressor, Level, Nanos, OrderIntent};

    const A: InstrumentId = InstrumentId(0);
    const B: InstrumentId = InstrumentId(1);

    fn approved(
        id: u64,
        action: Action,
        target: u64,
        i: InstrumentId,
        side: Side,
        px: i64,
        qty: i64,
    ) -> RecordBody {
        RecordBody::Approved(Order {
            intent: OrderIntent {
                decided_ns: Nanos(1),
                tick_recv_ns: Nanos(1),
                client_id: ClientOrderId(id),
                target: ClientOrderId(target),
                price: Px::from_raw(px),
                qty: Qty::from_raw(qty),
                instrument: i,
                strategy: StrategyId(3),
                action,
                side,
                ord_type: OrdType::Limit,
                tif: TimeInForce::Gtc,
                reserved: [0; 6],
            },
            approved_ns: Nanos(2),
        })
    }

    fn new(id: u64, i: InstrumentId, side: Side, px: i64, qty: i64) -> RecordBody {
        approved(id, Action::New, 0, i, side, px, qty)
    }

    fn exec(
        kind: ExecKind,
        id: u64,
        i: InstrumentId,
        side: Side,
        px: i64,
        qty: i64,
        cum: i64,
    ) -> RecordBody {
        RecordBody::Exec(ExecReport {
            ts: Nanos(3),
            client_id: ClientOrderId(id),
            venue_order_id: 9,
            last_px: Px::from_raw(px),
            last_qty: Qty::from_raw(qty),
            cum_qty: Qty::from_raw(cum),
            leaves_qty: Qty::ZERO,
            fee: 0,
            instrument: i,
            strategy: StrategyId(3),
            kind,
            side,
        })
    }

    fn ids(seed: &RiskSeed) -> Vec<u64> {
        seed.open_orders.iter().map(|o| o.id.0).collect()
    }

    #[test]
    fn rebuilds_positions_and_open_orders_from_partial_fills_cancels_and_rejects() {
        use ExecKind::*;
        use Side::{Buy, Sell};
        let records = [
            // #1 buys 10 at 100.00, partly filled 4 + 3.
            new(1, A, Buy, 10_000, 10),
            exec(New, 1, A, Buy, 0, 0, 0),
            exec(PartialFill, 1, A, Buy, 10_000, 4, 4),
            exec(PartialFill, 1, A, Buy, 10_010, 3, 7),
            // #2 rejected by the venue.
            new(2, B, Sell, 5_000, 5),
            exec(Rejected, 2, B, Sell, 0, 0, 0),
            // #3 cancelled (cancel #4 confirmed; the report names the order).
            new(3, A, Buy, 9_900, 2),
            approved(4, Action::Cancel, 3, A, Buy, 0, 0),
            exec(Cancelled, 3, A, Buy, 0, 0, 0),
            // #5 rests; its cancel #6 is refused, so it stays, then a replace #11 goes
            // unanswered.
            new(5, A, Sell, 10_100, 3),
            approved(6, Action::Cancel, 5, A, Sell, 0, 0),
            exec(CancelRejected, 6, A, Sell, 0, 0, 0),
            // #1 replaced by #7 (5 at 100.05): #1 goes, #7 lives with #1's fills carried.
            approved(7, Action::Replace, 1, A, Buy, 10_005, 12),
            exec(Replaced, 7, A, Buy, 0, 0, 7),
            // #8 fills in full on B; #9 expires; #10 is never answered.
            new(8, B, Buy, 5_000, 1),
            exec(Fill, 8, B, Buy, 5_000, 1, 1),
            new(9, A, Buy, 9_950, 1),
            exec(Expired, 9, A, Buy, 0, 0, 0),
            new(10, A, Buy, 9_950, 1),
            approved(11, Action::Replace, 5, A, Sell, 10_200, 3),
            // A report for an order nobody approved, and a last trade to mark at.
            exec(Fill, 99, B, Buy, 5_000, 1, 1),
            RecordBody::Tick(Tick::trade(
                A,
                Level { px: Px::from_raw(10_100), qty: Qty::from_raw(1) },
                Aggressor::Buy,
                1,
                Nanos(4),
                Nanos(4),
            )),
        ];
        let mut b = SeedBuilder::new(2, &RiskSeed::default());
        for r in &records {
            b.apply(r);
        }
        let Rebuilt { seed, notes } = b.finish();

        let mut a = Position::new();
        a.apply_fill(Buy, Qty::from_raw(4), Px::from_raw(10_000), 0).unwrap();
        a.apply_fill(Buy, Qty::from_raw(3), Px::from_raw(10_010), 0).unwrap();
        a.set_mark(Px::from_raw(10_100));
        let mut pb = Position::new();
        // The unknown order's fill still moves the position, as it does in the risk stage.
        pb.apply_fill(Buy, Qty::from_raw(1), Px::from_raw(5_000), 0).unwrap();
        pb.apply_fill(Buy, Qty::from_raw(1), Px::from_raw(5_000), 0).unwrap();
        assert_eq!(seed.positions, vec![(A, a), (B, pb)]);
        assert_eq!(a.qty(), Qty::from_raw(7));
        assert_eq!(a.cost_basis(), 4 * 10_000 + 3 * 10_010);

        assert_eq!(ids(&seed), vec![5, 7, 10]);
        let o7 = seed.open_orders[1];
        assert_eq!(
            (o7.qty, o7.cum, o7.leaves),
            (Qty::from_raw(12), Qty::from_raw(7), Qty::from_raw(12))
        );
        assert_eq!((o7.price, o7.side, o7.strategy), (Px::from_raw(10_005), Buy, StrategyId(3)));
        assert_eq!(seed.open_orders[0].leaves, Qty::from_raw(3));
        assert_eq!(notes.unanswered_replaces, vec![(ClientOrderId(5), ClientOrderId(11))]);
        assert!(notes.unanswered_cancels.is_empty(), "#6 was refused, #4 confirmed");
        assert_eq!(
            (notes.fills, notes.unknown_reports, notes.records),
            (4, 1, records.len() as u64)
        );

        // A later session continues from this seed: #7 fills its 12, #10 is cancelled by a
        // gateway cancel-all (reported under its own id).
        let mut b = SeedBuilder::new(2, &seed);
        b.apply(&exec(Fill, 7, A, Buy, 10_005, 5, 12));
        b.apply(&exec(Cancelled, 10, A, Buy, 0, 0, 0));
        let next = b.finish().seed;
        assert_eq!(ids(&next), vec![5]);
        assert_eq!(next.positions[0].1.qty(), Qty::from_raw(12));
        assert_eq!(next.positions[0].1.mark(), Px::from_raw(10_100), "the mark is carried");
    }

    #[test]
    fn a_pending_cancel_keeps_the_order_and_is_noted() {
        let mut b = SeedBuilder::new(1, &RiskSeed::default());
        b.apply(&new(1, A, Side::Buy, 100, 2));
        b.apply(&approved(2, Action::Cancel, 1, A, Side::Buy, 0, 0));
        // Cancel-all asks risk nothing: the gateway's reports do the work.
        b.apply(&approved(3, Action::Cancel, u64::MAX, A, Side::Buy, 0, 0));
        let r = b.finish();
        assert_eq!(ids(&r.seed), vec![1]);
        assert_eq!(r.notes.unanswered_cancels, vec![ClientOrderId(1)]);
        assert!(r.seed.positions.is_empty());
    }
}
