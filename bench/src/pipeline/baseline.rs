//! The channel baselines: tickline's own stages (built by the same wiring from the same
//! config), a thread per stage, joined by bounded channels with blocking receives, the way a
//! pipeline is usually first written.
//!
//! ```text
//! feeds ──ticks──▶ strategy + risk ──orders──▶ gateway
//!                   ▲   │                          │
//!                   │   └──records──▶ recorder     │
//!                   └─────────exec reports─────────┘
//! ```
//!
//! The strategy thread drains exec reports (`try_recv`) before each tick and otherwise blocks
//! on the tick channel. Exec reports have their own channel, sized like tickline's exec ring
//! (four times the orders channel), so the orders/exec cycle cannot deadlock: the gateway holds
//! at most the orders channel's worth of orders, and each yields at most two reports.
//! The stage logic is the same as the engine's hot thread: risk sees every tick first, the
//! strategies that want the instrument run, every intent goes through the risk check, an
//! approved order goes to the gateway and a rejected one back to its strategy, and every tick,
//! decision and report is recorded.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tickline_engine::alloc_count;
use tickline_engine::record::{Record, RecordSink};
use tickline_engine::ring::WaitStrategy;
use tickline_engine::risk::{RiskApproved, RiskReject, RiskStage};
use tickline_engine::runtime::PipelineParts;
use tickline_engine::stage::{ExecBatch, Feed, FeedStatus, OrderSink, Strategy, TickBatch, Venue};
use tickline_engine::types::{
    Clock, ExecKind, ExecReport, Nanos, Order, OrderIntent, StrategyId, Tick,
};
use tickline_tools::config::Loaded;

use super::{new_histogram, Cores, Window, WindowStats};

/// How long an idle blocking receive waits before looking around (exec reports, shutdown).
const IDLE: Duration = Duration::from_millis(1);
/// Idle time between two journal flushes, as tickline's recorder does.
const FLUSH_PERIOD: Duration = Duration::from_millis(10);
/// How long the gateway waits at shutdown for the venue's last responses.
const DRAIN_TIMEOUT: Duration = Duration::from_millis(500);

const MEASURING: u8 = 1;
const DONE: u8 = 2;

/// A receive's result.
pub(crate) enum Recv<T> {
    Got(T),
    Empty,
    Closed,
}

/// A channel implementation.
pub(crate) trait Flavor {
    type Tx<T: Send + 'static>: Send + 'static;
    type Rx<T: Send + 'static>: Send + 'static;
    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Blocks while the channel is full; `false` once the receiver is gone.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool;
    fn recv_timeout<T: Send + 'static>(rx: &Self::Rx<T>, d: Duration) -> Recv<T>;
    fn try_recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Recv<T>;
}

/// `crossbeam_channel::bounded`.
pub(crate) struct Crossbeam;

impl Flavor for Crossbeam {
    type Tx<T: Send + 'static> = crossbeam_channel::Sender<T>;
    type Rx<T: Send + 'static> = crossbeam_channel::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        crossbeam_channel::bounded(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).is_ok()
    }

    fn recv_timeout<T: Send + 'static>(rx: &Self::Rx<T>, d: Duration) -> Recv<T> {
        match rx.recv_timeout(d) {
            Ok(v) => Recv::Got(v),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => Recv::Empty,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Recv::Closed,
        }
    }

    fn try_recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Recv<T> {
        match rx.try_recv() {
            Ok(v) => Recv::Got(v),
            Err(crossbeam_channel::TryRecvError::Empty) => Recv::Empty,
            Err(crossbeam_channel::TryRecvError::Disconnected) => Recv::Closed,
        }
    }
}

/// `std::sync::mpsc::sync_channel`.
pub(crate) struct StdMpsc;

impl Flavor for StdMpsc {
    type Tx<T: Send + 'static> = std::sync::mpsc::SyncSender<T>;
    type Rx<T: Send + 'static> = std::sync::mpsc::Receiver<T>;

    fn bounded<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        std::sync::mpsc::sync_channel(cap)
    }

    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).is_ok()
    }

    fn recv_timeout<T: Send + 'static>(rx: &Self::Rx<T>, d: Duration) -> Recv<T> {
        match rx.recv_timeout(d) {
            Ok(v) => Recv::Got(v),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Recv::Empty,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Recv::Closed,
        }
    }

    fn try_recv<T: Send + 'static>(rx: &Self::Rx<T>) -> Recv<T> {
        match rx.try_recv() {
            Ok(v) => Recv::Got(v),
            Err(std::sync::mpsc::TryRecvError::Empty) => Recv::Empty,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Recv::Closed,
        }
    }
}

/// Counters the stage threads share with the harness thread.
#[derive(Debug, Default)]
struct Shared {
    /// Ticks the strategy thread handled.
    handled: AtomicU64,
    /// Sends that failed (a receiver gone) and orders approved after the gateway closed.
    lost: AtomicU64,
    /// Whether the gateway records latencies: 0 while warming up, then [`MEASURING`], then
    /// [`DONE`].
    window: AtomicU8,
    /// Tells the feed thread to stop.
    stop: AtomicBool,
}

fn spawn<R: Send + 'static>(
    name: &str,
    core: Option<usize>,
    f: impl FnOnce() -> R + Send + 'static,
) -> anyhow::Result<JoinHandle<R>> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            if let Some(id) = core {
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            f()
        })
        .map_err(|e| anyhow::anyhow!("spawning baseline thread {name}: {e}"))
}

fn join<R>(h: JoinHandle<R>, name: &str) -> anyhow::Result<R> {
    h.join().map_err(|_| anyhow::anyhow!("baseline thread {name} panicked"))
}

/// Runs the stages `loaded` builds on channels of flavour `F` and measures them.
pub(crate) fn run<F: Flavor + 'static>(
    loaded: &Loaded,
    window: &Window,
    wait: &str,
    cores: Cores,
) -> anyhow::Result<WindowStats> {
    // Built exactly as tickline's own run builds them (journal opened first, ids continuing).
    let PipelineParts {
        registry,
        feeds,
        strategies,
        venue,
        recorder,
        rings,
        halt,
        risk,
        order_ids,
        ..
    } = tickline_tools::wiring::build_for_run(loaded, None, None)?.parts;
    let routes: Vec<Vec<u16>> =
        tickline_engine::stage::strategy_routes(registry.len(), &strategies);
    let wait = WaitStrategy::from_name(wait).unwrap_or(WaitStrategy::spin_yield());

    let (tick_tx, tick_rx) = F::bounded::<Tick>(rings.ticks.capacity);
    let (order_tx, order_rx) = F::bounded::<RiskApproved<Order>>(rings.orders.capacity);
    let (exec_tx, exec_rx) =
        F::bounded::<ExecReport>(rings.exec.capacity.max(4 * rings.orders.capacity));
    let (record_tx, recorder_thread) = match recorder {
        Some(sink) => {
            let (tx, rx) = F::bounded::<Record>(rings.records.capacity);
            (Some(tx), Some(spawn("recorder", cores.aux, move || record_loop::<F>(sink, &rx))?))
        }
        None => (None, None),
    };
    let shared = Arc::new(Shared::default());

    let strategy = StrategySide::<F> {
        strategies,
        routes,
        sink: OrderSink::new(order_ids),
        risk: RiskStage::with_setup(Arc::clone(&registry), halt, risk),
        orders: Some(order_tx),
        records: record_tx,
        shared: Arc::clone(&shared),
        ticks: 0,
    };
    let s = Arc::clone(&shared);
    let gateway =
        spawn("gateway", cores.gateway, move || gateway_loop::<F>(venue, &order_rx, &exec_tx, &s))?;
    let strategy = spawn("strategy", cores.strategy, move || strategy.run(&tick_rx, &exec_rx))?;
    let s = Arc::clone(&shared);
    let feeds = spawn("feeds", cores.feeds, move || feed_loop::<F>(feeds, &tick_tx, wait, &s))?;

    std::thread::sleep(window.warmup);
    let t0 = shared.handled.load(Ordering::Relaxed);
    let a0 = alloc_count::total();
    let start = Instant::now();
    shared.window.store(MEASURING, Ordering::Relaxed);
    std::thread::sleep(window.measure);
    shared.window.store(DONE, Ordering::Relaxed);
    let a1 = alloc_count::total();
    let end = Instant::now();
    let t1 = shared.handled.load(Ordering::Relaxed);
    shared.stop.store(true, Ordering::Relaxed);

    join(feeds, "feeds")?;
    join(strategy, "strategy")?;
    let hist = join(gateway, "gateway")?;
    let records = match recorder_thread {
        Some(h) => join(h, "recorder")??,
        None => 0,
    };
    Ok(WindowStats {
        secs: end.duration_since(start).as_secs_f64(),
        ticks: t1 - t0,
        hist,
        conflated: 0,
        dropped: 0,
        lost: shared.lost.load(Ordering::Relaxed),
        allocs: a1 - a0,
        records,
    })
}

/// The feeds thread: polls every feed and sends what they produce, blocking while the ticks
/// channel is full, waiting as tickline's feed thread does while nothing is due.
fn feed_loop<F: Flavor>(
    mut feeds: Vec<Box<dyn Feed>>,
    tx: &F::Tx<Tick>,
    wait: WaitStrategy,
    shared: &Shared,
) {
    let mut waiter = wait.waiter();
    let mut batch = TickBatch::new();
    'run: while !shared.stop.load(Ordering::Relaxed) {
        let now = Clock::now();
        let (mut live, mut sent) = (false, 0usize);
        for f in &mut feeds {
            batch.clear();
            live |= f.poll(now, &mut batch) == FeedStatus::Live;
            for i in 0..batch.len() {
                let Some(t) = batch.get(i) else { continue };
                if !F::send(tx, t) {
                    shared.lost.fetch_add(1, Ordering::Relaxed);
                    break 'run;
                }
                sent += 1;
            }
        }
        if !live {
            break;
        }
        if sent == 0 {
            waiter.idle();
        } else {
            waiter.reset();
        }
    }
    for f in &mut feeds {
        f.stop();
    }
    // Dropping the sender (at return) tells the strategy thread the feeds ended.
}

/// The strategy thread's stages: risk, strategies, and the sends to gateway and recorder.
struct StrategySide<F: Flavor> {
    strategies: Vec<Box<dyn Strategy>>,
    routes: Vec<Vec<u16>>,
    sink: OrderSink,
    risk: RiskStage,
    orders: Option<F::Tx<RiskApproved<Order>>>,
    records: Option<F::Tx<Record>>,
    shared: Arc<Shared>,
    ticks: u64,
}

impl<F: Flavor> StrategySide<F> {
    fn run(mut self, ticks: &F::Rx<Tick>, execs: &F::Rx<ExecReport>) {
        let mut feeds_done = false;
        loop {
            let mut execs_closed = false;
            loop {
                match F::try_recv(execs) {
                    Recv::Got(r) => self.on_exec(r),
                    Recv::Empty => break,
                    Recv::Closed => {
                        execs_closed = true;
                        break;
                    }
                }
            }
            if feeds_done {
                // The gateway is draining: take its last reports until it hangs up.
                if execs_closed {
                    return;
                }
                if let Recv::Got(r) = F::recv_timeout(execs, IDLE) {
                    self.on_exec(r);
                }
                continue;
            }
            match F::recv_timeout(ticks, IDLE) {
                Recv::Got(t) => self.on_tick(t),
                Recv::Empty => {}
                Recv::Closed => {
                    feeds_done = true;
                    // Hanging up the orders channel lets the gateway drain and exit.
                    self.orders = None;
                }
            }
        }
    }

    fn record(&self, r: Record) {
        if let Some(tx) = &self.records {
            if !F::send(tx, r) {
                self.shared.lost.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn on_tick(&mut self, t: Tick) {
        self.ticks += 1;
        self.shared.handled.store(self.ticks, Ordering::Relaxed);
        self.risk.on_tick(&t);
        if self.risk.take_cancel_all() {
            self.cancel_all();
        }
        if let Some(route) = self.routes.get(t.instrument().index()) {
            for &i in route {
                if let Some(s) = self.strategies.get_mut(usize::from(i)) {
                    self.sink.begin(StrategyId(i), t.recv_ns());
                    s.on_tick(&t, &mut self.sink);
                }
            }
        }
        self.record(Record::tick(t.recv_ns(), &t));
        self.route();
        self.risk.settle();
    }

    fn on_exec(&mut self, r: ExecReport) {
        self.record(Record::exec(Clock::now(), &r));
        self.risk.on_exec(&r);
        if self.risk.take_cancel_all() {
            self.cancel_all();
        }
        if let Some(s) = self.strategies.get_mut(usize::from(r.strategy.0)) {
            self.sink.begin(r.strategy, Nanos::ZERO);
            s.on_exec(&r, &mut self.sink);
        }
        self.route();
    }

    fn cancel_all(&mut self) {
        self.sink.begin(StrategyId(u16::MAX), Nanos::ZERO);
        let _ = self.sink.cancel_all();
    }

    /// Every intent in the sink through risk, as the engine's hot thread routes them.
    fn route(&mut self) {
        let mut i = 0;
        while let Some(intent) = self.sink.intents().get(i) {
            i += 1;
            // Sent before risk commits what the order uses, as the engine hands it off.
            match self.risk.approve_with(&intent, Clock::now) {
                Ok(approval) => {
                    let order = approval.order();
                    let sent = self.orders.as_ref().is_some_and(|tx| F::send(tx, order));
                    self.risk.commit(approval);
                    if !sent {
                        self.shared.lost.fetch_add(1, Ordering::Relaxed);
                    }
                    self.record(Record::approved(order.get().approved_ns, order.get()));
                }
                Err(reason) => {
                    let now = Clock::now();
                    let reject = RiskReject { intent, ts: now, reason, reserved: [0; 7] };
                    self.record(Record::rejected(now, &reject));
                    self.notify_reject(&intent, now);
                }
            }
        }
        self.sink.clear();
    }

    fn notify_reject(&mut self, intent: &OrderIntent, now: Nanos) {
        let Some(s) = self.strategies.get_mut(usize::from(intent.strategy.0)) else { return };
        let report = ExecReport::unfilled(intent, ExecKind::Rejected, now);
        self.sink.begin(intent.strategy, Nanos::ZERO);
        s.on_exec(&report, &mut self.sink);
    }
}

/// The gateway thread: takes orders (stamping tick-to-order on arrival), submits them, and
/// sends the venue's responses back. Returns the measured window's latencies.
fn gateway_loop<F: Flavor>(
    mut venue: Box<dyn Venue>,
    orders: &F::Rx<RiskApproved<Order>>,
    execs: &F::Tx<ExecReport>,
    shared: &Shared,
) -> Histogram<u64> {
    let mut hist = new_histogram();
    let mut batch = ExecBatch::new();
    let mut forward = |venue: &mut Box<dyn Venue>, now: Nanos| loop {
        batch.clear();
        venue.poll(now, &mut batch);
        if batch.is_empty() {
            return;
        }
        for i in 0..batch.len() {
            if let Some(r) = batch.get(i) {
                if !F::send(execs, r) {
                    shared.lost.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    };
    loop {
        match F::recv_timeout(orders, IDLE) {
            Recv::Got(order) => {
                let now = Clock::now();
                let recv = order.get().intent.tick_recv_ns;
                if recv > Nanos::ZERO && shared.window.load(Ordering::Relaxed) == MEASURING {
                    hist.saturating_record(now.since(recv));
                }
                venue.submit(order, now);
                forward(&mut venue, now);
            }
            Recv::Empty => forward(&mut venue, Clock::now()),
            Recv::Closed => break,
        }
    }
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    loop {
        forward(&mut venue, Clock::now());
        if venue.in_flight() == 0 || Instant::now() >= deadline {
            return hist;
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// The recorder thread: appends every record to the journal, flushing when idle.
fn record_loop<F: Flavor>(
    mut sink: Box<dyn RecordSink>,
    rx: &F::Rx<Record>,
) -> anyhow::Result<u64> {
    let mut written = 0u64;
    let mut last_flush = Instant::now();
    loop {
        match F::recv_timeout(rx, FLUSH_PERIOD) {
            Recv::Got(r) => {
                sink.record(&r).map_err(|e| anyhow::anyhow!("journal write failed: {e}"))?;
                written += 1;
            }
            Recv::Empty if last_flush.elapsed() >= FLUSH_PERIOD => {
                sink.flush().map_err(|e| anyhow::anyhow!("journal flush failed: {e}"))?;
                last_flush = Instant::now();
            }
            Recv::Empty => {}
            Recv::Closed => {
                sink.flush().map_err(|e| anyhow::anyhow!("journal flush failed: {e}"))?;
                return Ok(written);
            }
        }
    }
}
