//! The order tracker: every order a venue adapter sent, its state, and the checks every venue
//! report must pass before it reaches the exec ring.
//!
//! Each venue adapter owns one and runs every approved order and every venue report through
//! it, so the state machine and its anomaly counters are the same whatever the venue. Reports
//! that would make an illegal transition, overfill an order, name an order we never sent, or
//! arrive out of order (an ack after a fill, a cumulative quantity that skips or repeats a
//! fill) are refused: counted in [`TrackerStats`], logged (rate-limited, cold path) and never
//! forwarded.
//!
//! Conventions of the reports it forwards (an [`ExecReport`] has one client id), the ones the
//! risk stage's open-order book expects:
//! - fills, acks, rejects, expiries carry the order's id;
//! - `Cancelled` carries the cancelled order's id (not the cancel request's);
//! - `Replaced` carries the replacement's id, which is the order's id from then on;
//! - `CancelRejected` carries the refused request's id: the cancel's own id, or the
//!   replacement's id for a refused replace. For a cancel the gateway made itself (cancel-all,
//!   cancel-on-disconnect, see [`super::GatewayIds`]) it carries the order's id, since nobody
//!   upstream knows the request.
//!
//! Storage is allocated once: a slab of orders, an id index and a queue of finished orders.
//! Finished orders stay known (so late reports are recognised as late, not unknown) until
//! their slot is needed again, oldest first.

use std::collections::VecDeque;
use std::sync::Arc;

use tickline_engine::risk::SeedOrder;
use tickline_engine::telemetry::Counter;
use tickline_engine::types::{
    Action, ClientOrderId, ExecKind, ExecReport, InstrumentId, Nanos, OrdType, Order, Px, Qty,
    Side, StrategyId, TimeInForce,
};

use super::ids::GatewayIds;
use super::index::IdIndex;
use super::state::{step, OrdEvent, OrdState, Step};

/// What a venue reported about one of our orders, before the tracker checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VenueEvent {
    /// What happened.
    pub kind: ExecKind,
    /// The order it is about. For `Replaced`, the replacement's id.
    pub id: ClientOrderId,
    /// The cancel or replace request it answers (zero when none): FIX `ClOrdID` of a cancel
    /// answer, or the replacement id of a refused replace.
    pub request: ClientOrderId,
    /// The venue's id of the order (zero when the venue gave none).
    pub venue_order_id: u64,
    /// Price of this fill.
    pub last_px: Px,
    /// Size of this fill.
    pub last_qty: Qty,
    /// Filled so far, as the venue counts it.
    pub cum_qty: Qty,
    /// Still open, as the venue counts it.
    pub leaves_qty: Qty,
    /// Fee of this fill (see [`ExecReport::fee`]).
    pub fee: i64,
    /// When the gateway received it.
    pub ts: Nanos,
}

impl VenueEvent {
    /// An event with no fill.
    pub const fn plain(kind: ExecKind, id: ClientOrderId, ts: Nanos) -> VenueEvent {
        VenueEvent {
            kind,
            id,
            request: ClientOrderId(0),
            venue_order_id: 0,
            last_px: Px::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: Qty::ZERO,
            fee: 0,
            ts,
        }
    }
}

/// Why a venue report was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anomaly {
    /// It names an order we do not know.
    UnknownOrder,
    /// The state machine does not allow it.
    IllegalTransition {
        /// The order's state.
        state: OrdState,
        /// The event.
        event: OrdEvent,
    },
    /// Its fill would take the cumulative quantity past the order quantity.
    Overfill,
    /// Its quantities disagree with what came before (a skipped or repeated fill), or it is a
    /// second acknowledgement.
    OutOfOrder,
}

/// What [`OrderTracker::apply`] made of a venue event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A valid report: forward it on the exec ring.
    Report(ExecReport),
    /// Refused: counted and logged, not forwarded.
    Refused(Anomaly),
}

/// Why the gateway refused an order or request before sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The client order id is already in use.
    DuplicateId,
    /// No room for another order (every slot holds a live order).
    TableFull,
    /// A cancel or replace for an order we do not know.
    UnknownTarget,
    /// The order's state does not allow the request.
    IllegalTransition(OrdState),
    /// A replace that changes the side or instrument, or leaves no quantity open.
    BadReplace,
}

/// Tracker counters, readable from any thread.
#[derive(Debug, Default)]
pub struct TrackerStats {
    /// Venue reports applied and forwarded.
    pub applied: Counter,
    /// Venue reports refused as illegal transitions.
    pub illegal_transitions: Counter,
    /// Our own cancels and replaces refused as illegal transitions (a cancel of a finished
    /// order, a replace while another is pending); also counted in `refused_requests`.
    pub illegal_requests: Counter,
    /// Fills refused because they would overfill the order.
    pub overfills: Counter,
    /// Reports for orders we do not know.
    pub unknown_orders: Counter,
    /// Reports out of order or inconsistent with the ones before.
    pub out_of_order: Counter,
    /// Orders and requests refused before sending (any [`Refusal`]).
    pub refused_requests: Counter,
    /// New orders refused because the table was full.
    pub table_full: Counter,
    /// New orders refused because their id was in use.
    pub duplicate_ids: Counter,
}

impl TrackerStats {
    /// Refused venue reports of every kind.
    pub fn anomalies(&self) -> u64 {
        self.illegal_transitions.get()
            + self.overfills.get()
            + self.unknown_orders.get()
            + self.out_of_order.get()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    /// A live or finished order.
    Order,
    /// A replacement the venue has not confirmed: only the replace's answer may touch it.
    Replacement,
}

/// One order as the tracker knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrackedOrder {
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
    /// Order quantity.
    pub qty: Qty,
    /// Filled so far.
    pub cum: Qty,
    /// State.
    pub state: OrdState,
    /// The venue's id (zero until it gives one).
    pub venue_order_id: u64,
    resume: OrdState,
    role: Role,
    /// Order: the pending replacement's id. Replacement: the order it replaces.
    pub(crate) link: ClientOrderId,
    /// The pending cancel request's id, an alias in the index.
    request: ClientOrderId,
    acked: bool,
    /// It went terminal with a request outstanding: one refusal of it is still legal.
    late_refusal: bool,
    /// Cancel it once the pending replace is answered (cancel-all during a replace).
    cancel_after: bool,
    used: bool,
}

impl TrackedOrder {
    const EMPTY: TrackedOrder = TrackedOrder {
        id: ClientOrderId(0),
        instrument: InstrumentId(0),
        strategy: StrategyId(0),
        side: Side::Buy,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        price: Px::ZERO,
        qty: Qty::ZERO,
        cum: Qty::ZERO,
        state: OrdState::PendingNew,
        venue_order_id: 0,
        resume: OrdState::PendingNew,
        role: Role::Order,
        link: ClientOrderId(0),
        request: ClientOrderId(0),
        acked: false,
        late_refusal: false,
        cancel_after: false,
        used: false,
    };

    /// Quantity still open.
    #[inline]
    pub fn leaves(&self) -> Qty {
        if self.state.is_terminal() {
            Qty::ZERO
        } else {
            Qty::from_raw((self.qty.raw() - self.cum.raw()).max(0))
        }
    }
}

/// Deferred cancels waiting for a replace's answer, at most.
const DEFERRED: usize = 64;
/// Anomalies logged in full before logging turns to one line per 1,000.
const LOG_FIRST: u64 = 16;

/// The order tracker of one venue adapter. Owned by the gateway thread.
#[derive(Debug)]
pub struct OrderTracker {
    slots: Vec<TrackedOrder>,
    free: Vec<u32>,
    finished: VecDeque<u32>,
    index: IdIndex,
    deferred: [ClientOrderId; DEFERRED],
    n_deferred: usize,
    pending: usize,
    stats: Arc<TrackerStats>,
}

impl OrderTracker {
    /// A tracker for up to `capacity` orders (live plus recently finished).
    pub fn new(capacity: usize) -> OrderTracker {
        let capacity = capacity.clamp(4, u32::MAX as usize / 4);
        OrderTracker {
            slots: vec![TrackedOrder::EMPTY; capacity],
            free: (0..capacity as u32).rev().collect(),
            finished: VecDeque::with_capacity(capacity),
            // Order ids plus one cancel-request alias per order.
            index: IdIndex::new(capacity * 2),
            deferred: [ClientOrderId(0); DEFERRED],
            n_deferred: 0,
            pending: 0,
            stats: Arc::new(TrackerStats::default()),
        }
    }

    /// Counters, for the sidecar and tests.
    pub fn stats(&self) -> Arc<TrackerStats> {
        Arc::clone(&self.stats)
    }

    /// The order (or pending replacement) with this id, or the order a pending cancel
    /// request with this id refers to.
    #[inline]
    pub fn get(&self, id: ClientOrderId) -> Option<&TrackedOrder> {
        self.index.get(id.0).and_then(|s| self.slots.get(s as usize))
    }

    /// Orders with a request the venue has not answered.
    #[inline]
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// Orders that are not finished (live at the venue or on their way), replacements
    /// excluded.
    pub fn open_orders(&self) -> usize {
        self.slots
            .iter()
            .filter(|o| o.used && o.role == Role::Order && !o.state.is_terminal())
            .count()
    }

    /// Calls `f` for every order that is not finished (replacements excluded), in slot order.
    pub fn for_each_open(&self, mut f: impl FnMut(&TrackedOrder)) {
        for o in &self.slots {
            if o.used && o.role == Role::Order && !o.state.is_terminal() {
                f(o);
            }
        }
    }

    // --- our requests -------------------------------------------------------------------

    /// Records a new order as `PendingNew`. A refusal comes with the `Rejected` report to
    /// hand the strategy.
    pub fn track_new(&mut self, order: &Order, now: Nanos) -> Result<(), (Refusal, ExecReport)> {
        let i = order.intent;
        let refuse = |this: &mut Self, why| {
            this.count_refusal(why);
            Err((why, ExecReport::unfilled(&i, ExecKind::Rejected, now)))
        };
        if i.client_id.0 == 0 || self.index.get(i.client_id.0).is_some() {
            return refuse(self, Refusal::DuplicateId);
        }
        let Some(slot) = self.alloc() else { return refuse(self, Refusal::TableFull) };
        let o = TrackedOrder {
            id: i.client_id,
            instrument: i.instrument,
            strategy: i.strategy,
            side: i.side,
            ord_type: i.ord_type,
            tif: i.tif,
            price: i.price,
            qty: i.qty,
            used: true,
            ..TrackedOrder::EMPTY
        };
        if !self.index.insert(i.client_id.0, slot) {
            self.free.push(slot);
            return refuse(self, Refusal::TableFull);
        }
        self.slots[slot as usize] = o;
        self.pending += 1;
        Ok(())
    }

    /// Tracks an order an earlier session left open at the venue: acknowledged, `cum` of it
    /// filled (so `New` or `PartiallyFilled`), nothing pending. The venue's reports on it are
    /// then checked and forwarded like any other's.
    pub fn restore(&mut self, o: &SeedOrder) -> Result<(), Refusal> {
        if o.id.0 == 0 || o.id == ClientOrderId::ALL || self.index.get(o.id.0).is_some() {
            self.count_refusal(Refusal::DuplicateId);
            return Err(Refusal::DuplicateId);
        }
        let cum = Qty::from_raw(o.cum.raw().clamp(0, o.qty.raw().max(0)));
        let state = if cum.is_positive() { OrdState::PartiallyFilled } else { OrdState::New };
        let Some(slot) = self.alloc() else {
            self.count_refusal(Refusal::TableFull);
            return Err(Refusal::TableFull);
        };
        if !self.index.insert(o.id.0, slot) {
            self.free.push(slot);
            self.count_refusal(Refusal::TableFull);
            return Err(Refusal::TableFull);
        }
        self.slots[slot as usize] = TrackedOrder {
            id: o.id,
            instrument: o.instrument,
            strategy: o.strategy,
            side: o.side,
            ord_type: o.ord_type,
            tif: o.tif,
            price: o.price,
            qty: o.qty,
            cum,
            state,
            resume: state,
            acked: true,
            used: true,
            ..TrackedOrder::EMPTY
        };
        Ok(())
    }

    /// Records a cancel of `order.intent.target` as pending. On success returns the order
    /// being cancelled; a refusal comes with the `CancelRejected` report to hand back.
    pub fn track_cancel(
        &mut self,
        order: &Order,
        now: Nanos,
    ) -> Result<TrackedOrder, (Refusal, ExecReport)> {
        let i = order.intent;
        match self.begin_cancel(i.target, i.client_id) {
            Ok(o) => Ok(o),
            Err(why) => {
                self.count_refusal(why);
                let r = match self.get(i.target) {
                    Some(o) if o.id == i.target => ExecReport {
                        client_id: i.client_id,
                        ..order_report(o, ExecKind::CancelRejected, now)
                    },
                    _ => ExecReport::unfilled(&i, ExecKind::CancelRejected, now),
                };
                Err((why, r))
            }
        }
    }

    /// Starts cancelling order `target` with request id `request` (cancel-all, deferred
    /// cancels, cancel-on-disconnect). Returns the order.
    pub fn begin_cancel(
        &mut self,
        target: ClientOrderId,
        request: ClientOrderId,
    ) -> Result<TrackedOrder, Refusal> {
        let Some(slot) = self.order_slot(target) else { return Err(Refusal::UnknownTarget) };
        let o = self.slots[slot as usize];
        let Step::To(next) = step(o.state, OrdEvent::Cancel) else {
            return Err(Refusal::IllegalTransition(o.state));
        };
        if request.0 != 0 && request != target && !self.index.insert(request.0, slot) {
            return Err(Refusal::DuplicateId);
        }
        let o = &mut self.slots[slot as usize];
        if !o.state.is_pending() {
            self.pending += 1;
        }
        o.resume = o.state;
        o.state = next;
        o.request = if request == target { ClientOrderId(0) } else { request };
        Ok(*o)
    }

    /// Records a replace of `order.intent.target` by `order.intent.client_id`. On success
    /// returns the order being replaced; a refusal comes with the `CancelRejected` report.
    pub fn track_replace(
        &mut self,
        order: &Order,
        now: Nanos,
    ) -> Result<TrackedOrder, (Refusal, ExecReport)> {
        let i = order.intent;
        let result = self.begin_replace(order);
        result.map_err(|why| {
            self.count_refusal(why);
            let r = match self.get(i.target) {
                Some(o) if o.role == Role::Order && o.id == i.target => ExecReport {
                    client_id: i.client_id,
                    ..order_report(o, ExecKind::CancelRejected, now)
                },
                _ => ExecReport::unfilled(&i, ExecKind::CancelRejected, now),
            };
            (why, r)
        })
    }

    fn begin_replace(&mut self, order: &Order) -> Result<TrackedOrder, Refusal> {
        let i = order.intent;
        let Some(slot) = self.order_slot(i.target) else { return Err(Refusal::UnknownTarget) };
        let o = self.slots[slot as usize];
        let Step::To(next) = step(o.state, OrdEvent::Replace) else {
            return Err(Refusal::IllegalTransition(o.state));
        };
        if i.side != o.side || i.instrument != o.instrument || i.qty.raw() <= o.cum.raw() {
            return Err(Refusal::BadReplace);
        }
        if i.client_id.0 == 0 || self.index.get(i.client_id.0).is_some() {
            return Err(Refusal::DuplicateId);
        }
        let Some(new_slot) = self.alloc() else { return Err(Refusal::TableFull) };
        if !self.index.insert(i.client_id.0, new_slot) {
            self.free.push(new_slot);
            return Err(Refusal::TableFull);
        }
        self.slots[new_slot as usize] = TrackedOrder {
            id: i.client_id,
            price: i.price,
            qty: i.qty,
            cum: o.cum,
            state: OrdState::PendingNew,
            venue_order_id: o.venue_order_id,
            role: Role::Replacement,
            link: o.id,
            request: ClientOrderId(0),
            acked: true,
            late_refusal: false,
            cancel_after: false,
            ..o
        };
        let o = &mut self.slots[slot as usize];
        o.resume = o.state;
        o.state = next;
        o.link = i.client_id;
        self.pending += 1;
        Ok(*o)
    }

    /// Starts cancelling every open order: `send` is called for each with a request id from
    /// `next_request`. Orders with a cancel pending are left alone; orders with a replace
    /// pending are cancelled once it is answered (see [`OrderTracker::take_deferred_cancel`]).
    /// Returns the cancels started.
    pub fn cancel_all(
        &mut self,
        mut next_request: impl FnMut() -> ClientOrderId,
        mut send: impl FnMut(&TrackedOrder, ClientOrderId),
    ) -> usize {
        let mut n = 0;
        for s in 0..self.slots.len() {
            let o = self.slots[s];
            if !o.used || o.role != Role::Order || o.state.is_terminal() {
                continue;
            }
            match o.state {
                OrdState::PendingReplace => {
                    self.slots[s].cancel_after = true;
                }
                OrdState::PendingCancel => {}
                _ => {
                    let req = next_request();
                    if let Ok(o) = self.begin_cancel(o.id, req) {
                        send(&o, req);
                        n += 1;
                    }
                }
            }
        }
        n
    }

    /// Marks every order with a replace pending to be cancelled once the replace is answered
    /// (see [`OrderTracker::take_deferred_cancel`]). Returns how many.
    pub fn cancel_after_replaces(&mut self) -> usize {
        let mut n = 0;
        for o in self.slots.iter_mut() {
            if o.used && o.role == Role::Order && o.state == OrdState::PendingReplace {
                o.cancel_after = true;
                n += 1;
            }
        }
        n
    }

    /// An order whose replace was answered while a cancel-all wanted it cancelled: the
    /// adapter cancels it now (with [`OrderTracker::begin_cancel`]).
    pub fn take_deferred_cancel(&mut self) -> Option<ClientOrderId> {
        if self.n_deferred == 0 {
            return None;
        }
        self.n_deferred -= 1;
        Some(self.deferred[self.n_deferred])
    }

    /// The venue refused a request at the session level (a FIX `Reject` naming the message
    /// that carried it): a new order becomes `Rejected`, a cancel or replace
    /// `CancelRejected`. `id` is the request's own client order id, `target` the order a
    /// cancel or replace was for.
    pub fn request_refused(
        &mut self,
        action: Action,
        id: ClientOrderId,
        target: ClientOrderId,
        now: Nanos,
    ) -> Applied {
        let ev = match action {
            Action::New => VenueEvent::plain(ExecKind::Rejected, id, now),
            Action::Cancel | Action::Replace => VenueEvent {
                request: id,
                ..VenueEvent::plain(ExecKind::CancelRejected, target, now)
            },
        };
        self.apply(&ev)
    }

    // --- venue reports ------------------------------------------------------------------

    /// Checks a venue event against the order's state and quantities, applies it, and returns
    /// the report to forward, or why it was refused.
    pub fn apply(&mut self, ev: &VenueEvent) -> Applied {
        let result = self.apply_inner(ev);
        match result {
            Ok(r) => {
                self.stats.applied.inc();
                Applied::Report(r)
            }
            Err(a) => {
                self.count_anomaly(a, ev);
                Applied::Refused(a)
            }
        }
    }

    fn apply_inner(&mut self, ev: &VenueEvent) -> Result<ExecReport, Anomaly> {
        // The answer to a replace names the replacement, by its own id or as the request.
        if matches!(ev.kind, ExecKind::Replaced | ExecKind::CancelRejected | ExecKind::Rejected) {
            for id in [ev.request, ev.id] {
                if let Some(s) = self.index.get(id.0) {
                    if self.slots[s as usize].role == Role::Replacement {
                        return self.answer_replace(s, ev);
                    }
                }
            }
        }
        let slot = self
            .index
            .get(ev.id.0)
            .or_else(|| self.index.get(ev.request.0))
            .ok_or(Anomaly::UnknownOrder)?;
        if self.slots[slot as usize].role == Role::Replacement {
            // Fills or acks for a replacement the venue has not confirmed.
            return Err(Anomaly::OutOfOrder);
        }
        let o = self.slots[slot as usize];
        if o.state == OrdState::PendingReplace
            && matches!(ev.kind, ExecKind::Replaced | ExecKind::CancelRejected)
        {
            // The answer to our replace, naming the original order only.
            if let Some(r) = self.index.get(o.link.0) {
                return self.answer_replace(r, ev);
            }
        }
        let event = OrdEvent::of(ev.kind);
        let illegal = Anomaly::IllegalTransition { state: o.state, event };
        if step(o.state, event) == Step::Illegal {
            return Err(illegal);
        }
        let mut kind = ev.kind;
        let mut cum = o.cum;
        match event {
            OrdEvent::Ack if o.acked => return Err(Anomaly::OutOfOrder),
            OrdEvent::PartialFill | OrdEvent::Fill => {
                if !ev.last_qty.is_positive() {
                    return Err(Anomaly::OutOfOrder);
                }
                let new_cum =
                    o.cum.raw().checked_add(ev.last_qty.raw()).ok_or(Anomaly::Overfill)?;
                if new_cum > o.qty.raw() {
                    return Err(Anomaly::Overfill);
                }
                if ev.cum_qty.raw() != new_cum {
                    return Err(Anomaly::OutOfOrder);
                }
                cum = Qty::from_raw(new_cum);
                // The quantities decide full or partial, whatever the venue called it.
                kind = if new_cum == o.qty.raw() { ExecKind::Fill } else { ExecKind::PartialFill };
            }
            OrdEvent::CancelRejected if o.state.is_terminal() && !o.late_refusal => {
                return Err(illegal);
            }
            _ => {}
        }
        let event = OrdEvent::of(kind);
        let next = match step(o.state, event) {
            Step::To(s) => s,
            Step::Stay => o.state,
            Step::Resume => o.resume,
            Step::Illegal => return Err(Anomaly::IllegalTransition { state: o.state, event }),
        };
        let o = &mut self.slots[slot as usize];
        let was_pending = o.state.is_pending();
        o.cum = cum;
        if ev.venue_order_id != 0 {
            o.venue_order_id = ev.venue_order_id;
        }
        if event == OrdEvent::Ack {
            o.acked = true;
        }
        if o.state.is_terminal() {
            // The late refusal of a request that lost its race: nothing changes.
            o.late_refusal = false;
            let r = refusal_report(o, ev.ts);
            self.drop_request_alias(slot);
            return Ok(r);
        }
        if next == o.state {
            // Stay: remember what a refusal of the pending request goes back to.
            if o.state == OrdState::PendingCancel || o.state == OrdState::PendingReplace {
                match event {
                    OrdEvent::Ack => o.resume = OrdState::New,
                    OrdEvent::PartialFill => o.resume = OrdState::PartiallyFilled,
                    _ => {}
                }
            }
        }
        // A request is still outstanding if the event that finishes the order is not its
        // answer (a fill beat our cancel): the venue will refuse it, and that is legal.
        let request_outstanding = match (o.state, event) {
            (OrdState::PendingCancel, OrdEvent::Cancelled) => false,
            (OrdState::PendingCancel | OrdState::PendingReplace, _) => true,
            _ => false,
        };
        o.state = next;
        let mut r = if event == OrdEvent::CancelRejected {
            refusal_report(o, ev.ts)
        } else {
            order_report(o, kind, ev.ts)
        };
        if kind.is_fill() {
            r.last_px = ev.last_px;
            r.last_qty = ev.last_qty;
            r.fee = ev.fee;
        }
        if event == OrdEvent::CancelRejected {
            // Resume: the request is over.
            self.drop_request_alias(slot);
            let o = &mut self.slots[slot as usize];
            o.link = ClientOrderId(0);
        }
        let now_pending = self.slots[slot as usize].state.is_pending();
        if was_pending && !now_pending {
            self.pending = self.pending.saturating_sub(1);
        }
        if next.is_terminal() {
            let o = &mut self.slots[slot as usize];
            o.late_refusal = request_outstanding;
            if !request_outstanding {
                self.drop_request_alias(slot);
            }
            self.finished.push_back(slot);
        }
        Ok(r)
    }

    /// The venue answered a replace: `Replaced` confirms it, `CancelRejected` or `Rejected`
    /// refuses it.
    fn answer_replace(&mut self, rslot: u32, ev: &VenueEvent) -> Result<ExecReport, Anomaly> {
        let rep = self.slots[rslot as usize];
        let Some(oslot) = self.index.get(rep.link.0) else {
            return Err(Anomaly::UnknownOrder);
        };
        let o = self.slots[oslot as usize];
        let event = if ev.kind == ExecKind::Replaced {
            OrdEvent::Replaced
        } else {
            OrdEvent::CancelRejected
        };
        let next = match step(o.state, event) {
            Step::To(s) => s,
            Step::Resume => o.resume,
            Step::Stay if o.late_refusal => o.state,
            _ => return Err(Anomaly::IllegalTransition { state: o.state, event }),
        };
        let was_pending = o.state.is_pending();
        let cancel_after = o.cancel_after;
        if event == OrdEvent::Replaced {
            // The original is finished; the replacement takes over, fills carried.
            {
                let old = &mut self.slots[oslot as usize];
                old.state = next;
                old.link = ClientOrderId(0);
                old.cancel_after = false;
            }
            self.finished.push_back(oslot);
            let n = &mut self.slots[rslot as usize];
            n.role = Role::Order;
            n.link = ClientOrderId(0);
            n.cum = o.cum;
            if ev.venue_order_id != 0 {
                n.venue_order_id = ev.venue_order_id;
            }
            n.state = if n.cum.is_positive() { OrdState::PartiallyFilled } else { OrdState::New };
            self.pending = self.pending.saturating_sub(1);
            let r = order_report(n, ExecKind::Replaced, ev.ts);
            if cancel_after {
                self.defer_cancel(r.client_id);
            }
            return Ok(r);
        }
        // Refused: the replacement never existed.
        self.index.remove(rep.id.0);
        self.slots[rslot as usize] = TrackedOrder::EMPTY;
        self.free.push(rslot);
        let old = &mut self.slots[oslot as usize];
        old.state = next;
        old.link = ClientOrderId(0);
        old.late_refusal = false;
        old.cancel_after = false;
        if was_pending && !old.state.is_pending() {
            self.pending = self.pending.saturating_sub(1);
        }
        let r =
            ExecReport { client_id: rep.id, ..order_report(old, ExecKind::CancelRejected, ev.ts) };
        if cancel_after && !old.state.is_terminal() {
            let id = old.id;
            self.defer_cancel(id);
        }
        Ok(r)
    }

    // --- storage ------------------------------------------------------------------------

    /// The slot of order `id` (not of a request alias, not of a pending replacement).
    fn order_slot(&self, id: ClientOrderId) -> Option<u32> {
        let s = self.index.get(id.0)?;
        let o = &self.slots[s as usize];
        (o.id == id && o.role == Role::Order).then_some(s)
    }

    fn alloc(&mut self) -> Option<u32> {
        if let Some(s) = self.free.pop() {
            return Some(s);
        }
        // Evict the oldest finished order whose id no longer matters.
        while let Some(s) = self.finished.pop_front() {
            let o = self.slots[s as usize];
            if !o.used || !o.state.is_terminal() || o.role != Role::Order {
                continue;
            }
            self.index.remove(o.id.0);
            if o.request.0 != 0 {
                self.index.remove(o.request.0);
            }
            self.slots[s as usize] = TrackedOrder::EMPTY;
            return Some(s);
        }
        None
    }

    fn drop_request_alias(&mut self, slot: u32) {
        let o = &mut self.slots[slot as usize];
        if o.request.0 != 0 {
            let req = o.request;
            o.request = ClientOrderId(0);
            self.index.remove(req.0);
        }
    }

    fn defer_cancel(&mut self, id: ClientOrderId) {
        if self.n_deferred < DEFERRED {
            self.deferred[self.n_deferred] = id;
            self.n_deferred += 1;
        }
    }

    #[cold]
    fn count_refusal(&self, why: Refusal) {
        let s = &self.stats;
        s.refused_requests.inc();
        match why {
            Refusal::DuplicateId => s.duplicate_ids.inc(),
            Refusal::TableFull => s.table_full.inc(),
            Refusal::IllegalTransition(_) => s.illegal_requests.inc(),
            Refusal::UnknownTarget | Refusal::BadReplace => {}
        }
    }

    #[cold]
    fn count_anomaly(&self, a: Anomaly, ev: &VenueEvent) {
        let s = &self.stats;
        let c = match a {
            Anomaly::UnknownOrder => &s.unknown_orders,
            Anomaly::IllegalTransition { .. } => &s.illegal_transitions,
            Anomaly::Overfill => &s.overfills,
            Anomaly::OutOfOrder => &s.out_of_order,
        };
        c.inc();
        let n = s.anomalies();
        if n <= LOG_FIRST || n % 1000 == 0 {
            tracing::warn!(
                anomaly = ?a,
                kind = ?ev.kind,
                client_id = ev.id.0,
                request = ev.request.0,
                cum_qty = ev.cum_qty.raw(),
                last_qty = ev.last_qty.raw(),
                total = n,
                "venue report refused, not forwarded"
            );
        }
    }
}

/// A report about a tracked order, with no fill.
fn order_report(o: &TrackedOrder, kind: ExecKind, ts: Nanos) -> ExecReport {
    ExecReport {
        ts,
        client_id: o.id,
        venue_order_id: o.venue_order_id,
        last_px: Px::ZERO,
        last_qty: Qty::ZERO,
        cum_qty: o.cum,
        leaves_qty: o.leaves(),
        fee: 0,
        instrument: o.instrument,
        strategy: o.strategy,
        kind,
        side: o.side,
    }
}

/// The `CancelRejected` for the request pending on `o`: named by the request's id unless the
/// gateway made the request itself.
fn refusal_report(o: &TrackedOrder, ts: Nanos) -> ExecReport {
    let id =
        if o.request.0 != 0 && !GatewayIds::is_gateway_id(o.request) { o.request } else { o.id };
    ExecReport { client_id: id, ..order_report(o, ExecKind::CancelRejected, ts) }
}
