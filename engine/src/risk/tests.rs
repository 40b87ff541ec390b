//! One test per check: drive it to its limit, then one past, and assert the reason.

use std::sync::Arc;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::record::RecordBody;
use crate::types::{
    Action, ClientOrderId, ExecKind, ExecReport, InstrumentId, InstrumentRegistry, InstrumentSpec,
    Level, Nanos, OrdType, OrderIntent, Px, Qty, Side, StrategyId, Tick, TickFlags, TimeInForce,
};

const A: InstrumentId = InstrumentId(0);
const B: InstrumentId = InstrumentId(1);
const T0: i64 = 1_000_000_000;

struct H {
    risk: RiskStage,
    halt: Arc<HaltSwitch>,
    next_id: u64,
    now: i64,
}

fn registry() -> Arc<InstrumentRegistry> {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        venue: "v".into(),
        price_scale: 2,
        qty_scale: 0,
        tick_size: "0.05".parse().unwrap(),
        lot_size: "1".parse().unwrap(),
    };
    Arc::new(InstrumentRegistry::build(&[spec("A"), spec("B")]).unwrap())
}

/// Permissive limits edited by `edit`; both instruments quoted 99.95 / 100.05 (mid 100.00).
fn h(edit: impl FnOnce(&mut RiskLimits)) -> H {
    let reg = registry();
    let mut limits = RiskLimits::permissive(&reg);
    edit(&mut limits);
    let halt = Arc::new(HaltSwitch::new());
    let risk = RiskStage::with_setup(reg, Arc::clone(&halt), RiskSetup::new(limits));
    let mut h = H { risk, halt, next_id: 1, now: T0 };
    h.quote(A, 9_995, 10_005);
    h.quote(B, 9_995, 10_005);
    h
}

impl H {
    fn quote(&mut self, i: InstrumentId, bid: i64, ask: i64) {
        self.quote_flags(i, bid, ask, TickFlags::default());
    }

    fn quote_flags(&mut self, i: InstrumentId, bid: i64, ask: i64, flags: TickFlags) {
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
        let t = Tick::quote(i, l(bid), l(ask), 1, Nanos(self.now), Nanos(self.now));
        self.risk.on_tick(&t.with_flags(flags));
    }

    fn intent(&mut self, i: InstrumentId, side: Side, price: i64, qty: i64) -> OrderIntent {
        let id = self.next_id;
        self.next_id += 1;
        OrderIntent {
            decided_ns: Nanos(self.now),
            tick_recv_ns: Nanos(self.now),
            client_id: ClientOrderId(id),
            target: ClientOrderId(0),
            price: Px::from_raw(price),
            qty: Qty::from_raw(qty),
            instrument: i,
            strategy: StrategyId(0),
            action: Action::New,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            reserved: [0; 6],
        }
    }

    fn send(&mut self, intent: OrderIntent) -> Result<ClientOrderId, RejectReason> {
        self.risk.check(&intent, Nanos(self.now)).map(|o| o.get().intent.client_id)
    }

    fn buy(
        &mut self,
        i: InstrumentId,
        price: i64,
        qty: i64,
    ) -> Result<ClientOrderId, RejectReason> {
        let o = self.intent(i, Side::Buy, price, qty);
        self.send(o)
    }

    fn sell(
        &mut self,
        i: InstrumentId,
        price: i64,
        qty: i64,
    ) -> Result<ClientOrderId, RejectReason> {
        let o = self.intent(i, Side::Sell, price, qty);
        self.send(o)
    }

    fn cancel(
        &mut self,
        i: InstrumentId,
        target: ClientOrderId,
    ) -> Result<ClientOrderId, RejectReason> {
        let mut o = self.intent(i, Side::Buy, 0, 0);
        o.action = Action::Cancel;
        o.target = target;
        self.send(o)
    }

    #[allow(clippy::too_many_arguments)]
    fn report(
        &mut self,
        kind: ExecKind,
        id: ClientOrderId,
        i: InstrumentId,
        side: Side,
        px: i64,
        qty: i64,
    ) {
        let r = ExecReport {
            ts: Nanos(self.now),
            client_id: id,
            venue_order_id: 1,
            last_px: Px::from_raw(px),
            last_qty: Qty::from_raw(qty),
            cum_qty: Qty::from_raw(qty),
            leaves_qty: Qty::ZERO,
            fee: 0,
            instrument: i,
            strategy: StrategyId(0),
            kind,
            side,
        };
        self.risk.on_exec(&r);
    }

    /// Buys `qty` at `px` and fills it in full.
    fn filled_buy(&mut self, px: i64, qty: i64) {
        let id = self.buy(A, px, qty).unwrap();
        self.report(ExecKind::Fill, id, A, Side::Buy, px, qty);
    }

    fn rejects(&self, r: RejectReason) -> u64 {
        self.risk.telemetry().rejects_of(r)
    }
}

#[test]
fn max_order_qty() {
    let mut h = h(|l| l.instruments[0].max_order_qty = Some(Qty::from_raw(5)));
    assert!(h.buy(A, 10_000, 5).is_ok());
    assert_eq!(h.buy(A, 10_000, 6), Err(RejectReason::MaxOrderQty));
    assert_eq!(h.rejects(RejectReason::MaxOrderQty), 1);
    assert!(h.buy(B, 10_000, 6).is_ok(), "per instrument");
}

#[test]
fn max_order_notional() {
    let mut h = h(|l| l.instruments[0].max_order_notional = Some(10_000 * 5));
    assert!(h.buy(A, 10_000, 5).is_ok());
    assert_eq!(h.buy(A, 10_000, 6), Err(RejectReason::MaxOrderNotional));
    assert_eq!(h.buy(A, 10_005, 5), Err(RejectReason::MaxOrderNotional));
}

#[test]
fn price_collar_both_sides_of_the_reference() {
    let mut h = h(|l| l.instruments[0].price_collar_bps = Some(100));
    // Reference 100.00: ±1 % is 99.00 ..= 101.00.
    assert!(h.buy(A, 10_100, 1).is_ok());
    assert_eq!(h.buy(A, 10_105, 1), Err(RejectReason::PriceCollar));
    let mut h2 = self::h(|l| l.instruments[0].price_collar_bps = Some(100));
    assert!(h2.sell(A, 9_900, 1).is_ok());
    assert_eq!(h2.sell(A, 9_895, 1), Err(RejectReason::PriceCollar));
    // A trade moves the reference too.
    let l = Level { px: Px::from_raw(10_100), qty: Qty::from_raw(1) };
    let t = Tick::trade(A, l, crate::types::Aggressor::Buy, 2, Nanos(T0), Nanos(T0));
    h2.risk.on_tick(&t);
    assert!(h2.sell(A, 10_200, 1).is_ok(), "collar follows the last trade");
}

#[test]
fn position_limit_counts_open_and_in_flight_orders_at_worst_case() {
    let mut h = h(|l| l.instruments[0].max_position = Some(Qty::from_raw(10)));
    let a = h.buy(A, 10_000, 4).unwrap();
    let b = h.buy(A, 9_995, 6).unwrap();
    assert_eq!(h.risk.open_orders(A), (2, 10, 0));
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::PositionLimit), "in flight counts");
    h.report(ExecKind::New, a, A, Side::Buy, 0, 0);
    h.report(ExecKind::Fill, a, A, Side::Buy, 10_000, 4);
    assert_eq!(h.risk.position(A).unwrap().qty(), Qty::from_raw(4));
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::PositionLimit), "filled + resting = 10");
    // The sell side's worst case is separate: 4 long − 14 sold = −10.
    assert!(h.sell(A, 10_050, 14).is_ok());
    assert_eq!(h.sell(A, 10_050, 1), Err(RejectReason::PositionLimit));
    // Cancelling the resting buy releases its 6 only once the venue confirms.
    let c = h.cancel(A, b).unwrap();
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::PositionLimit), "cancel in flight");
    h.report(ExecKind::Cancelled, c, A, Side::Buy, 0, 0);
    assert_eq!(h.risk.open_orders(A), (1, 0, 14));
    assert!(h.buy(A, 9_990, 6).is_ok());
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::PositionLimit));
}

#[test]
fn replace_reserves_both_until_the_venue_confirms() {
    let mut h = h(|l| l.instruments[0].max_position = Some(Qty::from_raw(10)));
    let a = h.buy(A, 10_000, 5).unwrap();
    let mut r = h.intent(A, Side::Buy, 9_995, 5);
    r.action = Action::Replace;
    r.target = a;
    let n = h.send(r).unwrap();
    assert_eq!(h.risk.open_orders(A), (1, 10, 0), "old and new both reserved, one order");
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::PositionLimit));
    h.report(ExecKind::Replaced, n, A, Side::Buy, 0, 0);
    assert_eq!(h.risk.open_orders(A), (1, 5, 0));
    // A refused replace leaves the original.
    let mut r = h.intent(A, Side::Buy, 9_990, 3);
    r.action = Action::Replace;
    r.target = n;
    let m = h.send(r).unwrap();
    h.report(ExecKind::CancelRejected, m, A, Side::Buy, 0, 0);
    assert_eq!(h.risk.open_orders(A), (1, 5, 0));
    let mut wrong_side = h.intent(A, Side::Sell, 10_050, 3);
    wrong_side.action = Action::Replace;
    wrong_side.target = n;
    assert_eq!(h.send(wrong_side), Err(RejectReason::UnknownTarget));
}

#[test]
fn gross_notional_over_instruments_at_reference_prices() {
    // Reference 100.00 (raw 10_000 at the money scale of 2): 10 lots over A and B.
    let mut h = h(|l| l.max_gross_notional = Some(10 * 10_000));
    assert!(h.buy(A, 10_000, 6).is_ok());
    assert!(h.sell(B, 10_000, 4).is_ok());
    assert_eq!(h.risk.gross_exposure(), 100_000);
    assert!(h.buy(B, 9_995, 1).is_ok(), "a buy against B's resting sell adds no worst case");
    assert_eq!(h.buy(A, 9_995, 1), Err(RejectReason::GrossNotional));
    // Worst case per instrument: a sell on A against a resting buy does not add to it.
    assert!(h.sell(A, 10_050, 6).is_ok());
    // The reference halving halves the exposure.
    h.quote(A, 4_995, 5_005);
    h.quote(B, 4_995, 5_005);
    assert_eq!(h.risk.gross_exposure(), 50_000);
}

#[test]
fn a_ticks_exposure_refresh_waits_for_its_orders_and_changes_no_decision() {
    // 12 lots at 100.00; A long 6 and B short 4 reserved: 100_000 of 120_000.
    let setup = || {
        let mut h = h(|l| l.max_gross_notional = Some(12 * 10_000));
        assert!(h.buy(A, 10_000, 6).is_ok());
        assert!(h.sell(B, 10_000, 4).is_ok());
        h
    };
    // A doubles: its term is 120_000 at once for every reader, before any settle.
    let mut h = setup();
    h.quote(A, 19_995, 20_005);
    assert_eq!(h.risk.gross_exposure(), 160_000);
    // An order on B sees A at its new price: 120_000 + 50_000 is over. (At A's old term,
    // 60_000 + 50_000, it would have passed.)
    assert_eq!(h.sell(B, 10_000, 1), Err(RejectReason::GrossNotional));
    h.risk.settle();
    assert_eq!(h.risk.gross_exposure(), 160_000);

    // A halves: an order on B now fits (30_000 + 80_000), which A's old term would refuse.
    let mut h = setup();
    h.quote(A, 4_995, 5_005);
    assert_eq!(h.risk.gross_exposure(), 70_000);
    assert!(h.sell(B, 10_000, 4).is_ok());
    assert_eq!(h.risk.gross_exposure(), 110_000);
    // An order on A itself, still unsettled: its own term is recomputed (9 × 5_000).
    let mut h = setup();
    h.quote(A, 4_995, 5_005);
    assert!(h.buy(A, 5_000, 3).is_ok());
    assert_eq!(h.risk.gross_exposure(), 85_000);
    assert_eq!(h.buy(A, 5_000, 8), Err(RejectReason::GrossNotional), "17 × 5_000 + 40_000");
    // The next tick settles the last one first.
    h.quote(B, 4_995, 5_005);
    h.risk.settle();
    assert_eq!(h.risk.gross_exposure(), 45_000 + 20_000);
    assert_eq!(h.risk.telemetry().gross_exposure(), 65_000);
}

#[test]
fn max_open_orders_per_instrument_and_in_total() {
    let mut h = h(|l| {
        l.instruments[0].max_open_orders = Some(2);
        l.max_open_orders = Some(3);
    });
    let a = h.buy(A, 10_000, 1).unwrap();
    h.buy(A, 9_995, 1).unwrap();
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::MaxOpenOrdersInstrument));
    h.buy(B, 10_000, 1).unwrap();
    assert_eq!(h.buy(B, 9_995, 1), Err(RejectReason::MaxOpenOrdersTotal));
    h.report(ExecKind::Fill, a, A, Side::Buy, 10_000, 1);
    assert!(h.buy(B, 9_995, 1).is_ok(), "a fill frees a place");
}

#[test]
fn an_approval_takes_nothing_until_it_is_committed() {
    let rate = Rate { per_second: 1_000, burst: 1 };
    let mut h = h(|l| l.instruments[0].order_rate = Some(rate));
    let intent = h.intent(A, Side::Buy, 10_000, 3);
    let approval = h.risk.approve_with(&intent, || Nanos(T0 + 7)).unwrap();
    assert_eq!(approval.order().get().approved_ns, Nanos(T0 + 7), "stamped by the clock");
    assert_eq!(approval.order().get().intent, intent);
    assert_eq!(h.risk.open_orders(A), (0, 0, 0), "nothing reserved before the commit");
    assert_eq!(h.risk.telemetry().open_orders.get(), 0);
    assert_eq!(h.risk.gross_exposure(), 0);
    h.risk.commit(approval);
    assert_eq!(h.risk.open_orders(A), (1, 3, 0), "reserved by the commit");
    assert_eq!(h.risk.telemetry().open_orders.get(), 1);
    assert!(h.risk.gross_exposure() > 0);
    assert_eq!(h.buy(A, 9_995, 1), Err(RejectReason::OrderRateInstrument), "token taken");
    // The same client id again: the commit put it in the open-order table.
    let again = h.risk.check(&intent, Nanos(h.now));
    assert_eq!(again, Err(RejectReason::DuplicateOrder));
}

#[test]
#[should_panic(expected = "not committed")]
fn a_second_approval_before_the_commit_is_refused() {
    let mut h = h(|_| {});
    let first = h.intent(A, Side::Buy, 10_000, 1);
    let second = h.intent(A, Side::Buy, 9_995, 1);
    let _pending = h.risk.approve_with(&first, || Nanos(T0)).unwrap();
    let _ = h.risk.approve_with(&second, || Nanos(T0));
}

#[test]
fn order_rate_per_instrument_and_global() {
    let rate = Rate { per_second: 1_000, burst: 3 };
    let mut h = h(|l| l.instruments[0].order_rate = Some(rate));
    for k in 0..3 {
        assert!(h.buy(A, 10_000 - 5 * k, 1).is_ok());
    }
    assert_eq!(h.buy(A, 9_980, 1), Err(RejectReason::OrderRateInstrument));
    assert!(h.buy(B, 9_980, 1).is_ok(), "other instrument unaffected");
    h.now += 1_000_000; // 1 ms: one token at 1000/s
    assert!(h.buy(A, 9_980, 1).is_ok());
    assert_eq!(h.buy(A, 9_975, 1), Err(RejectReason::OrderRateInstrument));

    let mut h = self::h(|l| l.order_rate = Some(rate));
    h.buy(A, 10_000, 1).unwrap();
    h.buy(B, 10_000, 1).unwrap();
    h.buy(A, 9_995, 1).unwrap();
    assert_eq!(h.buy(B, 9_995, 1), Err(RejectReason::OrderRateGlobal));
}

#[test]
fn message_rate_counts_cancels_but_never_blocks_them() {
    let rate = Rate { per_second: 1_000, burst: 3 };
    let mut h = h(|l| l.instruments[0].message_rate = Some(rate));
    let a = h.buy(A, 10_000, 1).unwrap();
    h.cancel(A, a).unwrap();
    h.buy(A, 9_995, 1).unwrap();
    assert_eq!(h.buy(A, 9_990, 1), Err(RejectReason::MessageRateInstrument));
    assert!(h.cancel(A, a).is_ok(), "a cancel passes with the bucket empty");

    let mut h = self::h(|l| l.message_rate = Some(rate));
    let a = h.buy(A, 10_000, 1).unwrap();
    h.cancel(A, a).unwrap();
    h.buy(B, 10_000, 1).unwrap();
    assert_eq!(h.buy(B, 9_995, 1), Err(RejectReason::MessageRateGlobal));
}

#[test]
fn execution_throttle_halts_until_an_operator_resumes() {
    let mut h = h(|l| l.execution_throttle = Some(Rate { per_second: 1, burst: 3 }));
    for _ in 0..3 {
        h.filled_buy(10_000, 1);
    }
    assert!(h.buy(A, 10_000, 1).is_ok(), "3 fills: at the limit");
    assert!(!h.risk.take_cancel_all());
    let id = ClientOrderId(h.next_id - 1);
    h.report(ExecKind::Fill, id, A, Side::Buy, 10_000, 1);
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::ExecutionThrottle), "the 4th trips it");
    assert_eq!(h.halt.cause(), HaltCause::RiskLimit);
    assert!(h.risk.take_cancel_all(), "an automatic halt pulls every order");
    h.now += 10_000_000_000;
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::ExecutionThrottle), "time alone won't do");
    h.halt.resume();
    assert!(h.buy(A, 10_000, 1).is_ok(), "an operator resume re-enables trading");
    assert_eq!(h.risk.telemetry().auto_halts.get(), 1);
}

#[test]
fn daily_loss_limit_halts() {
    let mut h = h(|l| l.daily_loss_limit = Some(100));
    h.filled_buy(10_000, 1);
    h.quote(A, 9_895, 9_905); // mark 99.00: loss 1.00 = 100 raw, at the limit
    assert!(h.sell(A, 9_905, 1).is_ok());
    h.quote(A, 9_894, 9_904); // mark 98.99: one past
    assert_eq!(h.risk.tripped(), Some(RejectReason::DailyLoss));
    assert_eq!(h.buy(A, 9_900, 1), Err(RejectReason::DailyLoss));
    assert_eq!(h.halt.cause(), HaltCause::RiskLimit);
    // Raising the limit and resuming lets trading go on.
    h.risk.set_limit("daily_loss_limit", None, Decimal::new(5, 0)).unwrap();
    h.halt.resume();
    assert!(h.buy(A, 9_900, 1).is_ok());
}

#[test]
fn max_drawdown_from_peak_halts() {
    let mut h = h(|l| l.max_drawdown = Some(50));
    h.filled_buy(10_000, 1);
    h.quote(A, 10_095, 10_105); // +1.00: peak
    h.quote(A, 10_045, 10_055); // −0.50 from peak: at the limit
    assert!(h.risk.tripped().is_none());
    h.quote(A, 10_044, 10_054);
    assert_eq!(h.buy(A, 10_045, 1), Err(RejectReason::MaxDrawdown));
    assert!(h.risk.take_cancel_all());
    h.halt.resume();
    assert!(h.buy(A, 10_045, 1).is_ok(), "after a resume the drawdown counts from there");
}

#[test]
fn duplicate_orders_within_the_window() {
    let mut h = h(|l| l.duplicate_window_ns = Some(1_000_000));
    assert!(h.buy(A, 10_000, 1).is_ok());
    h.now += 999_999;
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::DuplicateOrder));
    assert!(h.buy(A, 10_000, 2).is_ok(), "another quantity is another order");
    h.now += 1;
    assert!(h.buy(A, 10_000, 1).is_ok(), "at the window's end it is new again");
    let reused = h.intent(A, Side::Buy, 9_995, 1);
    let mut again = reused;
    again.price = Px::from_raw(9_990);
    h.send(reused).unwrap();
    assert_eq!(h.send(again), Err(RejectReason::DuplicateOrder), "a client id in use");
}

#[test]
fn self_trade_prevention() {
    let mut h = h(|_| {});
    h.sell(A, 10_005, 1).unwrap();
    assert!(h.buy(A, 10_000, 1).is_ok());
    assert_eq!(h.buy(A, 10_005, 1), Err(RejectReason::SelfTrade));
    assert_eq!(h.sell(A, 10_000, 1), Err(RejectReason::SelfTrade));
    assert!(h.sell(A, 10_005, 1).is_ok());
    let mut market = h.intent(A, Side::Buy, 10_050, 1);
    market.ord_type = OrdType::Market;
    assert_eq!(h.send(market), Err(RejectReason::SelfTrade), "protection price counts");
}

#[test]
fn market_data_reasonability() {
    let mut h = h(|l| l.max_quote_age_ns = Some(1_000_000_000));
    h.now += 1_000_000_000;
    assert!(h.buy(A, 10_000, 1).is_ok(), "quote 1 s old: at the limit");
    h.now += 1;
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::MarketDataStale));
    h.quote(A, 10_005, 10_000); // crossed, unflagged: risk sees it itself
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::MarketDataUnreasonable));
    let l = Level { px: Px::from_raw(10_000), qty: Qty::from_raw(1) };
    let trade = Tick::trade(A, l, crate::types::Aggressor::Buy, 2, Nanos(h.now), Nanos(h.now));
    h.risk.on_tick(&trade);
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::MarketDataUnreasonable), "still crossed");
    for flag in [TickFlags::STALE, TickFlags::OUT_OF_BAND, TickFlags::CROSSED] {
        h.quote_flags(A, 9_995, 10_005, flag);
        assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::MarketDataUnreasonable));
    }
    h.quote(A, 9_995, 10_005);
    assert!(h.buy(A, 10_000, 1).is_ok());
}

#[test]
fn fails_closed_without_reference_or_limits() {
    let reg = registry();
    let halt = Arc::new(HaltSwitch::new());
    let mut risk = RiskStage::with_setup(
        Arc::clone(&reg),
        Arc::clone(&halt),
        RiskSetup::new(RiskLimits::permissive(&reg)),
    );
    let mut h2 = H { risk, halt: Arc::clone(&halt), next_id: 1, now: T0 };
    assert_eq!(h2.buy(A, 10_000, 1), Err(RejectReason::NoReferencePrice));
    risk = RiskStage::new(Arc::clone(&reg), halt);
    h2.risk = risk;
    h2.quote(A, 9_995, 10_005);
    assert_eq!(h2.buy(A, 10_000, 1), Err(RejectReason::LimitNotConfigured));
    // One missing limit is enough to refuse.
    let mut h = h(|l| l.instruments[0].max_position = None);
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::LimitNotConfigured));
    assert!(h.buy(B, 10_000, 1).is_ok());
    let mut h = self::h(|l| l.max_drawdown = None);
    assert_eq!(h.buy(B, 10_000, 1), Err(RejectReason::LimitNotConfigured));
    assert_eq!(h.risk.limits().missing(h.risk.registry()), vec!["risk.max_drawdown".to_owned()]);
    h.risk.set_limit("max_drawdown", None, Decimal::new(10, 0)).unwrap();
    assert!(h.buy(B, 10_000, 1).is_ok(), "configured at run time");
}

#[test]
fn bad_input_is_rejected_with_its_reason() {
    let mut h = h(|_| {});
    let mut unknown = h.intent(A, Side::Buy, 10_000, 1);
    unknown.instrument = InstrumentId(9);
    assert_eq!(h.send(unknown), Err(RejectReason::UnknownInstrument));
    assert_eq!(h.buy(A, 10_000, 0), Err(RejectReason::BadQuantity));
    assert_eq!(h.buy(A, 10_000, -3), Err(RejectReason::BadQuantity));
    assert_eq!(h.buy(A, 0, 1), Err(RejectReason::BadPrice));
    assert_eq!(h.buy(A, -5, 1), Err(RejectReason::BadPrice));
    assert_eq!(h.buy(A, 10_001, 1), Err(RejectReason::OffTickGrid));
    let reg = Arc::new(
        InstrumentRegistry::build(&[InstrumentSpec {
            symbol: "L".into(),
            venue: "v".into(),
            price_scale: 2,
            qty_scale: 3,
            tick_size: "0.01".parse().unwrap(),
            lot_size: "0.005".parse().unwrap(),
        }])
        .unwrap(),
    );
    let mut lots = H {
        risk: RiskStage::with_setup(
            Arc::clone(&reg),
            Arc::new(HaltSwitch::new()),
            RiskSetup::new(RiskLimits::permissive(&reg)),
        ),
        halt: Arc::new(HaltSwitch::new()),
        next_id: 1,
        now: T0,
    };
    lots.quote(A, 9_999, 10_001);
    assert_eq!(lots.buy(A, 10_000, 7), Err(RejectReason::OffLotGrid));
    assert!(lots.buy(A, 10_000, 10).is_ok());
    assert_eq!(h.cancel(A, ClientOrderId(12_345)), Err(RejectReason::UnknownTarget));
    let mut replace = h.intent(A, Side::Buy, 10_000, 1);
    replace.action = Action::Replace;
    replace.target = ClientOrderId(12_345);
    assert_eq!(h.send(replace), Err(RejectReason::UnknownTarget));
}

#[test]
fn overflowing_notionals_are_rejected_not_wrapped() {
    let mut h = h(|_| {});
    assert!(h.buy(A, 10_000, i64::MAX - 10).is_ok(), "i64 × i64 fits the i128 check");
    assert_eq!(h.buy(A, 9_995, 20), Err(RejectReason::NotionalOverflow));
    let mut h = self::h(|l| l.max_gross_notional = Some(i128::MAX - 1));
    h.quote(B, i64::MAX - 7, i64::MAX - 5);
    let p = (i64::MAX - 6) / 5 * 5;
    let mut big = h.intent(B, Side::Buy, p, i64::MAX / 2);
    big.ord_type = OrdType::Limit;
    let r = h.send(big);
    assert!(matches!(r, Ok(_) | Err(RejectReason::GrossNotional | RejectReason::NotionalOverflow)));
}

#[test]
fn halt_and_kill_switch_let_cancels_through() {
    let mut h = h(|_| {});
    let a = h.buy(A, 10_000, 1).unwrap();
    h.halt.trip(HaltCause::Operator);
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::Halted));
    assert!(h.cancel(A, a).is_ok(), "cancels pass while halted");
    h.halt.resume();
    let note = h.risk.set_limit("kill_switch", None, Decimal::ONE).unwrap();
    assert!(note.contains("halted"));
    assert_eq!(h.halt.cause(), HaltCause::Operator);
    assert!(h.risk.take_cancel_all());
    assert!(!h.risk.take_cancel_all(), "taken once");
    let mut all = h.intent(A, Side::Buy, 0, 0);
    all.action = Action::Cancel;
    all.target = ClientOrderId::ALL;
    all.instrument = InstrumentId(u32::MAX);
    assert!(h.send(all).is_ok(), "cancel-all passes while halted");
    assert_eq!(h.buy(A, 10_000, 1), Err(RejectReason::Halted));
}

#[test]
fn cancel_on_disconnect() {
    let mut h = h(|_| {});
    let a = h.buy(A, 10_000, 1).unwrap();
    let hook = Arc::clone(h.risk.disconnect_hook());
    hook.disconnected();
    assert_eq!(h.buy(A, 9_995, 1), Err(RejectReason::VenueDisconnected));
    h.quote(A, 9_995, 10_005);
    assert!(h.risk.take_cancel_all(), "the first tick after a disconnect asks for cancel-all");
    assert!(h.cancel(A, a).is_ok());
    assert_eq!(h.risk.open_orders(A).0, 1, "counted until the venue confirms");
    hook.reconnected();
    assert!(h.buy(A, 9_995, 1).is_ok());
}

#[test]
fn set_limit_changes_limits_at_run_time_or_refuses() {
    let mut h = h(|l| l.instruments[0].max_order_qty = Some(Qty::from_raw(5)));
    let e = h.risk.set_limit("max_order_qty", Some(A), Decimal::new(25, 1)).unwrap_err();
    assert!(e.contains("max_order_qty"), "{e}");
    assert_eq!(h.buy(A, 10_000, 6), Err(RejectReason::MaxOrderQty), "refused: old limit stays");
    h.risk.set_limit("max_order_qty", Some(A), Decimal::new(7, 0)).unwrap();
    assert!(h.buy(A, 10_000, 7).is_ok());
    assert_eq!(h.buy(A, 10_000, 8), Err(RejectReason::MaxOrderQty));
    assert!(h.risk.set_limit("nope", None, Decimal::ONE).unwrap_err().contains("unknown"));
    assert!(h.risk.set_limit("daily_loss_limit", Some(A), Decimal::ONE).is_err());
    h.risk.set_limit("order_burst", Some(B), Decimal::new(1, 0)).unwrap();
    assert!(h.buy(B, 10_000, 1).is_ok());
    assert_eq!(h.buy(B, 9_995, 1), Err(RejectReason::OrderRateInstrument));
    h.risk.set_limit("price_collar_bps", None, Decimal::new(10, 0)).unwrap();
    assert_eq!(h.sell(A, 10_050, 1), Err(RejectReason::PriceCollar), "None = every instrument");
}

fn any_side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn any_action() -> impl Strategy<Value = Action> {
    prop_oneof![Just(Action::New), Just(Action::Cancel), Just(Action::Replace)]
}

fn any_kind() -> impl Strategy<Value = ExecKind> {
    prop_oneof![
        Just(ExecKind::New),
        Just(ExecKind::PartialFill),
        Just(ExecKind::Fill),
        Just(ExecKind::Cancelled),
        Just(ExecKind::Replaced),
        Just(ExecKind::Rejected),
        Just(ExecKind::Expired),
        Just(ExecKind::CancelRejected),
    ]
}

proptest! {
    /// Random intents, reports and ticks with random (often absurd) values never panic, and
    /// every intent is either approved or counted under one reason.
    #[test]
    fn random_input_never_panics_and_every_decision_is_counted(
        steps in proptest::collection::vec(
            (0u8..3, any_action(), any_side(), any::<i64>(), any::<i64>(), 0u32..3, 0u64..40, any_kind(), any::<bool>()),
            1..200,
        ),
        tight in any::<bool>(),
    ) {
        let mut h = h(|l| if tight {
            l.instruments[0] = InstrumentLimits {
                max_order_qty: Some(Qty::from_raw(50)),
                max_order_notional: Some(1_000_000),
                price_collar_bps: Some(200),
                max_position: Some(Qty::from_raw(100)),
                max_open_orders: Some(5),
                order_rate: Some(Rate { per_second: 10, burst: 5 }),
                message_rate: Some(Rate { per_second: 10, burst: 8 }),
            };
            l.daily_loss_limit = Some(1_000);
            l.max_drawdown = Some(500);
            l.duplicate_window_ns = Some(1_000);
            l.execution_throttle = Some(Rate { per_second: 1, burst: 3 });
        });
        let mut decisions = 0u64;
        for (what, action, side, price, qty, inst, id, kind, small) in steps {
            h.now = h.now.wrapping_add(1_000);
            let (price, qty) = if small { (price.rem_euclid(20_000), qty.rem_euclid(200) - 20) } else { (price, qty) };
            match what {
                0 => {
                    let mut o = h.intent(InstrumentId(inst), side, price, qty);
                    o.action = action;
                    o.target = ClientOrderId(id);
                    let _ = h.send(o);
                    decisions += 1;
                }
                1 => h.report(kind, ClientOrderId(id), InstrumentId(inst), side, price, qty),
                _ => h.quote(InstrumentId(inst), price, qty),
            }
        }
        let t = h.risk.telemetry();
        prop_assert_eq!(t.approved.get() + t.rejects_total(), decisions);
        published_matches(&h.risk)?;
    }
}

/// The published order list holds what the stage tracks: one entry per open order (plus
/// replacements in flight, which the gauge does not count), each id once.
fn published_matches(risk: &RiskStage) -> Result<(), TestCaseError> {
    let t = risk.telemetry();
    let board = t.orders.snapshot();
    let open = board.iter().filter(|o| o.state != BoardState::PendingReplace).count() as u64;
    prop_assert_eq!(open, t.open_orders.get(), "{:?}", board);
    prop_assert!(board.windows(2).all(|w| w[0].client_id.0 < w[1].client_id.0), "{:?}", board);
    let per_instrument: u32 = [A, B].iter().map(|i| risk.open_orders(*i).0).sum();
    prop_assert_eq!(open, u64::from(per_instrument));
    Ok(())
}

#[test]
fn the_published_order_list_follows_approvals_reports_and_cancels() {
    let mut h = h(|_| {});
    let state = |h: &H, id: ClientOrderId| {
        h.risk.telemetry().orders.snapshot().iter().find(|o| o.client_id == id).map(|o| o.state)
    };
    h.now += 5;
    let a = h.buy(A, 10_000, 4).unwrap();
    let o = h.risk.telemetry().orders.snapshot()[0];
    assert_eq!((o.client_id, o.instrument, o.side, o.strategy), (a, A, Side::Buy, StrategyId(0)));
    assert_eq!((o.price, o.qty, o.filled), (Px::from_raw(10_000), Qty::from_raw(4), Qty::ZERO));
    assert_eq!(o.sent_ns, Nanos(h.now), "the approval time");
    assert_eq!(state(&h, a), Some(BoardState::PendingNew));
    h.report(ExecKind::New, a, A, Side::Buy, 0, 0);
    assert_eq!(state(&h, a), Some(BoardState::New));
    h.report(ExecKind::PartialFill, a, A, Side::Buy, 10_000, 1);
    assert_eq!(state(&h, a), Some(BoardState::PartiallyFilled));
    assert_eq!(h.risk.telemetry().orders.snapshot()[0].filled, Qty::from_raw(1));
    let c = h.cancel(A, a).unwrap();
    assert_eq!(state(&h, a), Some(BoardState::PendingCancel));
    h.report(ExecKind::CancelRejected, c, A, Side::Buy, 0, 0);
    assert_eq!(state(&h, a), Some(BoardState::PartiallyFilled), "the cancel was refused");
    // A replacement is listed, in flight, until the venue confirms it; then the original goes.
    let mut r = h.intent(A, Side::Buy, 9_995, 3);
    r.action = Action::Replace;
    r.target = a;
    let n = h.send(r).unwrap();
    assert_eq!(state(&h, n), Some(BoardState::PendingReplace));
    h.report(ExecKind::Replaced, n, A, Side::Buy, 0, 0);
    assert_eq!((state(&h, a), state(&h, n)), (None, Some(BoardState::New)));
    let b = h.sell(A, 10_005, 2).unwrap();
    h.report(ExecKind::Fill, n, A, Side::Buy, 9_995, 3);
    assert_eq!(state(&h, n), None, "filled: gone");
    let c = h.cancel(A, b).unwrap();
    h.report(ExecKind::Cancelled, c, A, Side::Buy, 0, 0);
    assert!(h.risk.telemetry().orders.snapshot().is_empty());
    assert_eq!(h.risk.telemetry().open_orders.get(), 0);
}

/// One random step: what (intent, report, quote), action, side, price and quantity steps,
/// instrument, how far back the id it names is, report kind.
type Step = (u8, Action, Side, i64, i64, u32, u64, ExecKind);

/// Drives `h` with random intents, reports and quotes, returning what the journal would hold
/// (approvals, reports, ticks).
fn drive(h: &mut H, steps: &[Step]) -> Vec<RecordBody> {
    let mut records = Vec::new();
    for &(what, action, side, price, qty, inst, back, kind) in steps {
        h.now += 1_000;
        let recent = |h: &H| ClientOrderId(h.next_id.saturating_sub(back).max(1));
        match what {
            0 => {
                let mut o = h.intent(InstrumentId(inst), side, 9_000 + price * 5, qty);
                o.action = action;
                o.target = recent(h);
                if let Ok(a) = h.risk.check(&o, Nanos(h.now)) {
                    records.push(RecordBody::Approved(*a.get()));
                }
            }
            1 => {
                let r = ExecReport {
                    ts: Nanos(h.now),
                    client_id: recent(h),
                    venue_order_id: 1,
                    last_px: Px::from_raw(9_000 + price * 5),
                    last_qty: Qty::from_raw(qty),
                    cum_qty: Qty::from_raw(qty),
                    leaves_qty: Qty::ZERO,
                    fee: price % 3,
                    instrument: InstrumentId(inst),
                    strategy: StrategyId(0),
                    kind,
                    side,
                };
                h.risk.on_exec(&r);
                records.push(RecordBody::Exec(r));
            }
            _ => {
                let l = |p: i64| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
                let mid = 9_000 + price * 5;
                let t = Tick::quote(
                    InstrumentId(inst),
                    l(mid - 5),
                    l(mid + 5),
                    1,
                    Nanos(h.now),
                    Nanos(h.now),
                );
                h.risk.on_tick(&t);
                records.push(RecordBody::Tick(t));
            }
        }
    }
    records
}

fn rebuild(start: &RiskSeed, records: &[RecordBody]) -> Rebuilt {
    let mut b = SeedBuilder::new(2, start);
    for r in records {
        b.apply(r);
    }
    b.finish()
}

fn seeded(seed: RiskSeed) -> RiskStage {
    let reg = registry();
    let limits = RiskLimits::permissive(&reg);
    RiskStage::with_setup(reg, Arc::new(HaltSwitch::new()), RiskSetup::new(limits).with_seed(seed))
}

fn quote_both(h: &mut H) -> Vec<RecordBody> {
    let l = |p: i64| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
    [A, B]
        .iter()
        .map(|i| {
            let t = Tick::quote(*i, l(9_995), l(10_005), 1, Nanos(h.now), Nanos(h.now));
            h.risk.on_tick(&t);
            RecordBody::Tick(t)
        })
        .collect()
}

/// Replaces unanswered at a session's end are not carried (see `SeedNotes`): the venue
/// refuses them here, so the stage and its rebuild agree on what is open.
fn answer_replaces(h: &mut H, records: &mut Vec<RecordBody>, start: &RiskSeed) {
    loop {
        let open = rebuild(start, records).notes.unanswered_replaces;
        if open.is_empty() {
            return;
        }
        for (_, replacement) in open {
            let r = ExecReport {
                ts: Nanos(h.now),
                client_id: replacement,
                venue_order_id: 1,
                last_px: Px::ZERO,
                last_qty: Qty::ZERO,
                cum_qty: Qty::ZERO,
                leaves_qty: Qty::ZERO,
                fee: 0,
                instrument: A,
                strategy: StrategyId(0),
                kind: ExecKind::CancelRejected,
                side: Side::Buy,
            };
            h.risk.on_exec(&r);
            records.push(RecordBody::Exec(r));
        }
    }
}

fn same_state(a: &RiskStage, b: &RiskStage) -> Result<(), TestCaseError> {
    for i in [A, B] {
        prop_assert_eq!(a.position(i), b.position(i), "position of {:?}", i);
        prop_assert_eq!(a.open_orders(i), b.open_orders(i), "open orders of {:?}", i);
    }
    prop_assert_eq!(a.positions().total_pnl(), b.positions().total_pnl());
    prop_assert_eq!(a.telemetry().open_orders.get(), b.telemetry().open_orders.get());
    published_matches(a)?;
    published_matches(b)?;
    Ok(())
}

proptest! {
    /// A risk stage seeded with what `SeedBuilder` rebuilt from a session's records holds the
    /// same positions, open orders and reservations as the stage that lived through them;
    /// so does the next session's, rebuilt from that seed and its own records.
    #[test]
    fn a_seeded_stage_matches_the_stage_it_was_rebuilt_from(
        steps in proptest::collection::vec(
            (0u8..3, any_action(), any_side(), 0i64..400, 1i64..8, 0u32..3, 1u64..6, any_kind()),
            1..160,
        ),
        split in 0usize..160,
    ) {
        let split = split.min(steps.len());
        let mut h = h(|_| {});
        // `h` quoted both instruments at 100.00 before the session's first record.
        h.now -= 1;
        let mut first = quote_both(&mut h);
        first.extend(drive(&mut h, &steps[..split]));
        answer_replaces(&mut h, &mut first, &RiskSeed::default());
        let mid = rebuild(&RiskSeed::default(), &first).seed;
        same_state(&h.risk, &seeded(mid.clone()))?;

        // The next session starts from the seed and trades on.
        let mut next = H { risk: seeded(mid.clone()), halt: Arc::new(HaltSwitch::new()), next_id: h.next_id, now: h.now };
        let mut second = quote_both(&mut next);
        second.extend(drive(&mut next, &steps[split..]));
        answer_replaces(&mut next, &mut second, &mid);
        let end = rebuild(&mid, &second).seed;
        same_state(&next.risk, &seeded(end))?;
    }
}

#[test]
fn a_seeded_stage_counts_restored_positions_and_orders_against_its_limits() {
    let reg = registry();
    let p = {
        let mut p = crate::position::Position::new();
        p.apply_fill(Side::Buy, Qty::from_raw(6), Px::from_raw(10_000), 0).unwrap();
        p
    };
    let resting = SeedOrder {
        id: ClientOrderId(77),
        instrument: A,
        strategy: StrategyId(0),
        side: Side::Buy,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        price: Px::from_raw(9_990),
        qty: Qty::from_raw(3),
        cum: Qty::from_raw(1),
        leaves: Qty::from_raw(2),
    };
    let seed = RiskSeed { positions: vec![(A, p)], open_orders: vec![resting] };
    let mut limits = RiskLimits::permissive(&reg);
    limits.instruments[0].max_position = Some(Qty::from_raw(10));
    let halt = Arc::new(HaltSwitch::new());
    let risk = RiskStage::with_setup(reg, halt, RiskSetup::new(limits).with_seed(seed));
    let mut h = H { risk, halt: Arc::new(HaltSwitch::new()), next_id: 100, now: T0 };
    h.quote(A, 9_995, 10_005);
    assert_eq!(h.risk.position(A).unwrap().qty(), Qty::from_raw(6));
    assert_eq!(h.risk.open_orders(A), (1, 2, 0));
    let listed = h.risk.telemetry().orders.snapshot();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].client_id, listed[0].qty, listed[0].filled),
        (ClientOrderId(77), Qty::from_raw(3), Qty::from_raw(1))
    );
    assert_eq!((listed[0].state, listed[0].sent_ns), (BoardState::PartiallyFilled, Nanos::ZERO));
    // 6 held + 2 resting: 2 more reach the limit, 3 pass it.
    assert_eq!(h.buy(A, 10_000, 3), Err(RejectReason::PositionLimit));
    assert!(h.buy(A, 10_000, 2).is_ok());
    // The restored order is known: a cancel of it passes, its fill moves the position.
    assert!(h.cancel(A, ClientOrderId(77)).is_ok());
    h.report(ExecKind::Fill, ClientOrderId(77), A, Side::Buy, 9_990, 2);
    assert_eq!(h.risk.position(A).unwrap().qty(), Qty::from_raw(8));
    assert_eq!(h.risk.open_orders(A), (1, 2, 0));
    assert_eq!(h.risk.telemetry().unknown_reports.get(), 0);
    // Restored at a loss, the drawdown is measured from the restored figure, not from zero.
    assert_eq!(h.risk.tripped(), None);
    let _ = &h.halt;
}
