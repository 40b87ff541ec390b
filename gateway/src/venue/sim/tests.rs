//! Simulated-exchange tests: queue position, walking the book, cancels, replaces, fees,
//! latency, rejects, and determinism across two runs.

use std::sync::Arc;

use tickline_engine::risk::{HaltSwitch, RiskLimits, RiskSetup, RiskStage};
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::types::{
    Action, Aggressor, ClientOrderId, ExecKind, ExecReport, InstrumentId, InstrumentRegistry,
    InstrumentSpec, Level, Nanos, OrdType, OrderIntent, Px, Qty, Side, StrategyId, Tick,
    TimeInForce,
};

use super::{SimConfig, SimVenue};

const A: InstrumentId = InstrumentId(0);

fn spec(symbol: &str, tick: &str) -> InstrumentSpec {
    InstrumentSpec {
        symbol: symbol.into(),
        venue: "sim".into(),
        price_scale: 2,
        qty_scale: 0,
        tick_size: tick.parse().unwrap(),
        lot_size: "1".parse().unwrap(),
    }
}

fn l(px: i64, qty: i64) -> Level {
    Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) }
}

/// Risk (the only way to get an approval) in front of a simulated exchange.
struct Harness {
    risk: RiskStage,
    sim: SimVenue,
    next_id: u64,
    batch: ExecBatch,
}

impl Harness {
    fn new(cfg: SimConfig) -> Harness {
        let reg = Arc::new(InstrumentRegistry::build(&[spec("A", "0.01")]).unwrap());
        Harness::with(reg.clone(), reg, cfg)
    }

    /// Risk checks against `risk_reg`, the exchange against `sim_reg` (to reach the
    /// exchange's own parameter checks with orders risk lets through).
    fn with(
        risk_reg: Arc<InstrumentRegistry>,
        sim_reg: Arc<InstrumentRegistry>,
        cfg: SimConfig,
    ) -> Harness {
        let setup = RiskSetup::new(RiskLimits::permissive(&risk_reg));
        let mut risk =
            RiskStage::with_setup(Arc::clone(&risk_reg), Arc::new(HaltSwitch::new()), setup);
        // A reference price for every instrument risk knows.
        for i in risk_reg.iter() {
            risk.on_tick(&Tick::quote(i.id, l(1, 1), l(100_000, 1), 0, Nanos(0), Nanos(0)));
        }
        Harness {
            risk,
            sim: SimVenue::new("sim", sim_reg, cfg),
            next_id: 0,
            batch: ExecBatch::new(),
        }
    }

    fn tick(&mut self, t: Tick) {
        self.risk.on_tick(&t);
        self.sim.on_tick(&t);
    }

    fn quote(&mut self, now: i64, bid: Level, ask: Level) {
        self.tick(Tick::quote(A, bid, ask, 0, Nanos(now), Nanos(now)));
    }

    fn trade(&mut self, now: i64, px: i64, qty: i64, aggressor: Aggressor) {
        self.tick(Tick::trade(A, l(px, qty), aggressor, 0, Nanos(now), Nanos(now)));
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        now: i64,
        action: Action,
        instrument: InstrumentId,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        px: i64,
        qty: i64,
        target: ClientOrderId,
    ) -> ClientOrderId {
        self.try_send(now, action, instrument, side, ord_type, tif, px, qty, target)
            .unwrap_or_else(|why| panic!("risk refused: {why:?}"))
    }

    /// As `send`, but risk may refuse (a cancel of an order that already finished, a self
    /// trade): the scripted runs skip those.
    #[allow(clippy::too_many_arguments)]
    fn try_send(
        &mut self,
        now: i64,
        action: Action,
        instrument: InstrumentId,
        side: Side,
        ord_type: OrdType,
        tif: TimeInForce,
        px: i64,
        qty: i64,
        target: ClientOrderId,
    ) -> Result<ClientOrderId, tickline_engine::risk::RejectReason> {
        self.next_id += 1;
        let id = ClientOrderId(self.next_id);
        let intent = OrderIntent {
            decided_ns: Nanos(now),
            tick_recv_ns: Nanos(now),
            client_id: id,
            target,
            price: Px::from_raw(px),
            qty: Qty::from_raw(qty),
            instrument,
            strategy: StrategyId(0),
            action,
            side,
            ord_type,
            tif,
            reserved: [0; 6],
        };
        let approved = self.risk.check(&intent, Nanos(now))?;
        self.sim.submit(approved, Nanos(now));
        Ok(id)
    }

    fn order(
        &mut self,
        now: i64,
        side: Side,
        tif: TimeInForce,
        px: i64,
        qty: i64,
    ) -> ClientOrderId {
        self.send(now, Action::New, A, side, OrdType::Limit, tif, px, qty, ClientOrderId(0))
    }

    fn cancel(&mut self, now: i64, target: ClientOrderId) -> ClientOrderId {
        let t = target;
        self.send(now, Action::Cancel, A, Side::Buy, OrdType::Limit, TimeInForce::Gtc, 0, 0, t)
    }

    fn replace(
        &mut self,
        now: i64,
        side: Side,
        target: ClientOrderId,
        px: i64,
        qty: i64,
    ) -> ClientOrderId {
        self.send(now, Action::Replace, A, side, OrdType::Limit, TimeInForce::Gtc, px, qty, target)
    }

    fn poll(&mut self, now: i64) -> Vec<ExecReport> {
        let mut all = Vec::new();
        loop {
            self.batch.clear();
            self.sim.poll(Nanos(now), &mut self.batch);
            if self.batch.is_empty() {
                return all;
            }
            for r in (0..self.batch.len()).filter_map(|i| self.batch.get(i)) {
                // Risk keeps its own open-order book from the reports, as in the pipeline.
                self.risk.on_exec(&r);
                all.push(r);
            }
        }
    }
}

fn kinds(rs: &[ExecReport]) -> Vec<(ExecKind, i64, i64, i64)> {
    rs.iter().map(|r| (r.kind, r.last_px.raw(), r.last_qty.raw(), r.cum_qty.raw())).collect()
}

#[test]
fn resting_order_behind_five_lots_fills_only_after_five_lots_trade() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 5), l(10_002, 7));
    let id = h.order(2, Side::Buy, TimeInForce::Gtc, 10_000, 3);
    assert_eq!(kinds(&h.poll(2)), vec![(ExecKind::New, 0, 0, 0)]);
    assert_eq!(h.sim.queue_ahead(id), Some(Qty::from_raw(5)));
    // Sellers hit the bid: 3, then 2 more. All five lots ahead of us are gone; nothing for us.
    h.trade(3, 10_000, 3, Aggressor::Sell);
    assert!(h.poll(3).is_empty());
    assert_eq!(h.sim.queue_ahead(id), Some(Qty::from_raw(2)));
    h.trade(4, 10_000, 2, Aggressor::Sell);
    assert!(h.poll(4).is_empty(), "5 lots traded: we are at the front, not filled");
    // Buyers lifting the offer at our price do not touch the bid queue.
    h.trade(5, 10_000, 9, Aggressor::Buy);
    assert!(h.poll(5).is_empty());
    // The next lot that trades is ours; then the rest.
    h.trade(6, 10_000, 1, Aggressor::Sell);
    assert_eq!(kinds(&h.poll(6)), vec![(ExecKind::PartialFill, 10_000, 1, 1)]);
    h.trade(7, 10_000, 4, Aggressor::Sell);
    let r = h.poll(7);
    assert_eq!(kinds(&r), vec![(ExecKind::Fill, 10_000, 2, 3)]);
    assert_eq!((r[0].client_id, r[0].leaves_qty), (id, Qty::ZERO));
    assert_eq!(h.sim.resting(), 0);
}

#[test]
fn queues_are_fifo_among_our_orders_and_shrink_with_the_shown_size() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 4), l(10_002, 7));
    let first = h.order(2, Side::Buy, TimeInForce::Gtc, 10_000, 2);
    // The book now shows 6 at 100.00 (others joined behind us); the second order is behind.
    h.quote(3, l(10_000, 6), l(10_002, 7));
    let second = h.order(4, Side::Buy, TimeInForce::Gtc, 10_000, 2);
    h.poll(4);
    assert_eq!(h.sim.queue_ahead(first), Some(Qty::from_raw(4)));
    assert_eq!(h.sim.queue_ahead(second), Some(Qty::from_raw(6)));
    // Size shown drops to 3 without a trade: cancellations ahead of us.
    h.quote(5, l(10_000, 3), l(10_002, 7));
    assert_eq!(h.sim.queue_ahead(first), Some(Qty::from_raw(3)));
    assert_eq!(h.sim.queue_ahead(second), Some(Qty::from_raw(3)));
    // 3 trade: the queue ahead of both is gone. 2 more: the first order fills, in full.
    h.trade(6, 10_000, 5, Aggressor::Sell);
    let r = h.poll(6);
    assert_eq!(kinds(&r), vec![(ExecKind::Fill, 10_000, 2, 2)]);
    assert_eq!(r[0].client_id, first);
    h.trade(7, 10_000, 1, Aggressor::Unknown);
    let r = h.poll(7);
    assert_eq!((r[0].client_id, r[0].kind, r[0].cum_qty.raw()), (second, ExecKind::PartialFill, 1));
    // The market trades through our price: the rest fills at our price.
    h.trade(8, 9_999, 1, Aggressor::Sell);
    let r = h.poll(8);
    assert_eq!(kinds(&r), vec![(ExecKind::Fill, 10_000, 1, 2)]);
}

#[test]
fn quote_reaching_a_resting_order_fills_it() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 4), l(10_003, 7));
    let id = h.order(2, Side::Sell, TimeInForce::Gtc, 10_002, 5);
    h.poll(2);
    // The bid jumps to our ask with 3 lots: 3 of ours fill at our price.
    h.quote(3, l(10_002, 3), l(10_004, 1));
    let r = h.poll(3);
    assert_eq!(kinds(&r), vec![(ExecKind::PartialFill, 10_002, 3, 3)]);
    assert_eq!(r[0].client_id, id);
}

#[test]
fn marketable_orders_walk_the_book_level_by_level() {
    let cfg =
        SimConfig { taker_fee_ppb: 1_000_000, maker_fee_ppb: -200_000, ..SimConfig::default() };
    let mut h = Harness::new(cfg);
    h.quote(1, l(10_000, 4), l(10_002, 2));
    h.sim.set_depth(A, Side::Sell, &[l(10_002, 2), l(10_003, 3), l(10_005, 10)], Nanos(1));
    // IOC buy 8 up to 100.04: takes 2 @ 100.02 and 3 @ 100.03; 100.05 is past the limit.
    let ioc = h.order(2, Side::Buy, TimeInForce::Ioc, 10_004, 8);
    let r = h.poll(2);
    assert_eq!(
        kinds(&r),
        vec![
            (ExecKind::New, 0, 0, 0),
            (ExecKind::PartialFill, 10_002, 2, 2),
            (ExecKind::PartialFill, 10_003, 3, 5),
            (ExecKind::Expired, 0, 0, 5),
        ]
    );
    assert!(r.iter().all(|x| x.client_id == ioc));
    // Taker fee 10 bp of the notional, at scale 2 + 0: 100.02 * 2 = 20004 raw -> 20.004 -> 20.
    assert_eq!((r[1].fee, r[2].fee), (20, 30));
    // What was taken is gone: a GTC buy 6 up to 100.05 takes the 100.05 level and rests
    // nothing... until the next quote refreshes the touch.
    assert_eq!(h.sim.top(A).1, Some(l(10_005, 10)));
    let gtc = h.order(3, Side::Buy, TimeInForce::Gtc, 10_006, 12);
    let r = h.poll(3);
    assert_eq!(kinds(&r), vec![(ExecKind::New, 0, 0, 0), (ExecKind::PartialFill, 10_005, 10, 10)]);
    // The rest (2) rests at 100.06, a new best bid: nothing ahead of it.
    assert_eq!(h.sim.queue_ahead(gtc), Some(Qty::ZERO));
    h.trade(4, 10_006, 5, Aggressor::Sell);
    let r = h.poll(4);
    assert_eq!(kinds(&r), vec![(ExecKind::Fill, 10_006, 2, 12)]);
    // Maker rebate: -2 bp of 100.06 * 2 = 20012 raw -> -4.0024 -> -4.
    assert_eq!(r[0].fee, -4);
}

#[test]
fn fok_post_only_and_market_orders() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 4), l(10_002, 2));
    // FOK for more than is available: nothing fills.
    h.order(2, Side::Buy, TimeInForce::Fok, 10_002, 3);
    assert_eq!(kinds(&h.poll(2)), vec![(ExecKind::New, 0, 0, 0), (ExecKind::Expired, 0, 0, 0)]);
    // Market sell 6 with protection 99.99: takes the 4 at 100.00 and expires the rest.
    h.send(
        3,
        Action::New,
        A,
        Side::Sell,
        OrdType::Market,
        TimeInForce::Ioc,
        9_999,
        6,
        ClientOrderId(0),
    );
    assert_eq!(
        kinds(&h.poll(3)),
        vec![
            (ExecKind::New, 0, 0, 0),
            (ExecKind::PartialFill, 10_000, 4, 4),
            (ExecKind::Expired, 0, 0, 4)
        ]
    );
    // Post-only that would take: rejected.
    h.order(4, Side::Buy, TimeInForce::PostOnly, 10_002, 1);
    assert_eq!(kinds(&h.poll(4)), vec![(ExecKind::Rejected, 0, 0, 0)]);
    // Post-only that rests.
    h.order(5, Side::Buy, TimeInForce::PostOnly, 10_001, 1);
    assert_eq!(kinds(&h.poll(5)), vec![(ExecKind::New, 0, 0, 0)]);
}

#[test]
fn cancels_and_replaces_keep_or_lose_queue_position() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 5), l(10_002, 7));
    let a = h.order(2, Side::Buy, TimeInForce::Gtc, 10_000, 4);
    h.poll(2);
    // Smaller at the same price: keeps its place.
    let a2 = h.replace(3, Side::Buy, a, 10_000, 3);
    let r = h.poll(3);
    assert_eq!((r[0].kind, r[0].client_id, r[0].leaves_qty.raw()), (ExecKind::Replaced, a2, 3));
    assert_eq!(h.sim.queue_ahead(a2), Some(Qty::from_raw(5)));
    h.trade(4, 10_000, 2, Aggressor::Sell);
    assert_eq!(h.sim.queue_ahead(a2), Some(Qty::from_raw(3)));
    // Larger: back of the queue (the 6 now shown are all ahead).
    h.quote(5, l(10_000, 6), l(10_002, 7));
    let a3 = h.replace(6, Side::Buy, a2, 10_000, 5);
    h.poll(6);
    assert_eq!(h.sim.queue_ahead(a3), Some(Qty::from_raw(6)));
    // To a marketable price: takes what it reaches, rests the rest at the new price.
    let a4 = h.replace(7, Side::Buy, a3, 10_002, 9);
    let r = h.poll(7);
    assert_eq!(
        kinds(&r),
        vec![(ExecKind::Replaced, 0, 0, 0), (ExecKind::PartialFill, 10_002, 7, 7)]
    );
    assert_eq!(r[1].client_id, a4);
    // Cancel it: the report names the order, with what it had filled.
    h.cancel(8, a4);
    let r = h.poll(8);
    assert_eq!((r[0].kind, r[0].client_id, r[0].cum_qty.raw()), (ExecKind::Cancelled, a4, 7));
    assert_eq!(h.sim.resting(), 0);
    assert_eq!(h.sim.tracker_stats().anomalies(), 0);
}

#[test]
fn cancel_all_cancels_every_resting_order() {
    let mut h = Harness::new(SimConfig::default());
    h.quote(1, l(10_000, 5), l(10_002, 7));
    let ids: Vec<_> =
        (0..3).map(|k| h.order(2, Side::Sell, TimeInForce::Gtc, 10_003 + k, 1)).collect();
    h.poll(2);
    assert_eq!(h.sim.resting(), 3);
    h.send(
        3,
        Action::Cancel,
        InstrumentId(u32::MAX),
        Side::Buy,
        OrdType::Limit,
        TimeInForce::Gtc,
        0,
        0,
        ClientOrderId::ALL,
    );
    let r = h.poll(3);
    let mut cancelled: Vec<_> =
        r.iter().filter(|x| x.kind == ExecKind::Cancelled).map(|x| x.client_id).collect();
    cancelled.sort();
    assert_eq!(cancelled, ids);
    assert_eq!(h.sim.resting(), 0);
}

#[test]
fn latency_delays_arrival_and_reports() {
    let mut h = Harness::new(SimConfig { latency_ns: 1_000, ..SimConfig::default() });
    h.quote(0, l(10_000, 5), l(10_002, 1));
    h.order(10, Side::Buy, TimeInForce::Ioc, 10_002, 1);
    assert_eq!(h.sim.in_flight(), 1);
    assert!(h.poll(500).is_empty(), "still on its way");
    // The ask moved before the order got there (at 1010): the order misses.
    h.quote(900, l(10_001, 5), l(10_003, 1));
    assert!(h.poll(1_500).is_empty(), "executed at 1010, report due at 2010");
    assert_eq!(kinds(&h.poll(2_010)), vec![(ExecKind::New, 0, 0, 0), (ExecKind::Expired, 0, 0, 0)]);
    assert_eq!(h.sim.in_flight(), 0);
}

#[test]
fn bad_parameters_are_rejected_by_the_exchange() {
    // Risk allows a 0.01 grid on two instruments; the exchange lists one, on a 0.05 grid.
    let risk_reg =
        Arc::new(InstrumentRegistry::build(&[spec("A", "0.01"), spec("B", "0.01")]).unwrap());
    let sim_reg = Arc::new(InstrumentRegistry::build(&[spec("A", "0.05")]).unwrap());
    let mut h = Harness::with(risk_reg, sim_reg, SimConfig::default());
    h.quote(1, l(10_000, 5), l(10_010, 7));
    h.order(2, Side::Buy, TimeInForce::Gtc, 10_001, 1);
    let b = InstrumentId(1);
    h.send(
        2,
        Action::New,
        b,
        Side::Buy,
        OrdType::Limit,
        TimeInForce::Gtc,
        10_000,
        1,
        ClientOrderId(0),
    );
    let r = h.poll(2);
    assert_eq!(r.iter().map(|x| x.kind).collect::<Vec<_>>(), vec![ExecKind::Rejected; 2]);
    // A replace to an off-grid price is refused; the order stays as it was.
    let ok = h.order(3, Side::Buy, TimeInForce::Gtc, 10_005, 2);
    h.poll(3);
    let rep = h.replace(4, Side::Buy, ok, 10_006, 2);
    let r = h.poll(4);
    // Named by the refused replacement; the original keeps its 2 open.
    assert_eq!(
        (r[0].kind, r[0].client_id, r[0].leaves_qty.raw()),
        (ExecKind::CancelRejected, rep, 2)
    );
    assert_eq!(h.sim.tracker_stats().anomalies(), 0);
}

/// A seeded mixed stream of quotes, trades, orders, cancels and replaces.
fn scripted_run(seed: u64, latency_ns: i64) -> (Vec<ExecReport>, u64) {
    let cfg = SimConfig {
        latency_ns,
        taker_fee_ppb: 500_000,
        maker_fee_ppb: -100_000,
        ..SimConfig::default()
    };
    let mut h = Harness::new(cfg);
    let mut rng = seed | 1;
    let mut rand = move || {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut mid = 10_000i64;
    let mut live: Vec<(ClientOrderId, Side)> = Vec::new();
    let mut all = Vec::new();
    for step in 0..5_000i64 {
        let now = step * 250;
        let r = rand();
        mid += (r % 3) as i64 - 1;
        match r >> 8 & 7 {
            0..=3 => h.quote(
                now,
                l(mid - 1, 1 + (r >> 16 & 15) as i64),
                l(mid + 1, 1 + (r >> 20 & 15) as i64),
            ),
            4 => {
                let aggressor = if r >> 24 & 1 == 0 { Aggressor::Buy } else { Aggressor::Sell };
                let px = if aggressor == Aggressor::Buy { mid + 1 } else { mid - 1 };
                h.trade(now, px, 1 + (r >> 28 & 7) as i64, aggressor);
            }
            5 => {
                let side = if r >> 32 & 1 == 0 { Side::Buy } else { Side::Sell };
                let tif = if r >> 33 & 1 == 0 { TimeInForce::Gtc } else { TimeInForce::Ioc };
                let off = (r >> 34 & 3) as i64 - 1;
                let px = if side == Side::Buy { mid - off } else { mid + off };
                let qty = 1 + (r >> 36 & 7) as i64;
                let new = ClientOrderId(0);
                if let Ok(id) =
                    h.try_send(now, Action::New, A, side, OrdType::Limit, tif, px, qty, new)
                {
                    live.push((id, side));
                }
            }
            6 if !live.is_empty() => {
                let (id, _) = live.swap_remove((r >> 40) as usize % live.len());
                let gtc = TimeInForce::Gtc;
                let _ =
                    h.try_send(now, Action::Cancel, A, Side::Buy, OrdType::Limit, gtc, 0, 0, id);
            }
            7 if !live.is_empty() => {
                let k = (r >> 40) as usize % live.len();
                let (id, side) = live[k];
                let px = if side == Side::Buy { mid - 2 } else { mid + 2 };
                let gtc = TimeInForce::Gtc;
                if let Ok(new) =
                    h.try_send(now, Action::Replace, A, side, OrdType::Limit, gtc, px, 9, id)
                {
                    live[k] = (new, side);
                }
            }
            _ => {}
        }
        all.extend(h.poll(now));
    }
    all.extend(h.poll(i64::MAX / 2));
    (all, h.sim.tracker_stats().anomalies())
}

#[test]
fn same_inputs_give_the_same_fills_across_two_runs() {
    for latency in [0, 700] {
        let (a, _) = scripted_run(42, latency);
        let (b, _) = scripted_run(42, latency);
        assert_eq!(a, b, "latency {latency}");
        let fills = a.iter().filter(|r| r.kind.is_fill()).count();
        let expired = a.iter().filter(|r| r.kind == ExecKind::Expired).count();
        assert!(fills > 100 && expired > 10, "a run that exercises matching: {fills} fills");
        assert!(a != scripted_run(99, latency).0, "a different seed differs");
    }
}

#[test]
fn scripted_runs_produce_no_anomalies() {
    // Every report the exchange makes must pass the tracker: the exchange and the state
    // machine agree on every path the script reaches.
    for (seed, latency) in [(7, 0), (7, 300), (11, 5_000)] {
        let (reports, anomalies) = scripted_run(seed, latency);
        assert!(!reports.is_empty());
        assert_eq!(anomalies, 0, "seed {seed}, latency {latency}");
    }
}
