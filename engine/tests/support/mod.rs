//! Test stages: a counting feed, a strategy that orders every k-th tick, an echo venue and a
//! counting record sink. None allocates after construction.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tickline_engine::config::{LayoutConfig, LayoutMode, RingConfig, RingsConfig, ThreadConfig};
use tickline_engine::record::{Record, RecordBody, RecordKind, RecordSink};
use tickline_engine::ring::{FullPolicy, WaitStrategy};
use tickline_engine::risk::{HaltSwitch, RiskApproved, RiskLimits, RiskSetup};
use tickline_engine::runtime::{auto, resolve, PipelineParts, Plan};
use tickline_engine::stage::{ExecBatch, Feed, FeedStatus, OrderSink, Strategy, TickBatch, Venue};
use tickline_engine::types::*;

pub fn registry() -> Arc<InstrumentRegistry> {
    let spec = |s: &str| InstrumentSpec {
        symbol: s.into(),
        venue: "test".into(),
        price_scale: 2,
        qty_scale: 0,
        tick_size: "0.01".parse().unwrap(),
        lot_size: "1".parse().unwrap(),
    };
    Arc::new(InstrumentRegistry::build(&[spec("A"), spec("B")]).unwrap())
}

/// Switches something on (true) or off (false) at a tick count, on the feed's thread.
pub type Hook = (u64, u64, fn(bool));

/// Quotes alternating instruments A and B; finite (`limit`) or endless (`limit == 0`).
pub struct CountFeed {
    pub name: String,
    pub limit: u64,
    pub produced: u64,
    pub stopped: bool,
    pub panic_at: Option<u64>,
    /// Called (on the feed's thread) when `produced` reaches these counts.
    pub hook: Option<Hook>,
    /// Stamps each tick with a clock read of its own, as a socket feed stamps a frame when
    /// it reads it: later than the loop's read the poll was given.
    pub own_clock: bool,
}

impl CountFeed {
    pub fn new(name: &str, limit: u64) -> CountFeed {
        CountFeed {
            name: name.into(),
            limit,
            produced: 0,
            stopped: false,
            panic_at: None,
            hook: None,
            own_clock: false,
        }
    }
}

impl Feed for CountFeed {
    fn name(&self) -> &str {
        &self.name
    }

    fn poll(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus {
        if self.stopped {
            return FeedStatus::Finished;
        }
        while !out.is_full() {
            if self.limit > 0 && self.produced >= self.limit {
                return FeedStatus::Finished;
            }
            if Some(self.produced) == self.panic_at {
                panic!("feed {} exploded at tick {}", self.name, self.produced);
            }
            if let Some((on, off, f)) = self.hook {
                if self.produced == on {
                    f(true);
                }
                if self.produced == off {
                    f(false);
                }
            }
            let now = if self.own_clock { Clock::now() } else { now };
            let k = self.produced as i64;
            let bid = Level { px: Px::from_raw(10_000 + k % 50), qty: Qty::from_raw(5) };
            let ask = Level { px: Px::from_raw(10_001 + k % 50), qty: Qty::from_raw(5) };
            let t = Tick::quote(
                InstrumentId((self.produced % 2) as u32),
                bid,
                ask,
                self.produced,
                now,
                now,
            );
            let _ = out.push(t);
            self.produced += 1;
        }
        FeedStatus::Live
    }

    fn stop(&mut self) {
        self.stopped = true;
    }
}

/// Buys one lot at the bid on every `every`-th tick of instrument A.
pub struct EveryK {
    pub every: u64,
    pub seen: u64,
    pub panic_at: Option<u64>,
}

impl Strategy for EveryK {
    fn name(&self) -> &str {
        "every-k"
    }
    fn wants(&self, i: InstrumentId) -> bool {
        i == InstrumentId(0)
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut OrderSink) {
        self.seen += 1;
        if Some(self.seen) == self.panic_at {
            panic!("strategy gave up at tick {}", self.seen);
        }
        if self.seen % self.every == 0 {
            let bid = tick.bid().unwrap();
            let _ = out.new_order(
                tick.instrument(),
                Side::Buy,
                OrdType::Limit,
                TimeInForce::Ioc,
                bid.px,
                Qty::from_raw(1),
            );
        }
    }
}

/// Acknowledges and fills every order on the next poll.
pub struct EchoVenue {
    pub queue: VecDeque<ExecReport>,
    pub panic_at: Option<u64>,
    pub orders: u64,
}

impl EchoVenue {
    pub fn new() -> EchoVenue {
        EchoVenue { queue: VecDeque::with_capacity(1 << 16), panic_at: None, orders: 0 }
    }
}

impl Venue for EchoVenue {
    fn name(&self) -> &str {
        "echo"
    }
    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos) {
        self.orders += 1;
        if Some(self.orders) == self.panic_at {
            panic!("venue lost its connection");
        }
        let i = order.get().intent;
        let r = |kind, q: i64| ExecReport {
            ts: now,
            client_id: i.client_id,
            venue_order_id: self.orders,
            last_px: i.price,
            last_qty: Qty::from_raw(q),
            cum_qty: Qty::from_raw(q),
            leaves_qty: Qty::from_raw(1 - q),
            fee: 0,
            instrument: i.instrument,
            strategy: i.strategy,
            kind,
            side: i.side,
        };
        self.queue.push_back(r(ExecKind::New, 0));
        self.queue.push_back(r(ExecKind::Fill, 1));
    }
    fn poll(&mut self, _now: Nanos, out: &mut ExecBatch) {
        while !out.is_full() {
            match self.queue.pop_front() {
                Some(r) => {
                    let _ = out.push(r);
                }
                None => break,
            }
        }
    }
    fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

/// Counts records by kind, and approved orders whose stamps run backwards: decided before
/// the tick that prompted them was received, or approved before they were decided.
#[derive(Clone, Default)]
pub struct CountSink(pub Arc<[AtomicU64; 8]>, pub Arc<AtomicU64>);

impl CountSink {
    pub fn count(&self, k: RecordKind) -> u64 {
        self.0[k as usize].load(Ordering::Relaxed)
    }

    pub fn misstamped(&self) -> u64 {
        self.1.load(Ordering::Relaxed)
    }
}

impl RecordSink for CountSink {
    fn record(&mut self, r: &Record) -> std::io::Result<()> {
        self.0[r.kind as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(RecordBody::Approved(o)) = Record::decode(r.kind, r.payload()) {
            let i = o.intent;
            if i.decided_ns < i.tick_recv_ns || o.approved_ns < i.decided_ns {
                self.1.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn fused_plan() -> Plan {
    auto(1, &[], WaitStrategy::spin_yield(), false)
}

/// Feeds on their own thread, strategy+risk on another, gateway on a third.
pub fn split_plan(feeds: &[&str]) -> Plan {
    let t = |name: &str, stages: &[&str]| ThreadConfig {
        name: name.into(),
        stages: stages.iter().map(|s| s.to_string()).collect(),
        core: None,
        wait: "spin-yield".into(),
    };
    let cfg = LayoutConfig {
        mode: LayoutMode::Explicit,
        threads: vec![
            t("md", &["feeds"]),
            t("trade", &["strategy", "risk"]),
            t("gw", &["gateway"]),
        ],
        ..LayoutConfig::default()
    };
    let names: Vec<String> = feeds.iter().map(|s| s.to_string()).collect();
    resolve(&cfg, &names, &[]).unwrap()
}

pub fn lossless_rings() -> RingsConfig {
    RingsConfig {
        ticks: RingConfig { capacity: 1024, policy: FullPolicy::Block },
        ..RingsConfig::default()
    }
}

pub fn parts(
    feeds: Vec<Box<dyn Feed>>,
    strategy: EveryK,
    venue: EchoVenue,
    sink: Option<CountSink>,
    plan: Plan,
) -> PipelineParts {
    let registry = registry();
    PipelineParts {
        risk: RiskSetup::new(RiskLimits::permissive(&registry)),
        registry,
        feeds,
        strategies: vec![Box::new(strategy)],
        venue: Box::new(venue),
        recorder: sink.map(|s| Box::new(s) as Box<dyn RecordSink>),
        rings: lossless_rings(),
        plan,
        halt: Arc::new(HaltSwitch::new()),
        order_ids: ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000)),
    }
}
