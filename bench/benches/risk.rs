//! The pre-trade risk check and each strategy's per-tick cost, side by side with baselines.
//!
//! - `risk_check`: `baseline_basic` is the foundation's rule set (halt, instrument, quantity
//!   and price sane and on grid, market flags, a reference price) as a bare function;
//!   `full_approve` is [`RiskStage::check`] approving a new order with every limit configured
//!   and live state behind it (resting orders, positions, buckets, duplicate ring);
//!   `full_reject_last` fails the last check (the global message bucket), so every check runs.
//!   Each iteration is one check; approved orders are filled back out of the order table in
//!   untimed batches so the state stays steady.
//! - `strategy_tick`: one quote tick into a strategy, including its `on_exec` of the instant
//!   venue's responses to what it sent; `noop` is the harness overhead, `threshold` the
//!   embedded default's strategy.
//!
//! Criterion reports means; under `cargo bench` this file first prints p50/p99/p99.9/max of
//! per-check time (batches of 32 checks, timed together) and the ratio to the baseline.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use tickline_engine::risk::{HaltSwitch, Rate, RejectReason, RiskLimits, RiskSetup, RiskStage};
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::*;
use tickline_strategies::market_maker::{FairValue, MarketMaker, MarketMakerParams};
use tickline_strategies::momentum::{Momentum, MomentumParams};
use tickline_strategies::spread::{SpreadParams, SpreadReversion};
use tickline_strategies::threshold::{Threshold, ThresholdParams};
use tickline_strategies::Leg;

const INSTRUMENTS: u32 = 4;
/// Checks per untimed clean-up (and per timed batch in the percentile run).
const BATCH: usize = 32;

fn registry() -> Arc<InstrumentRegistry> {
    let specs: Vec<_> = (0..INSTRUMENTS)
        .map(|i| InstrumentSpec {
            symbol: format!("I{i}"),
            venue: "v".into(),
            price_scale: 2,
            qty_scale: 6,
            tick_size: "0.01".parse().unwrap(),
            lot_size: "0.00001".parse().unwrap(),
        })
        .collect();
    Arc::new(InstrumentRegistry::build(&specs).unwrap())
}

fn quote(i: u32, mid: i64, now: i64) -> Tick {
    let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1_000_000) };
    Tick::quote(InstrumentId(i), l(mid - 1), l(mid + 1), 1, Nanos(now), Nanos(now))
}

/// Every limit configured, none biting on the benchmark's flow (except `bite`).
fn limits(reg: &InstrumentRegistry, bite: bool) -> RiskLimits {
    let mut l = RiskLimits::permissive(reg);
    for i in &mut l.instruments {
        i.max_order_qty = Some(Qty::from_raw(1_000_000));
        i.max_order_notional = Some(10_000_000 * 1_000_000);
        i.price_collar_bps = Some(100);
        i.max_position = Some(Qty::from_raw(50_000_000));
        i.max_open_orders = Some(64);
        i.order_rate = Some(Rate { per_second: 100_000_000, burst: 1_000_000 });
        i.message_rate = Some(Rate { per_second: 100_000_000, burst: 1_000_000 });
    }
    l.max_open_orders = Some(256);
    l.max_gross_notional = Some(i128::from(i64::MAX));
    l.daily_loss_limit = Some(1_000_000_000_000);
    l.max_drawdown = Some(1_000_000_000_000);
    l.duplicate_window_ns = Some(1_000_000);
    l.max_quote_age_ns = Some(5_000_000_000);
    l.message_rate = Some(if bite {
        Rate { per_second: 0, burst: 0 }
    } else {
        Rate { per_second: 100_000_000, burst: 1_000_000 }
    });
    l
}

/// A risk stage with quotes on every instrument and 8 resting orders on instrument 0.
struct RiskBench {
    risk: RiskStage,
    ids: ClientOrderIdGen,
    now: i64,
    k: i64,
    approved: [Option<Order>; BATCH],
}

const MID: i64 = 6_183_763;

impl RiskBench {
    fn new(bite: bool) -> RiskBench {
        let reg = registry();
        let setup = RiskSetup::new(limits(&reg, bite));
        let mut b = RiskBench {
            risk: RiskStage::with_setup(reg, Arc::new(HaltSwitch::new()), setup),
            ids: ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)),
            now: 1_700_000_000_000_000_000,
            k: 0,
            approved: [None; BATCH],
        };
        for i in 0..INSTRUMENTS {
            b.risk.on_tick(&quote(i, MID, b.now));
        }
        if !bite {
            for j in 0..8 {
                let side = if j % 2 == 0 { Side::Buy } else { Side::Sell };
                let px = MID - side.sign() * (500 + j);
                let o = b.intent(side, px);
                b.risk.check(&o, Nanos(b.now)).expect("resting order");
            }
        }
        b
    }

    #[inline]
    fn intent(&mut self, side: Side, px: i64) -> OrderIntent {
        self.now += 1_000;
        OrderIntent {
            decided_ns: Nanos(self.now),
            tick_recv_ns: Nanos(self.now),
            client_id: self.ids.next_id(),
            target: ClientOrderId(0),
            price: Px::from_raw(px),
            // A buy and the sell after it have the same size: the position stays flat.
            qty: Qty::from_raw(100 + (self.k / 2 % 16) * 100),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            action: Action::New,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            reserved: [0; 6],
        }
    }

    /// The next order of the flow: buys and sells around the mid, never crossing ours.
    #[inline]
    fn next(&mut self) -> OrderIntent {
        self.k += 1;
        let side = if self.k % 2 == 0 { Side::Buy } else { Side::Sell };
        let px = MID - side.sign() * (1 + self.k % 64);
        self.intent(side, px)
    }

    /// Fills every order of the last batch and refreshes the quotes (untimed): keeps the
    /// table, positions and market view steady.
    fn settle(&mut self) {
        self.risk.on_tick(&quote(0, MID, self.now));
        for o in self.approved.iter_mut().filter_map(Option::take) {
            let i = o.intent;
            let r = ExecReport {
                ts: Nanos(self.now),
                client_id: i.client_id,
                venue_order_id: 1,
                last_px: i.price,
                last_qty: i.qty,
                cum_qty: i.qty,
                leaves_qty: Qty::ZERO,
                fee: 0,
                instrument: i.instrument,
                strategy: i.strategy,
                kind: ExecKind::Fill,
                side: i.side,
            };
            self.risk.on_exec(&r);
        }
    }

    /// Runs `n` checks, timing only the checks; returns the time they took.
    fn run(&mut self, n: u64, expect: Option<RejectReason>) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = n;
        while left > 0 {
            let m = left.min(BATCH as u64) as usize;
            let mut intents = [self.next(); BATCH];
            for o in intents.iter_mut().take(m).skip(1) {
                *o = self.next();
            }
            let now = Nanos(self.now);
            let t0 = Instant::now();
            for (j, o) in intents.iter().take(m).enumerate() {
                match black_box(self.risk.check(black_box(o), now)) {
                    Ok(a) => self.approved[j] = Some(a.into_inner()),
                    Err(r) => {
                        self.approved[j] = if Some(r) == expect { None } else { panic!("{r:?}") }
                    }
                }
            }
            total += t0.elapsed();
            self.settle();
            left -= m as u64;
        }
        total
    }
}

/// The foundation's basic checks, as they were before the limits (the baseline).
struct Basic {
    registry: Arc<InstrumentRegistry>,
    halt: Arc<HaltSwitch>,
    market: Vec<(Px, TickFlags)>,
}

impl Basic {
    #[inline]
    fn check(&self, intent: &OrderIntent, now: Nanos) -> Result<Order, RejectReason> {
        let Some(inst) = self.registry.get(intent.instrument) else {
            return Err(RejectReason::UnknownInstrument);
        };
        if self.halt.is_halted() {
            return Err(RejectReason::Halted);
        }
        if !intent.qty.is_positive() {
            return Err(RejectReason::BadQuantity);
        }
        if !intent.qty.is_multiple_of(inst.lot_size) {
            return Err(RejectReason::OffLotGrid);
        }
        if !intent.price.is_positive() {
            return Err(RejectReason::BadPrice);
        }
        if intent.ord_type == OrdType::Limit && !intent.price.is_multiple_of(inst.tick_size) {
            return Err(RejectReason::OffTickGrid);
        }
        let (reference, flags) = self.market[intent.instrument.index()];
        if flags.intersects(TickFlags::UNREASONABLE) {
            return Err(RejectReason::MarketDataUnreasonable);
        }
        if !reference.is_positive() {
            return Err(RejectReason::NoReferencePrice);
        }
        Ok(Order { intent: *intent, approved_ns: now })
    }
}

fn basic() -> (Basic, RiskBench) {
    let reg = registry();
    let b = Basic {
        market: vec![(Px::from_raw(MID), TickFlags::default()); reg.len()],
        registry: reg,
        halt: Arc::new(HaltSwitch::new()),
    };
    (b, RiskBench::new(false))
}

fn risk_check(c: &mut Criterion) {
    let mut g = c.benchmark_group("risk_check");
    let (base, mut flow) = basic();
    g.bench_function("baseline_basic", |bch| {
        bch.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let m = left.min(BATCH as u64) as usize;
                let intents: [OrderIntent; BATCH] = std::array::from_fn(|_| flow.next());
                let now = Nanos(flow.now);
                let t0 = Instant::now();
                for o in intents.iter().take(m) {
                    let _ = black_box(base.check(black_box(o), now));
                }
                total += t0.elapsed();
                left -= m as u64;
            }
            total
        })
    });
    let mut full = RiskBench::new(false);
    g.bench_function("full_approve", |bch| bch.iter_custom(|iters| full.run(iters, None)));
    let mut last = RiskBench::new(true);
    g.bench_function("full_reject_last", |bch| {
        bch.iter_custom(|iters| last.run(iters, Some(RejectReason::MessageRateGlobal)))
    });
    g.finish();
}

fn percentiles(name: &str, batch: impl FnMut() -> Duration) -> f64 {
    tickline_bench::batch::print_percentiles(name, BATCH, 100_000, batch)
}

fn print_percentiles() {
    println!("risk check, per check (batches of {BATCH} timed together):");
    let (base, mut flow) = basic();
    let b = percentiles("baseline_basic", || {
        let intents: [OrderIntent; BATCH] = std::array::from_fn(|_| flow.next());
        let now = Nanos(flow.now);
        let t0 = Instant::now();
        for o in &intents {
            let _ = black_box(base.check(black_box(o), now));
        }
        t0.elapsed()
    });
    let mut full = RiskBench::new(false);
    let f = percentiles("full_approve", || full.run(BATCH as u64, None));
    let mut last = RiskBench::new(true);
    let l = percentiles("full_reject_last", || {
        last.run(BATCH as u64, Some(RejectReason::MessageRateGlobal))
    });
    println!(
        "  ratio to baseline (p50): full_approve {:.2}x, full_reject_last {:.2}x",
        f / b,
        l / b
    );
}

// ---------------------------------------------------------------------------------------
// Strategies

fn leg(id: u32) -> Leg {
    Leg {
        id: InstrumentId(id),
        price_scale: Scale::new(2).unwrap(),
        qty_scale: Scale::new(6).unwrap(),
        tick: Px::from_raw(1),
        lot: Qty::from_raw(10),
    }
}

/// Does nothing: the harness overhead.
struct Noop;

impl Strategy for Noop {
    fn name(&self) -> &str {
        "noop"
    }
    fn wants(&self, _: InstrumentId) -> bool {
        true
    }
    fn on_tick(&mut self, tick: &Tick, _out: &mut OrderSink) {
        black_box(tick);
    }
}

/// 4096 quotes of a seeded random walk, alternating instruments 0 and 1.
fn ticks() -> Vec<Tick> {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut mids = [MID, MID / 20];
    (0..4096)
        .map(|k| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let i = (k % 2) as usize;
            mids[i] += (rng % 5) as i64 - 2;
            let l = |p, q| Level { px: Px::from_raw(p), qty: Qty::from_raw(q) };
            let (bq, aq) =
                (1_000 + (rng >> 8) as i64 % 10_000, 1_000 + (rng >> 24) as i64 % 10_000);
            Tick::quote(
                InstrumentId(i as u32),
                l(mids[i] - 2, bq),
                l(mids[i] + 2, aq),
                k,
                Nanos(k as i64),
                Nanos(k as i64),
            )
        })
        .collect()
}

/// The instant venue's answers: new orders fill, replaces and cancels are confirmed.
fn answer(intent: &OrderIntent) -> ExecReport {
    let (kind, qty) = match intent.action {
        Action::New => (ExecKind::Fill, intent.qty),
        Action::Replace => (ExecKind::Replaced, Qty::ZERO),
        Action::Cancel => (ExecKind::Cancelled, Qty::ZERO),
    };
    ExecReport {
        venue_order_id: 1,
        last_px: intent.price,
        last_qty: qty,
        cum_qty: qty,
        ..ExecReport::unfilled(intent, kind, intent.decided_ns)
    }
}

fn strategies() -> Vec<(&'static str, Box<dyn Strategy>)> {
    vec![
        ("noop", Box::new(Noop)),
        (
            "threshold",
            Box::new(Threshold::new(
                "threshold",
                ThresholdParams {
                    leg: leg(0),
                    threshold: Px::from_raw(5),
                    qty: Qty::from_raw(1_000),
                    max_position: Qty::from_raw(5_000),
                },
            )),
        ),
        (
            "market_maker",
            Box::new(MarketMaker::new(
                "mm",
                MarketMakerParams {
                    leg: leg(0),
                    fair: FairValue::Microprice,
                    half_spread: Px::from_raw(3),
                    qty: Qty::from_raw(1_000),
                    skew: Px::from_raw(1),
                    max_position: Qty::from_raw(5_000),
                    requote: Px::from_raw(2),
                },
            )),
        ),
        (
            "momentum",
            Box::new(
                Momentum::new(
                    "momentum",
                    MomentumParams {
                        leg: leg(0),
                        fast: 10,
                        slow: 40,
                        qty: Qty::from_raw(1_000),
                        stop_loss: Px::from_raw(10),
                        take_profit: Px::from_raw(15),
                    },
                )
                .unwrap(),
            ),
        ),
        (
            "spread",
            Box::new(
                SpreadReversion::new(
                    "spread",
                    SpreadParams {
                        a: leg(0),
                        b: leg(1),
                        window: 100,
                        entry: Px::from_raw(6),
                        exit: Px::from_raw(1),
                        qty_a: Qty::from_raw(1_000),
                        qty_b: Qty::from_raw(20_000),
                    },
                )
                .unwrap(),
            ),
        ),
    ]
}

/// One tick into `s`, then the venue's answers to what it sent into its `on_exec`.
#[inline]
fn step(s: &mut dyn Strategy, sink: &mut OrderSink, t: &Tick) -> usize {
    if !s.wants(t.instrument()) {
        return 0;
    }
    sink.begin(StrategyId(0), t.recv_ns());
    s.on_tick(t, sink);
    let n = sink.intents().len();
    for i in 0..n {
        if let Some(o) = sink.intents().get(i) {
            s.on_exec(&answer(&o), sink);
        }
    }
    sink.clear();
    n
}

fn strategy_tick(c: &mut Criterion) {
    let ticks = ticks();
    let mut g = c.benchmark_group("strategy_tick");
    for (name, mut s) in strategies() {
        let mut sink = OrderSink::new(ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)));
        let mut k = 0usize;
        g.bench_function(name, |b| {
            b.iter(|| {
                k = (k + 1) & 4095;
                black_box(step(s.as_mut(), &mut sink, &ticks[k]))
            })
        });
    }
    g.finish();
}

fn print_strategy_percentiles() {
    let ticks = ticks();
    println!("strategy per-tick cost incl. on_exec of its answers (batches of 64 ticks):");
    for (name, mut s) in strategies() {
        let mut sink = OrderSink::new(ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)));
        let mut h = hdrhistogram::Histogram::<u64>::new(3).unwrap();
        let mut sent = 0usize;
        let mut k = 0usize;
        for round in 0..40_000 {
            let t0 = Instant::now();
            for _ in 0..64 {
                k = (k + 1) & 4095;
                sent += step(s.as_mut(), &mut sink, &ticks[k]);
            }
            if round >= 1_000 {
                h.record((t0.elapsed().as_nanos() as u64 * 10 / 64).max(1)).unwrap();
            }
        }
        let f = |q: f64| h.value_at_quantile(q) as f64 / 10.0;
        println!(
            "  {name:<14} p50 {:>7.1} ns  p99 {:>7.1} ns  p99.9 {:>7.1} ns  max {:>8.1} ns  ({sent} intents)",
            f(0.5),
            f(0.99),
            f(0.999),
            h.max() as f64 / 10.0
        );
    }
}

criterion_group!(benches, risk_check, strategy_tick);

/// `RISK_BENCH_ONLY=basic|approve|reject` (and `RISK_BENCH_N`, default 10M): just that flow,
/// for `perf stat` or `valgrind --tool=callgrind`.
fn only(mode: &str) {
    let n: u64 =
        std::env::var("RISK_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000_000);
    const N_ALIGN: u64 = BATCH as u64;
    let n = n / N_ALIGN * N_ALIGN;
    let t = match mode {
        "basic" => {
            let (base, mut flow) = basic();
            let mut total = Duration::ZERO;
            for _ in 0..n / BATCH as u64 {
                let intents: [OrderIntent; BATCH] = std::array::from_fn(|_| flow.next());
                let now = Nanos(flow.now);
                let t0 = Instant::now();
                for o in &intents {
                    let _ = black_box(base.check(black_box(o), now));
                }
                total += t0.elapsed();
            }
            total
        }
        "approve" => RiskBench::new(false).run(n, None),
        _ => RiskBench::new(true).run(n, Some(RejectReason::MessageRateGlobal)),
    };
    println!("{mode}: {:.1} ns per check (mean)", t.as_nanos() as f64 / n as f64);
}

fn main() {
    if let Ok(mode) = std::env::var("RISK_BENCH_ONLY") {
        only(&mode);
        return;
    }
    if std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--list") {
        print_percentiles();
        print_strategy_percentiles();
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
