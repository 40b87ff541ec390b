//! Risk in a running pipeline: every reject is journaled as an event with its reason and told
//! to the strategy that sent it; the kill switch and automatic halts pull every open order.

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::*;
use tickline_engine::record::{Record, RecordBody, RecordKind, RecordSink};
use tickline_engine::risk::{
    HaltCause, HaltSwitch, Rate, RejectReason, RiskApproved, RiskLimits, RiskSetup,
};
use tickline_engine::runtime::{Command, Outcome, Pipeline, PipelineParts};
use tickline_engine::stage::{ExecBatch, Feed, OrderSink, Strategy, Venue};
use tickline_engine::types::*;

const REASONS: usize = RejectReason::ALL.len();

fn registry() -> Arc<InstrumentRegistry> {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        venue: "test".into(),
        price_scale: 2,
        qty_scale: 0,
        tick_size: "0.05".parse().unwrap(),
        lot_size: "1".parse().unwrap(),
    };
    Arc::new(InstrumentRegistry::build(&[spec("A"), spec("B")]).unwrap())
}

/// Counts records by kind and rejects by reason.
#[derive(Clone, Default)]
struct ReasonSink {
    kinds: Arc<[AtomicU64; 8]>,
    reasons: Arc<[AtomicU64; REASONS]>,
    cancel_alls: Arc<AtomicU64>,
}

impl RecordSink for ReasonSink {
    fn record(&mut self, r: &Record) -> std::io::Result<()> {
        self.kinds[r.kind as usize].fetch_add(1, Ordering::Relaxed);
        match Record::decode(r.kind, r.payload()) {
            Some(RecordBody::Rejected(rej)) => {
                self.reasons[rej.reason.index()].fetch_add(1, Ordering::Relaxed);
            }
            Some(RecordBody::Approved(o)) if o.intent.target == ClientOrderId::ALL => {
                self.cancel_alls.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// On every tick of A, one intent from a cycle of good and bad ones.
struct Mixed {
    seen: u64,
    notices: Arc<AtomicU64>,
}

const CYCLE: u64 = 9;

impl Strategy for Mixed {
    fn name(&self) -> &str {
        "mixed"
    }
    fn wants(&self, i: InstrumentId) -> bool {
        i == InstrumentId(0)
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let Some(bid) = tick.bid() else { return };
        let px = bid.px.raw() / 5 * 5;
        let k = self.seen % CYCLE;
        self.seen += 1;
        let a = InstrumentId(0);
        let new = |out: &mut OrderSink, inst, px: i64, qty: i64| {
            let _ = out.new_order(
                inst,
                Side::Buy,
                OrdType::Limit,
                TimeInForce::Ioc,
                Px::from_raw(px),
                Qty::from_raw(qty),
            );
        };
        match k {
            0 => new(out, a, px, 1),
            1 => new(out, a, px, 0),
            2 => new(out, a, px, -1),
            3 => new(out, a, px + 1, 1),
            4 => new(out, InstrumentId(7), px, 1),
            5 => new(out, a, px, 6),
            6 => new(out, a, 0, 1),
            7 => {
                let _ = out.cancel(a, Side::Buy, ClientOrderId(42));
            }
            _ => new(out, a, px * 2 / 5 * 5, 1),
        }
    }
    fn on_exec(&mut self, report: &ExecReport, _out: &mut OrderSink) {
        if report.kind == ExecKind::Rejected && report.venue_order_id == 0 {
            self.notices.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn limits(reg: &InstrumentRegistry) -> RiskLimits {
    let mut l = RiskLimits::permissive(reg);
    l.instruments[0].max_order_qty = Some(Qty::from_raw(5));
    l.instruments[0].price_collar_bps = Some(1_000);
    l
}

fn finished(p: &Pipeline) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !p.is_finished() {
        assert!(std::time::Instant::now() < deadline, "pipeline did not finish (hang guard)");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn parts(
    registry: Arc<InstrumentRegistry>,
    feed: Box<dyn Feed>,
    strategy: Box<dyn Strategy>,
    venue: Box<dyn Venue>,
    sink: &ReasonSink,
    setup: RiskSetup,
) -> PipelineParts {
    PipelineParts {
        registry,
        feeds: vec![feed],
        strategies: vec![strategy],
        venue,
        recorder: Some(Box::new(sink.clone())),
        rings: lossless_rings(),
        plan: fused_plan(),
        halt: Arc::new(HaltSwitch::new()),
        risk: setup,
        order_ids: ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)),
    }
}

#[test]
fn every_reject_is_journaled_with_its_reason_and_told_to_the_strategy() {
    const N: u64 = 18_000; // 9_000 ticks of A: 1_000 of each intent in the cycle
    let sink = ReasonSink::default();
    let notices = Arc::new(AtomicU64::new(0));
    let reg = registry();
    let p = Pipeline::start(parts(
        Arc::clone(&reg),
        Box::new(CountFeed::new("f", N)),
        Box::new(Mixed { seen: 0, notices: Arc::clone(&notices) }),
        Box::new(EchoVenue::new()),
        &sink,
        RiskSetup::new(limits(&reg)),
    ))
    .unwrap();
    finished(&p);
    let risk = Arc::clone(p.risk());
    assert_eq!(p.join(), Outcome::Clean);
    let per = N / 2 / CYCLE;
    let expected = [
        (RejectReason::BadQuantity, 2 * per),
        (RejectReason::OffTickGrid, per),
        (RejectReason::UnknownInstrument, per),
        (RejectReason::MaxOrderQty, per),
        (RejectReason::BadPrice, per),
        (RejectReason::UnknownTarget, per),
        (RejectReason::PriceCollar, per),
    ];
    for (reason, n) in expected {
        assert_eq!(risk.rejects_of(reason), n, "{reason:?} counted");
        assert_eq!(sink.reasons[reason.index()].load(Ordering::Relaxed), n, "{reason:?} journaled");
    }
    assert_eq!(risk.rejects_total(), 8 * per, "nothing else refused");
    assert_eq!(risk.approved.get(), per, "the good one passed every time");
    assert_eq!(sink.kinds[RecordKind::Rejected as usize].load(Ordering::Relaxed), 8 * per);
    assert_eq!(sink.kinds[RecordKind::Approved as usize].load(Ordering::Relaxed), per);
    assert_eq!(notices.load(Ordering::Relaxed), 8 * per, "each reject told to its strategy");
    // Fills moved the position: `per` buys of one lot.
    let pos = risk.positions.snapshot();
    assert_eq!(pos[0].position, rust_decimal::Decimal::from(per));
    assert_eq!(pos[0].fills, per);
}

/// Acknowledges orders and leaves them resting; cancels (one or all) come back `Cancelled`.
struct RestingVenue {
    open: Vec<ExecReport>,
    queue: VecDeque<ExecReport>,
    cancel_alls: Arc<AtomicU64>,
}

impl RestingVenue {
    fn new(cancel_alls: Arc<AtomicU64>) -> RestingVenue {
        RestingVenue {
            open: Vec::with_capacity(4096),
            queue: VecDeque::with_capacity(1 << 16),
            cancel_alls,
        }
    }
}

impl Venue for RestingVenue {
    fn name(&self) -> &str {
        "resting"
    }
    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos) {
        let i = order.get().intent;
        let r = ExecReport {
            ts: now,
            client_id: i.client_id,
            venue_order_id: 1,
            last_px: Px::ZERO,
            last_qty: Qty::ZERO,
            cum_qty: Qty::ZERO,
            leaves_qty: i.qty,
            fee: 0,
            instrument: i.instrument,
            strategy: i.strategy,
            kind: ExecKind::New,
            side: i.side,
        };
        match i.action {
            Action::New => {
                self.open.push(r);
                self.queue.push_back(r);
            }
            Action::Cancel if i.target == ClientOrderId::ALL => {
                self.cancel_alls.fetch_add(1, Ordering::Relaxed);
                for mut o in self.open.drain(..) {
                    o.kind = ExecKind::Cancelled;
                    self.queue.push_back(o);
                }
            }
            _ => {}
        }
    }
    fn poll(&mut self, _now: Nanos, out: &mut ExecBatch) {
        while !out.is_full() {
            let Some(r) = self.queue.pop_front() else { break };
            let _ = out.push(r);
        }
    }
    fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

/// Quotes one order per tick of A, 5 ticks below the bid so it rests.
struct Quoter;

impl Strategy for Quoter {
    fn name(&self) -> &str {
        "quoter"
    }
    fn wants(&self, i: InstrumentId) -> bool {
        i == InstrumentId(0)
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        let Some(bid) = tick.bid() else { return };
        let px = bid.px.raw() / 5 * 5 - 25;
        let _ = out.new_order(
            tick.instrument(),
            Side::Buy,
            OrdType::Limit,
            TimeInForce::Gtc,
            Px::from_raw(px),
            Qty::from_raw(1),
        );
    }
}

#[test]
fn kill_switch_halts_and_pulls_every_open_order() {
    let sink = ReasonSink::default();
    let cancel_alls = Arc::new(AtomicU64::new(0));
    let reg = registry();
    let mut l = RiskLimits::permissive(&reg);
    l.instruments[0].max_open_orders = Some(20);
    let p = Pipeline::start(parts(
        Arc::clone(&reg),
        Box::new(CountFeed::new("f", 0)),
        Box::new(Quoter),
        Box::new(RestingVenue::new(Arc::clone(&cancel_alls))),
        &sink,
        RiskSetup::new(l),
    ))
    .unwrap();
    let risk = Arc::clone(p.risk());
    let wait = Duration::from_secs(10);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while risk.rejects_of(RejectReason::MaxOpenOrdersInstrument) == 0 {
        assert!(std::time::Instant::now() < deadline, "orders never reached the limit");
        std::thread::yield_now();
    }
    assert_eq!(risk.open_orders.get(), 20, "resting orders counted");
    let cmd = Command::SetRiskLimit {
        name: "kill_switch".into(),
        instrument: None,
        value: rust_decimal::Decimal::ONE,
    };
    let note = p.control().call(cmd, "test", wait).unwrap();
    assert!(note.contains("kill switch"), "{note}");
    assert_eq!(p.lifecycle().halt().cause(), HaltCause::Operator);
    assert_eq!(cancel_alls.load(Ordering::Relaxed), 1, "cancel-all reached the venue");
    while risk.open_orders.get() != 0 {
        assert!(std::time::Instant::now() < deadline, "cancels never came back");
        std::thread::yield_now();
    }
    let halted = risk.rejects_of(RejectReason::Halted);
    std::thread::sleep(Duration::from_millis(50));
    assert!(risk.rejects_of(RejectReason::Halted) > halted, "new orders refused while halted");
    p.stop();
    finished(&p);
    assert_eq!(p.join(), Outcome::Clean);
}

#[test]
fn automatic_halt_on_repeated_executions_cancels_all_and_holds() {
    let sink = ReasonSink::default();
    // Tick 0.01: every price EveryK sends is on the grid.
    let reg = support::registry();
    let mut l = RiskLimits::permissive(&reg);
    l.execution_throttle = Some(Rate { per_second: 1, burst: 10 });
    let p = Pipeline::start(parts(
        Arc::clone(&reg),
        Box::new(CountFeed::new("f", 20_000)),
        Box::new(EveryK { every: 10, seen: 0, panic_at: None }),
        Box::new(EchoVenue::new()),
        &sink,
        RiskSetup::new(l),
    ))
    .unwrap();
    finished(&p);
    let risk = Arc::clone(p.risk());
    let halt = Arc::clone(p.lifecycle().halt());
    assert_eq!(p.join(), Outcome::Clean);
    assert_eq!(halt.cause(), HaltCause::RiskLimit, "tripped and held to the end");
    assert_eq!(risk.auto_halts.get(), 1);
    assert!(risk.rejects_of(RejectReason::ExecutionThrottle) > 0);
    // The 11th fill trips it; orders already in the same feed batch may have passed before
    // that fill came back, and one cancel-all follows. Nothing passes after.
    assert_eq!(sink.cancel_alls.load(Ordering::Relaxed), 1, "one automatic cancel-all");
    let approved = risk.approved.get();
    assert!((12..=20).contains(&approved), "{approved} approved");
    let reasons: u64 = sink.reasons.iter().map(|c| c.load(Ordering::Relaxed)).sum();
    assert_eq!(reasons, risk.rejects_total(), "every reject journaled");
}
