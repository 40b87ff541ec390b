//! The risk stage: every order passes here or nowhere.
//!
//! [`RiskStage::check_with`] runs every pre-trade control in a fixed order and returns the
//! first reason to refuse, or an approval. Nothing passes by default: an unknown instrument,
//! a missing reference price or a limit that is not configured is a reject. The checks read
//! only state this thread owns (market view, open orders, positions, token buckets); an
//! approval then commits what it uses (tokens, the order's reservation). Time is the intent's
//! decision time, so a check reads no clock until it has passed. The hot path splits the two
//! ([`RiskStage::approve_with`], then [`RiskStage::commit`]) and hands the order to the venue
//! between them, so the commit's bookkeeping is not on the tick-to-order path.
//!
//! Order of checks (the first failure is the reason): cancel-all passes; instrument known;
//! cancels pass if they name an open order; halt (or the risk limit that tripped it); venue
//! session up; replace target; client id unused; quantity and price sane and on grid; limits
//! configured; market data reasonable, referenced and fresh; order quantity; order notional;
//! price collar; position (worst case); gross exposure (worst case); open orders per
//! instrument and in total; duplicate; self-trade; order and message token buckets, per
//! instrument then global.

use std::sync::Arc;

use super::limits::notional_scale;
use super::orders::{Found, OpenOrders};
use super::{
    CancelOnDisconnect, HaltCause, HaltSwitch, RejectReason, RiskApproved, RiskLimits, RiskSeed,
    RiskTelemetry, MAX_OPEN_ORDERS,
};
use crate::position::{Position, PositionBook};
use crate::types::{
    Action, ClientOrderId, ExecKind, ExecReport, InstrumentId, InstrumentRegistry, Nanos, OrdType,
    Order, OrderIntent, Px, Qty, Side, Tick, TickFlags, TickKind,
};

use super::bucket::{TokenBucket, UNIT};
use super::grid::Grid;

/// A refused intent, as recorded in the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct RiskReject {
    /// The intent as the strategy sent it.
    pub intent: OrderIntent,
    /// When risk refused it.
    pub ts: Nanos,
    /// Why.
    pub reason: RejectReason,
    /// Reserved, zero.
    pub reserved: [u8; 7],
}

const _: () = assert!(std::mem::size_of::<RiskReject>() == 80);

/// What the pipeline builds its risk stage from.
#[derive(Clone, Debug)]
pub struct RiskSetup {
    /// The limits (from `[risk]`, see [`super::RiskConfig`]).
    pub limits: RiskLimits,
    /// The hook the gateway calls when its venue session drops.
    pub disconnect: Arc<CancelOnDisconnect>,
    /// Positions and open orders to start from (an earlier session's); flat by default.
    pub seed: RiskSeed,
}

impl RiskSetup {
    /// `limits` with a fresh, connected cancel-on-disconnect hook, starting flat.
    pub fn new(limits: RiskLimits) -> RiskSetup {
        RiskSetup {
            limits,
            disconnect: Arc::new(CancelOnDisconnect::new()),
            seed: RiskSeed::default(),
        }
    }

    /// Starts from `seed` instead of flat.
    pub fn with_seed(mut self, seed: RiskSeed) -> RiskSetup {
        self.seed = seed;
        self
    }
}

const ONE: Grid = match Grid::new(1) {
    Some(g) => g,
    None => panic!("1 is a positive step"),
};

/// Entries of the open-order table (and cells of its published copy): open orders plus
/// replacements and cancels in flight.
const ORDER_SLOTS: usize = 2 * MAX_OPEN_ORDERS as usize;

/// Approved new orders remembered per instrument for duplicate detection.
const DUP_SLOTS: usize = 8;
/// Nanoseconds in a day: the daily loss limit's period (UTC days).
const DAY_NS: i64 = 86_400_000_000_000;

/// A recent order's fingerprint: equal orders have equal fingerprints; unequal ones rarely do
/// (then the exact fields decide).
/// 64 bits, compared one word at a time: a vector load over the word the last approval just
/// stored would stall on store forwarding.
#[inline(always)]
fn fingerprint(price: i64, qty: i64, strategy: u16, side: i64) -> u64 {
    (price as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (qty as u64).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
        ^ (u64::from(strategy) << 2 | (side as u64 & 3))
}

/// What an approval takes: the target's slot, the exposure term with the order, and the
/// four bucket levels read (instrument order, global order, instrument message, global
/// message).
#[derive(Clone, Copy, Debug, Default)]
struct Plan {
    target: Option<u32>,
    term: i128,
    levels: [u64; 4],
}

#[derive(Clone, Copy, Debug, Default)]
struct Recent {
    ts: i64,
    price: i64,
    qty: i64,
    strategy: u16,
    /// `Side::sign`, 0 for an empty slot.
    side: i64,
}

/// Hot per-instrument state: market view, limits in fixed point, buckets, recent orders.
#[derive(Clone, Debug)]
struct Inst {
    reference: Px,
    flags: TickFlags,
    last_quote: i64,
    tick: Grid,
    lot: Grid,
    ready: bool,
    max_qty: i64,
    max_notional: i128,
    collar_bps: i128,
    max_pos: i64,
    max_open: u32,
    order_bucket: TokenBucket,
    msg_bucket: TokenBucket,
    /// `10^(money_scale − notional_scale)`.
    factor: u128,
    /// Largest `quantity × price` that `factor` can scale without overflowing an `i128`.
    factor_room: u128,
    /// This instrument's term of the gross exposure, money scale.
    exposure: i128,
    recent_fp: [u64; DUP_SLOTS],
    recent: [Recent; DUP_SLOTS],
    recent_next: usize,
}

#[derive(Clone, Debug, Default)]
struct Global {
    ready: bool,
    max_open: u32,
    max_gross: i128,
    order_bucket: TokenBucket,
    msg_bucket: TokenBucket,
    exec_bucket: TokenBucket,
    exec_throttle: bool,
    daily_loss: i128,
    max_drawdown: i128,
    dup_window: i64,
    max_age: i64,
    gross: i128,
    peak: i128,
    day_start: i128,
    next_day: i64,
}

/// The pre-trade risk stage. Owned by the strategy thread.
#[derive(Debug)]
pub struct RiskStage {
    registry: Arc<InstrumentRegistry>,
    halt: Arc<HaltSwitch>,
    link: Arc<CancelOnDisconnect>,
    limits: RiskLimits,
    inst: Vec<Inst>,
    global: Global,
    orders: OpenOrders,
    positions: PositionBook,
    telemetry: Arc<RiskTelemetry>,
    tripped: Option<RejectReason>,
    cancel_all: bool,
    seen_disconnects: u64,
    /// An [`Approval`] is out and not committed yet.
    uncommitted: bool,
    /// The instrument whose exposure term still uses its previous reference price: a tick
    /// moved it, and its refresh waits for [`RiskStage::settle`] (see there).
    stale_exposure: Option<usize>,
}

/// An intent that passed every check, stamped with its approval time, whose reservations
/// are not taken yet: see [`RiskStage::approve_with`]. Give it to [`RiskStage::commit`].
#[must_use = "an approval must be committed before the next check"]
#[derive(Debug)]
pub struct Approval {
    order: RiskApproved<Order>,
    plan: Plan,
}

impl Approval {
    /// The approved order, to hand to the venue before the commit.
    #[inline]
    pub fn order(&self) -> RiskApproved<Order> {
        self.order
    }
}

impl RiskStage {
    /// A risk stage with no limit configured: it approves cancels and nothing else.
    pub fn new(registry: Arc<InstrumentRegistry>, halt: Arc<HaltSwitch>) -> RiskStage {
        let limits = RiskLimits::unconfigured(&registry);
        RiskStage::with_setup(registry, halt, RiskSetup::new(limits))
    }

    /// A risk stage enforcing `setup`'s limits.
    pub fn with_setup(
        registry: Arc<InstrumentRegistry>,
        halt: Arc<HaltSwitch>,
        setup: RiskSetup,
    ) -> RiskStage {
        let positions = PositionBook::new(&registry);
        let money = positions.money_scale();
        let inst = registry
            .iter()
            .map(|i| Inst {
                reference: Px::ZERO,
                flags: TickFlags::default(),
                last_quote: i64::MIN,
                // The registry refuses non-positive steps.
                tick: Grid::new(i.tick_size.raw()).unwrap_or(ONE),
                lot: Grid::new(i.lot_size.raw()).unwrap_or(ONE),
                ready: false,
                max_qty: 0,
                max_notional: 0,
                collar_bps: 0,
                max_pos: 0,
                max_open: 0,
                order_bucket: TokenBucket::default(),
                msg_bucket: TokenBucket::default(),
                factor: 10u128.pow(money - notional_scale(i)),
                factor_room: i128::MAX as u128 / 10u128.pow(money - notional_scale(i)),
                exposure: 0,
                recent_fp: [0; DUP_SLOTS],
                recent: [Recent::default(); DUP_SLOTS],
                recent_next: 0,
            })
            .collect();
        let telemetry =
            Arc::new(RiskTelemetry::new(Arc::clone(positions.telemetry()), ORDER_SLOTS));
        let mut stage = RiskStage {
            orders: OpenOrders::new(registry.len(), ORDER_SLOTS),
            limits: RiskLimits::unconfigured(&registry),
            registry,
            halt,
            link: setup.disconnect,
            inst,
            global: Global::default(),
            positions,
            telemetry,
            tripped: None,
            cancel_all: false,
            seen_disconnects: 0,
            uncommitted: false,
            stale_exposure: None,
        };
        stage.apply_limits(setup.limits);
        stage.seen_disconnects = stage.link.disconnects();
        stage.apply_seed(&setup.seed);
        stage
    }

    /// Takes over an earlier session's positions and open orders (cold, before the first
    /// event). The drawdown limit measures from the restored net PnL, and the daily loss
    /// from the net PnL at the first reference price, as for any start.
    fn apply_seed(&mut self, seed: &RiskSeed) {
        if seed.is_empty() {
            return;
        }
        for (id, p) in &seed.positions {
            self.positions.restore(*id, *p);
        }
        let mut refused = 0usize;
        for o in &seed.open_orders {
            let fits = o.instrument.index() < self.inst.len()
                && o.id.0 != 0
                && o.id != ClientOrderId::ALL
                && self.orders.find(o.id.0).is_none();
            let slot = if fits {
                self.orders.insert(
                    o.id.0,
                    o.instrument.index(),
                    o.side,
                    o.price.raw(),
                    o.leaves.raw(),
                    0,
                )
            } else {
                None
            };
            match slot {
                Some(slot) => self.telemetry.orders.open(
                    slot,
                    o.id.0,
                    o.strategy,
                    o.instrument,
                    o.side,
                    o.price,
                    o.qty,
                    o.cum,
                    Nanos::ZERO,
                    true,
                    true,
                ),
                None => refused += 1,
            }
        }
        if refused > 0 {
            tracing::warn!(
                refused,
                "restored open orders the risk stage could not track (unknown instrument, duplicate id or table full)"
            );
        }
        self.telemetry.open_orders.set(u64::from(self.orders.total_open()));
        self.global.peak = self.positions.total_pnl();
        self.positions.telemetry().publish_peak(self.global.peak);
    }

    /// Counters for the sidecar.
    pub fn telemetry(&self) -> Arc<RiskTelemetry> {
        Arc::clone(&self.telemetry)
    }

    /// The instruments it checks against.
    pub fn registry(&self) -> &InstrumentRegistry {
        &self.registry
    }

    /// The limits in force.
    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    /// The cancel-on-disconnect hook (clone it for the gateway).
    pub fn disconnect_hook(&self) -> &Arc<CancelOnDisconnect> {
        &self.link
    }

    /// Positions and PnL.
    pub fn positions(&self) -> &PositionBook {
        &self.positions
    }

    /// An instrument's position.
    pub fn position(&self, id: InstrumentId) -> Option<&Position> {
        self.positions.get(id)
    }

    /// An instrument's open orders: (live count, reserved buy quantity, reserved sell
    /// quantity), raw.
    pub fn open_orders(&self, id: InstrumentId) -> (u32, i64, i64) {
        let b = self.orders.book(id.index());
        (b.open, b.reserved[0], b.reserved[1])
    }

    /// Gross worst-case exposure, raw at the money scale (at every instrument's latest
    /// reference price, settled or not).
    pub fn gross_exposure(&self) -> i128 {
        match self.stale_exposure {
            Some(idx) => self.gross_with(idx, self.held_term(idx)),
            None => self.global.gross,
        }
    }

    /// Brings the gross exposure up to the last tick's reference price.
    ///
    /// A tick that moves an instrument's reference changes its exposure term. The only check
    /// that reads the gross is an order's, and for an order on the ticked instrument it
    /// recomputes that term at the new price and takes out the old one from the gross, so
    /// the refresh is not needed before the tick's own orders: [`RiskStage::on_tick`] leaves
    /// it to this call, which the hot thread makes once the tick's orders are handed off.
    /// Every other entry point (an order on another instrument, an execution report, a
    /// limit change, the next tick) settles first, so nothing reads a stale gross.
    #[inline]
    pub fn settle(&mut self) {
        if let Some(idx) = self.stale_exposure.take() {
            self.refresh_exposure(idx);
        }
    }

    /// The risk limit that halted trading, while it is halted.
    pub fn tripped(&self) -> Option<RejectReason> {
        self.tripped
    }

    /// Whether risk wants every open order cancelled (an automatic halt, the kill switch, a
    /// venue disconnect); reading it clears it. The runtime then sends a cancel-all.
    #[inline]
    pub fn take_cancel_all(&mut self) -> bool {
        std::mem::take(&mut self.cancel_all)
    }

    /// Market data: reference prices, reasonability flags and quote times per instrument;
    /// marks positions and re-evaluates the loss limits.
    #[inline]
    pub fn on_tick(&mut self, tick: &Tick) {
        self.settle();
        let idx = tick.instrument().index();
        let Some(s) = self.inst.get_mut(idx) else { return };
        let reference = match tick.kind() {
            TickKind::Quote => {
                let mut flags = tick.flags();
                if let (Some(b), Some(a)) = (tick.bid(), tick.ask()) {
                    if b.px.is_positive() && a.px.is_positive() && b.px >= a.px {
                        flags = flags.union(TickFlags::CROSSED);
                    }
                }
                s.flags = flags;
                s.last_quote = tick.recv_ns().0;
                tick.mid()
            }
            TickKind::Trade => {
                // A trade says nothing about the book: keep its crossed state.
                s.flags = TickFlags(s.flags.0 & TickFlags::CROSSED.0).union(tick.flags());
                tick.last_trade().map(|(l, _)| l.px)
            }
        };
        if let Some(px) = reference.filter(|p| p.is_positive() && *p != s.reference) {
            s.reference = px;
            self.positions.mark(tick.instrument(), px);
            self.stale_exposure = Some(idx);
            self.after_pnl(tick.recv_ns().0);
        }
        let d = self.link.disconnects();
        if d != self.seen_disconnects {
            self.seen_disconnects = d;
            self.cancel_all = true;
        }
    }

    /// An execution report: positions, open orders, the execution throttle, loss limits.
    #[inline]
    pub fn on_exec(&mut self, report: &ExecReport) {
        self.settle();
        let fill = report.kind.is_fill();
        if fill {
            if self.positions.on_exec(report).is_err() {
                self.telemetry.position_errors.inc();
            }
            if self.global.exec_throttle
                && !self.global.exec_bucket.take(report.ts.0)
                && self.tripped.is_none()
            {
                self.trip(RejectReason::ExecutionThrottle);
            }
        }
        let board = &self.telemetry.orders;
        match self.orders.find(report.client_id.0) {
            Some(Found::Order(slot)) => {
                let e = *self.orders.entry(slot);
                match report.kind {
                    ExecKind::New => board.ack(slot),
                    ExecKind::PartialFill => {
                        self.orders.fill(slot, report.last_qty.raw());
                        let cum = if report.cum_qty.is_positive() {
                            report.cum_qty
                        } else {
                            let before = board.filled_of(slot).raw();
                            Qty::from_raw(before.saturating_add(report.last_qty.raw()))
                        };
                        board.filled(slot, cum);
                    }
                    ExecKind::Fill
                    | ExecKind::Cancelled
                    | ExecKind::Expired
                    | ExecKind::Rejected => {
                        self.orders.remove(slot);
                        board.close(slot);
                    }
                    ExecKind::Replaced => {
                        if let Some(Found::Order(old)) = self.orders.find(e.replaces) {
                            self.orders.remove(old);
                            board.close(old);
                        }
                        self.orders.promote(slot);
                        board.promote(slot);
                    }
                    // A refused replace: the original lives on, the replacement never will.
                    ExecKind::CancelRejected if e.replaces != 0 => {
                        self.orders.remove(slot);
                        board.close(slot);
                    }
                    ExecKind::CancelRejected => {}
                }
            }
            Some(Found::CancelOf(slot)) => match report.kind {
                ExecKind::Cancelled => {
                    self.orders.remove(slot);
                    board.close(slot);
                }
                ExecKind::CancelRejected | ExecKind::Rejected => {
                    self.orders.clear_cancel(slot);
                    board.cancel_pending(slot, false);
                }
                _ => {}
            },
            None => self.telemetry.unknown_reports.inc(),
        }
        self.telemetry.open_orders.set(u64::from(self.orders.total_open()));
        if report.instrument.index() < self.inst.len() {
            self.refresh_exposure(report.instrument.index());
        }
        if fill {
            self.after_pnl(report.ts.0);
        }
    }

    /// Approves or rejects `intent` at time `now`.
    #[inline]
    pub fn check(
        &mut self,
        intent: &OrderIntent,
        now: Nanos,
    ) -> Result<RiskApproved<Order>, RejectReason> {
        self.check_with(intent, || now)
    }

    /// As [`RiskStage::check`], reading the approval time from `clock` only once the order has
    /// passed, so the same clock read can stamp the approval and its hand-off to the venue.
    #[inline]
    pub fn check_with(
        &mut self,
        intent: &OrderIntent,
        clock: impl FnOnce() -> Nanos,
    ) -> Result<RiskApproved<Order>, RejectReason> {
        let approval = self.approve_with(intent, clock)?;
        let order = approval.order();
        self.commit(approval);
        Ok(order)
    }

    /// The first half of [`RiskStage::check_with`]: every check, then the approval stamp read
    /// from `clock`. What the order uses (tokens, its open-order entry and reservation, its
    /// exposure, the duplicate window) is taken by [`RiskStage::commit`], which must come
    /// before the next intent is approved; in between, the caller hands the order to the
    /// venue, so that bookkeeping is not on the tick-to-order path.
    ///
    /// # Panics
    ///
    /// If the previous approval was not committed.
    #[inline]
    pub fn approve_with(
        &mut self,
        intent: &OrderIntent,
        clock: impl FnOnce() -> Nanos,
    ) -> Result<Approval, RejectReason> {
        assert!(!self.uncommitted, "risk: an approval was not committed before the next check");
        if self.stale_exposure.is_some_and(|i| i != intent.instrument.index()) {
            self.settle();
        }
        if self.tripped.is_some() && !self.halt.is_halted() {
            self.on_resumed();
        }
        match self.evaluate(intent) {
            Ok(plan) => {
                let approved_ns = clock();
                self.uncommitted = true;
                let order = RiskApproved::new(Order { intent: *intent, approved_ns });
                Ok(Approval { order, plan })
            }
            Err(reason) => {
                self.telemetry.rejects[reason.index()].inc();
                Err(reason)
            }
        }
    }

    /// The second half of [`RiskStage::check_with`]: takes what an approved order uses.
    #[inline]
    pub fn commit(&mut self, approval: Approval) {
        let Approval { order, plan } = approval;
        let Order { intent, approved_ns } = *order.get();
        self.uncommitted = false;
        let taken = self.commit_plan(&intent, plan);
        self.telemetry.approved.inc();
        if let Some(slot) = taken {
            let live = self.orders.entry(slot).live;
            self.telemetry.orders.open(
                slot,
                intent.client_id.0,
                intent.strategy,
                intent.instrument,
                intent.side,
                intent.price,
                intent.qty,
                Qty::ZERO,
                approved_ns,
                live,
                false,
            );
        }
    }

    /// Sets a limit by name (operator control, config reload); see [`RiskLimits::set`] for the
    /// names. `kill_switch` (any value) halts trading and cancels every open order. Returns
    /// what changed, or why the value was refused; a refused value leaves every limit as it
    /// was.
    pub fn set_limit(
        &mut self,
        name: &str,
        instrument: Option<InstrumentId>,
        value: rust_decimal::Decimal,
    ) -> Result<String, String> {
        self.settle();
        if name == "kill_switch" {
            self.halt.trip(HaltCause::Operator);
            self.cancel_all = true;
            return Ok("kill switch: trading halted, cancel-all sent".into());
        }
        let mut next = self.limits.clone();
        let note = next.set(&self.registry, name, instrument, value)?;
        self.apply_limits(next);
        Ok(note)
    }

    /// Rebuilds the hot copies of the limits; buckets keep their tokens (a bucket configured
    /// for the first time starts full).
    fn apply_limits(&mut self, limits: RiskLimits) {
        fn bucket(b: &mut TokenBucket, before: Option<super::Rate>, now: Option<super::Rate>) {
            match (before, now) {
                (None, Some(r)) => *b = TokenBucket::new(r),
                (Some(_), Some(r)) => b.set(r),
                (_, None) => *b = TokenBucket::default(),
            }
        }
        for (i, s) in self.inst.iter_mut().enumerate() {
            let (old, l) = (self.limits.instruments.get(i).copied(), limits.instruments[i]);
            s.ready = l.complete();
            s.max_qty = l.max_order_qty.map_or(0, |q| q.raw());
            s.max_notional = l.max_order_notional.unwrap_or(0);
            s.collar_bps = l.price_collar_bps.map_or(0, i128::from);
            s.max_pos = l.max_position.map_or(0, |q| q.raw());
            s.max_open = l.max_open_orders.unwrap_or(0);
            bucket(&mut s.order_bucket, old.and_then(|o| o.order_rate), l.order_rate);
            bucket(&mut s.msg_bucket, old.and_then(|o| o.message_rate), l.message_rate);
        }
        let g = &mut self.global;
        g.ready = limits.global_complete();
        g.max_open = limits.max_open_orders.unwrap_or(0);
        g.max_gross = limits.max_gross_notional.unwrap_or(0);
        g.daily_loss = limits.daily_loss_limit.unwrap_or(i128::MAX);
        g.max_drawdown = limits.max_drawdown.unwrap_or(i128::MAX);
        g.dup_window = limits.duplicate_window_ns.unwrap_or(0);
        g.max_age = limits.max_quote_age_ns.unwrap_or(0);
        g.exec_throttle = limits.execution_throttle.is_some();
        bucket(&mut g.order_bucket, self.limits.order_rate, limits.order_rate);
        bucket(&mut g.msg_bucket, self.limits.message_rate, limits.message_rate);
        bucket(&mut g.exec_bucket, self.limits.execution_throttle, limits.execution_throttle);
        self.limits = limits;
    }

    #[cold]
    fn trip(&mut self, reason: RejectReason) {
        self.tripped = Some(reason);
        self.halt.trip(HaltCause::RiskLimit);
        self.cancel_all = true;
        self.telemetry.auto_halts.inc();
    }

    /// An operator resumed after an automatic halt: the execution throttle refills and the
    /// drawdown is measured from here. (A daily loss still beyond its limit trips again.)
    #[cold]
    fn on_resumed(&mut self) {
        self.tripped = None;
        self.global.exec_bucket.fill();
        self.global.peak = self.positions.total_pnl();
        self.positions.telemetry().publish_peak(self.global.peak);
    }

    /// Loss and drawdown after PnL moved at time `ts`.
    #[inline]
    fn after_pnl(&mut self, ts: i64) {
        let total = self.positions.total_pnl();
        let g = &mut self.global;
        if ts >= g.next_day {
            g.day_start = total;
            g.next_day = (ts.div_euclid(DAY_NS) + 1).saturating_mul(DAY_NS);
        }
        if total > g.peak {
            g.peak = total;
            self.positions.telemetry().publish_peak(total);
        }
        if self.tripped.is_some() {
            if self.halt.is_halted() {
                return;
            }
            self.on_resumed();
        }
        let g = &self.global;
        if g.day_start.saturating_sub(total) > g.daily_loss {
            self.trip(RejectReason::DailyLoss);
        } else if g.peak.saturating_sub(total) > g.max_drawdown {
            self.trip(RejectReason::MaxDrawdown);
        }
    }

    /// An instrument's worst-case exposure with `buy`/`sell` more reserved, money scale.
    #[inline]
    fn exposure(&self, idx: usize, buy: i64, sell: i64) -> Option<i128> {
        let b = self.orders.book_ref(idx)?;
        let pos = self.positions.get(InstrumentId(idx as u32)).map_or(0, |p| p.qty().raw());
        let long = pos.checked_add(b.reserved[0])?.checked_add(buy)?;
        let short = pos.checked_sub(b.reserved[1])?.checked_sub(sell)?;
        Self::worst_value(&self.inst[idx], long, short)
    }

    /// `max(|long|, |short|) × reference × factor`, or `None` past an `i128`.
    #[inline(always)]
    fn worst_value(s: &Inst, long: i64, short: i64) -> Option<i128> {
        let worst = u128::from(long.unsigned_abs().max(short.unsigned_abs()));
        // Two 64-bit factors: the product fits a u128 (one multiply instruction).
        let value = worst * u128::from(s.reference.raw().unsigned_abs());
        if value > s.factor_room {
            return None;
        }
        // In range: `value × factor <= i128::MAX`.
        Some((value * s.factor) as i128)
    }

    #[inline]
    fn refresh_exposure(&mut self, idx: usize) {
        self.set_exposure(idx, self.held_term(idx));
    }

    /// An instrument's exposure term for what it holds and has reserved now, at its
    /// reference price (`i128::MAX` past an `i128`).
    #[inline]
    fn held_term(&self, idx: usize) -> i128 {
        self.exposure(idx, 0, 0).unwrap_or(i128::MAX)
    }

    /// The gross with instrument `idx`'s term replaced by `term` (saturating).
    #[inline]
    fn gross_with(&self, idx: usize, term: i128) -> i128 {
        self.global.gross.saturating_sub(self.inst[idx].exposure).saturating_add(term)
    }

    /// Makes `term` instrument `idx`'s exposure term, in the gross and its telemetry.
    #[inline]
    fn set_exposure(&mut self, idx: usize, term: i128) {
        self.global.gross = self.gross_with(idx, term);
        self.inst[idx].exposure = term;
        self.telemetry.set_gross_exposure(self.global.gross);
    }

    /// Every check; on success, the slot of a cancel's or replace's target and, for a new
    /// order or replace, the instrument's gross-exposure term with it.
    #[inline]
    fn evaluate(&self, intent: &OrderIntent) -> Result<Plan, RejectReason> {
        if intent.action == Action::Cancel && intent.target == ClientOrderId::ALL {
            // Cancel-all reduces risk on every instrument: always allowed.
            return Ok(Plan::default());
        }
        let idx = intent.instrument.index();
        let Some(s) = self.inst.get(idx) else {
            return Err(RejectReason::UnknownInstrument);
        };
        if intent.action == Action::Cancel {
            // Cancels reduce risk: allowed while halted, disconnected, throttled.
            return match self.orders.find(intent.target.0) {
                Some(Found::Order(slot)) if self.orders.entry(slot).instrument as usize == idx => {
                    Ok(Plan { target: Some(slot), ..Plan::default() })
                }
                _ => Err(RejectReason::UnknownTarget),
            };
        }
        if self.halt.is_halted() {
            return Err(self.tripped.unwrap_or(RejectReason::Halted));
        }
        if !self.link.is_connected() {
            return Err(RejectReason::VenueDisconnected);
        }
        let target = match intent.action {
            Action::Replace => match self.orders.find(intent.target.0) {
                Some(Found::Order(slot)) => {
                    let e = self.orders.entry(slot);
                    if e.instrument as usize != idx || e.side != intent.side {
                        return Err(RejectReason::UnknownTarget);
                    }
                    Some(slot)
                }
                _ => return Err(RejectReason::UnknownTarget),
            },
            _ => None,
        };
        if intent.client_id.0 == 0 || self.orders.find(intent.client_id.0).is_some() {
            return Err(RejectReason::DuplicateOrder);
        }
        let q = intent.qty.raw();
        if q <= 0 {
            return Err(RejectReason::BadQuantity);
        }
        if !s.lot.fits(q) {
            return Err(RejectReason::OffLotGrid);
        }
        let p = intent.price.raw();
        if p <= 0 {
            return Err(RejectReason::BadPrice);
        }
        if intent.ord_type == OrdType::Limit && !s.tick.fits(p) {
            return Err(RejectReason::OffTickGrid);
        }
        let g = &self.global;
        if !s.ready || !g.ready {
            return Err(RejectReason::LimitNotConfigured);
        }
        if s.flags.intersects(TickFlags::UNREASONABLE) {
            return Err(RejectReason::MarketDataUnreasonable);
        }
        let r = s.reference.raw();
        if r <= 0 {
            return Err(RejectReason::NoReferencePrice);
        }
        let now = intent.decided_ns.0;
        if g.max_age > 0 && now.saturating_sub(s.last_quote) > g.max_age {
            return Err(RejectReason::MarketDataStale);
        }
        if q > s.max_qty {
            return Err(RejectReason::MaxOrderQty);
        }
        // Both factors are positive i64s: the product fits an i128.
        if i128::from(p) * i128::from(q) > s.max_notional {
            return Err(RejectReason::MaxOrderNotional);
        }
        if i128::from(p.abs_diff(r)) * 10_000 > s.collar_bps * i128::from(r) {
            return Err(RejectReason::PriceCollar);
        }
        let Some(b) = self.orders.book_ref(idx) else {
            return Err(RejectReason::UnknownInstrument);
        };
        let pos = self.positions.get(intent.instrument).map_or(0, |p| p.qty().raw());
        let (buy, sell) = match intent.side {
            Side::Buy => (q, 0),
            Side::Sell => (0, q),
        };
        let long = pos.checked_add(b.reserved[0]).and_then(|v| v.checked_add(buy));
        let short = pos.checked_sub(b.reserved[1]).and_then(|v| v.checked_sub(sell));
        let (Some(long), Some(short)) = (long, short) else {
            return Err(RejectReason::NotionalOverflow);
        };
        if long > s.max_pos || short < -s.max_pos {
            return Err(RejectReason::PositionLimit);
        }
        let term = Self::worst_value(s, long, short).ok_or(RejectReason::NotionalOverflow)?;
        let gross = g.gross.saturating_sub(s.exposure).checked_add(term);
        match gross {
            None => return Err(RejectReason::NotionalOverflow),
            Some(v) if v > g.max_gross => return Err(RejectReason::GrossNotional),
            Some(_) => {}
        }
        if self.orders.free() == 0 {
            return Err(RejectReason::MaxOpenOrdersTotal);
        }
        if intent.action == Action::New {
            if b.open >= s.max_open {
                return Err(RejectReason::MaxOpenOrdersInstrument);
            }
            if self.orders.total_open() >= g.max_open {
                return Err(RejectReason::MaxOpenOrdersTotal);
            }
            if g.dup_window > 0 {
                let sign = intent.side.sign();
                let fp = fingerprint(p, q, intent.strategy.0, sign);
                let mut hits = 0u32;
                for i in 0..DUP_SLOTS {
                    hits |= u32::from(s.recent_fp[i] == fp) << i;
                }
                while hits != 0 {
                    let d = &s.recent[hits.trailing_zeros() as usize];
                    hits &= hits - 1;
                    if d.side == sign
                        && d.price == p
                        && d.qty == q
                        && d.strategy == intent.strategy.0
                        && now.saturating_sub(d.ts) < g.dup_window
                    {
                        return Err(RejectReason::DuplicateOrder);
                    }
                }
            }
        }
        let crosses = match intent.side {
            Side::Buy => b.best[1] <= p,
            Side::Sell => b.best[0] >= p,
        };
        if crosses {
            return Err(RejectReason::SelfTrade);
        }
        let levels = [
            s.order_bucket.level(now),
            g.order_bucket.level(now),
            s.msg_bucket.level(now),
            g.msg_bucket.level(now),
        ];
        if levels[0] < UNIT {
            return Err(RejectReason::OrderRateInstrument);
        }
        if levels[1] < UNIT {
            return Err(RejectReason::OrderRateGlobal);
        }
        if levels[2] < UNIT {
            return Err(RejectReason::MessageRateInstrument);
        }
        if levels[3] < UNIT {
            return Err(RejectReason::MessageRateGlobal);
        }
        Ok(Plan { target, term, levels })
    }

    /// Takes what an approved intent uses; returns the table slot a new order or replacement
    /// took.
    #[inline]
    fn commit_plan(&mut self, intent: &OrderIntent, plan: Plan) -> Option<u32> {
        let idx = intent.instrument.index();
        let now = intent.decided_ns.0;
        let Plan { target, term, levels } = plan;
        match intent.action {
            Action::Cancel if intent.target == ClientOrderId::ALL => None,
            Action::Cancel => {
                // Cancels count as messages but never wait for a token.
                if let Some(s) = self.inst.get_mut(idx) {
                    s.msg_bucket.take(now);
                }
                self.global.msg_bucket.take(now);
                if let Some(slot) = target {
                    self.orders.set_cancel(slot, intent.client_id.0);
                    let pending = self.orders.entry(slot).cancel_id != 0;
                    self.telemetry.orders.cancel_pending(slot, pending);
                }
                None
            }
            Action::New | Action::Replace => {
                let s = &mut self.inst[idx];
                s.order_bucket.consume(levels[0], now);
                s.msg_bucket.consume(levels[2], now);
                self.global.order_bucket.consume(levels[1], now);
                self.global.msg_bucket.consume(levels[3], now);
                let (p, q) = (intent.price.raw(), intent.qty.raw());
                let replaces = match (intent.action, target) {
                    (Action::Replace, Some(slot)) => self.orders.entry(slot).id,
                    _ => 0,
                };
                if replaces == 0 {
                    let s = &mut self.inst[idx];
                    let (strategy, side) = (intent.strategy.0, intent.side.sign());
                    let at = s.recent_next % DUP_SLOTS;
                    s.recent[at] = Recent { ts: now, price: p, qty: q, strategy, side };
                    s.recent_fp[at] = fingerprint(p, q, strategy, side);
                    s.recent_next = (at + 1) % DUP_SLOTS;
                }
                let slot = self.orders.insert(intent.client_id.0, idx, intent.side, p, q, replaces);
                self.telemetry.open_orders.set(u64::from(self.orders.total_open()));
                // The term the check computed is the exposure with this order reserved.
                self.set_exposure(idx, term);
                slot
            }
        }
    }
}
