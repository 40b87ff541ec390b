//! A hot thread: the stages of the plan that run on it, fused by direct calls, and the rings
//! that join it to the other threads.
//!
//! Every event takes the same path whatever the layout: `on_tick` → strategies → `on_intent`
//! (risk) → `on_order` (gateway). Each step either calls the next stage directly, when it is
//! on this thread, or pushes onto the ring to the thread that runs it.

use std::sync::Arc;

use crate::record::{ControlRecord, Record};
use crate::ring::{Consumer, Producer, Waiter};
use crate::risk::{HaltCause, RiskApproved, RiskReject, RiskStage};
use crate::stage::{ExecBatch, Feed, FeedStatus, OrderSink, Strategy, TickBatch, Venue};
use crate::telemetry::{StageTelemetry, Telemetry};
use crate::types::{Clock, ExecKind, ExecReport, Nanos, Order, OrderIntent, StrategyId, Tick};

use super::control::{Command, ControlRequest, CONTROL_EVERY};
use super::lifecycle::Lifecycle;

/// Events between two sampled stage-latency measurements (a sample costs two clock reads).
const LATENCY_SAMPLE: u32 = 64;
/// Idle time between two strategy timer callbacks.
const TIMER_PERIOD_NS: i64 = 1_000_000;
/// How long a gateway waits at shutdown for venue responses to orders in flight.
const DRAIN_TIMEOUT_NS: i64 = 500_000_000;
/// Events taken from one input ring per poll, at most.
const RING_BATCH: usize = 64;
/// Idle time between two rounds of idle housekeeping (operator commands, strategy timers, the
/// shutdown protocol). Between rounds an idle iteration only polls its inputs, so a tick that
/// falls due waits for a short loop, not for the housekeeping.
const HOUSEKEEPING_NS: i64 = 20_000;

/// Which stage the thread is in, for naming a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Current {
    Loop,
    Feed(usize),
    Strategy,
    Risk,
    Gateway,
}

pub(crate) struct FeedRun {
    pub(crate) feed: Box<dyn Feed>,
    pub(crate) tel: Arc<StageTelemetry>,
    pub(crate) finished: bool,
}

pub(crate) struct StrategyRun {
    pub(crate) strategies: Vec<Box<dyn Strategy>>,
    /// Per strategy: whether it is called (operator control).
    pub(crate) enabled: Vec<bool>,
    /// Per instrument index: the strategies that want its ticks.
    pub(crate) routes: Vec<Vec<u16>>,
    pub(crate) sink: OrderSink,
    pub(crate) tel: Arc<StageTelemetry>,
    pub(crate) sample: u32,
    pub(crate) last_timer: Nanos,
}

pub(crate) struct RiskRun {
    pub(crate) risk: RiskStage,
    pub(crate) tel: Arc<StageTelemetry>,
    pub(crate) sample: u32,
}

pub(crate) struct GatewayRun {
    pub(crate) venue: Box<dyn Venue>,
    pub(crate) tel: Arc<StageTelemetry>,
    pub(crate) batch: ExecBatch,
    pub(crate) drain_deadline: Option<Nanos>,
    pub(crate) sample: u32,
}

/// The event-handling half of a hot thread (the input half borrows it while polling).
pub(crate) struct Core {
    pub(crate) strategy: Option<StrategyRun>,
    pub(crate) risk: Option<RiskRun>,
    pub(crate) gateway: Option<GatewayRun>,
    pub(crate) tick_out: Option<Producer<Tick>>,
    pub(crate) order_out: Option<Producer<RiskApproved<Order>>>,
    pub(crate) exec_out: Option<Producer<ExecReport>>,
    pub(crate) record_out: Option<Producer<Record>>,
    /// The tick being handled, until its record is pushed (see [`Core::record_tick`]).
    pub(crate) pending_tick: Option<Tick>,
    pub(crate) push_wait: Waiter,
    pub(crate) lifecycle: Arc<Lifecycle>,
    pub(crate) telemetry: Arc<Telemetry>,
    pub(crate) current: Current,
    /// Operator commands (strategy thread only).
    pub(crate) control: Option<crossbeam_channel::Receiver<ControlRequest>>,
}

impl Core {
    #[inline]
    fn record(&mut self, rec: Record) {
        self.record_tick();
        if let Some(tx) = self.record_out.as_mut() {
            if tx.push(rec, &mut self.push_wait, self.lifecycle.failed_flag()).is_err() {
                self.telemetry.lost.inc();
            }
        }
    }

    /// Records the tick being handled, if it is not recorded yet.
    ///
    /// A tick's record is pushed once the tick's orders are handed off (like a journaller
    /// reading the input beside the business logic), and always before any record the tick
    /// caused, so the journal keeps the order events happened in.
    #[inline]
    fn record_tick(&mut self) {
        let Some(tick) = self.pending_tick.take() else { return };
        if let Some(tx) = self.record_out.as_mut() {
            let rec = Record::tick(tick.recv_ns(), &tick);
            if tx.push(rec, &mut self.push_wait, self.lifecycle.failed_flag()).is_err() {
                self.telemetry.lost.inc();
            }
        }
    }

    /// A tick, from a local feed or a feed thread's ring. `now` is the clock read that began
    /// this loop iteration: the tick's decision stamp is the later of it and the tick's
    /// receive time, so a tick that prompts an order costs no clock read before risk's
    /// approval stamp.
    #[inline]
    pub(crate) fn on_tick(&mut self, tick: Tick, now: Nanos) {
        let Some(run) = self.strategy.as_mut() else {
            if let Some(tx) = self.tick_out.as_mut() {
                // Ticks rings are lossy by policy (drop-oldest or conflate) or block.
                if tx.push(tick, &mut self.push_wait, self.lifecycle.failed_flag()).is_err() {
                    self.telemetry.lost.inc();
                }
            }
            return;
        };
        run.tel.events.inc();
        run.sample = run.sample.wrapping_add(1);
        let sampled = run.sample % LATENCY_SAMPLE == 0;
        let t0 = if sampled { Clock::now() } else { Nanos::ZERO };
        if let Some(r) = self.risk.as_mut() {
            r.risk.on_tick(&tick);
            if r.risk.take_cancel_all() {
                self.send_cancel_all();
            }
        }
        if let Some(g) = self.gateway.as_mut() {
            self.current = Current::Gateway;
            g.venue.on_tick(&tick);
        }
        self.current = Current::Strategy;
        let Some(run) = self.strategy.as_mut() else { return };
        // A ring tick can be stamped after this iteration's clock read: never decide before
        // the receipt.
        let decided = now.max(tick.recv_ns());
        if let Some(route) = run.routes.get(tick.instrument().index()) {
            for &i in route {
                if !run.enabled.get(usize::from(i)).copied().unwrap_or(false) {
                    continue;
                }
                if let Some(s) = run.strategies.get_mut(usize::from(i)) {
                    run.sink.begin_at(StrategyId(i), tick.recv_ns(), decided);
                    s.on_tick(&tick, &mut run.sink);
                }
            }
        }
        if sampled {
            run.tel.latency.record(Clock::now().since(t0));
        }
        if self.record_out.is_some() {
            self.pending_tick = Some(tick);
        }
        self.route_intents();
        self.record_tick();
        // The tick's orders are out: the rest of its bookkeeping.
        if let Some(r) = self.risk.as_mut() {
            r.risk.settle();
        }
    }

    /// Sends what the strategies put in the sink through risk.
    #[inline]
    fn route_intents(&mut self) {
        // A strategy told of a reject may emit more into the same sink: route those too (the
        // sink's capacity bounds it).
        let mut i = 0;
        while let Some(intent) = self.strategy.as_ref().and_then(|s| s.sink.intents().get(i)) {
            i += 1;
            if let Some(s) = self.strategy.as_ref() {
                s.tel.emitted.inc();
            }
            self.on_intent(intent);
        }
        if let Some(s) = self.strategy.as_mut() {
            s.sink.clear();
        }
    }

    #[inline]
    fn on_intent(&mut self, intent: OrderIntent) {
        self.current = Current::Risk;
        let Some(r) = self.risk.as_mut() else { return };
        r.tel.events.inc();
        r.sample = r.sample.wrapping_add(1);
        let t0 = if r.sample % LATENCY_SAMPLE == 0 { Some(Clock::now()) } else { None };
        // One clock read stamps the approval and, on a fused gateway, the hand-off; the order
        // goes to the venue (or onto the orders ring) before risk commits what it uses.
        match r.risk.approve_with(&intent, Clock::now) {
            Ok(approval) => {
                let order = approval.order();
                let now = order.get().approved_ns;
                self.on_order(order, now);
                self.current = Current::Risk;
                if let Some(r) = self.risk.as_mut() {
                    r.risk.commit(approval);
                    if let Some(t0) = t0 {
                        r.tel.latency.record(now.since(t0));
                    }
                    r.tel.emitted.inc();
                }
                self.record(Record::approved(now, order.get()));
            }
            Err(reason) => {
                r.tel.errors.inc();
                let now = Clock::now();
                let reject = RiskReject { intent, ts: now, reason, reserved: [0; 7] };
                self.record(Record::rejected(now, &reject));
                self.notify_reject(&intent, now);
            }
        }
    }

    /// Tells the strategy that sent `intent` that risk refused it, as a `Rejected` report
    /// (not counted as a venue report), so it can forget the order.
    #[inline]
    fn notify_reject(&mut self, intent: &OrderIntent, now: Nanos) {
        let Some(run) = self.strategy.as_mut() else { return };
        let Some(s) = run.strategies.get_mut(usize::from(intent.strategy.0)) else { return };
        let report = ExecReport::unfilled(intent, ExecKind::Rejected, now);
        self.current = Current::Strategy;
        run.sink.begin(intent.strategy, Nanos::ZERO);
        s.on_exec(&report, &mut run.sink);
        self.current = Current::Risk;
    }

    /// Routes a cancel-all through risk (an automatic halt, the kill switch, a disconnect).
    #[cold]
    fn send_cancel_all(&mut self) {
        if let Some(run) = self.strategy.as_mut() {
            run.sink.begin(StrategyId(u16::MAX), Nanos::ZERO);
            let _ = run.sink.cancel_all();
        }
    }

    /// An approved order, from risk on this thread or the orders ring. `now` is the clock
    /// read of the hand-off: the end of tick-to-order.
    #[inline]
    pub(crate) fn on_order(&mut self, order: RiskApproved<Order>, now: Nanos) {
        match self.gateway.as_mut() {
            Some(g) => {
                self.current = Current::Gateway;
                g.sample = g.sample.wrapping_add(1);
                let sampled = g.sample % LATENCY_SAMPLE == 0;
                g.venue.submit(order, now);
                if sampled {
                    g.tel.latency.record(Clock::now().since(now));
                }
                g.tel.events.inc();
                let recv = order.get().intent.tick_recv_ns;
                if recv > Nanos::ZERO {
                    self.telemetry.tick_to_order.record(now.since(recv));
                }
            }
            None => {
                if let Some(tx) = self.order_out.as_mut() {
                    if tx.push(order, &mut self.push_wait, self.lifecycle.failed_flag()).is_err() {
                        self.telemetry.lost.inc();
                    }
                } else {
                    // The orders ring closed at shutdown: count what could not be sent.
                    self.telemetry.lost.inc();
                }
            }
        }
    }

    /// An execution report, from the venue on this thread or the exec ring.
    #[inline]
    pub(crate) fn on_exec(&mut self, report: ExecReport, now: Nanos) {
        if self.strategy.is_none() {
            if let Some(tx) = self.exec_out.as_mut() {
                if tx.push(report, &mut self.push_wait, self.lifecycle.failed_flag()).is_err() {
                    self.telemetry.lost.inc();
                }
            }
            return;
        }
        if report.kind.is_fill() {
            self.telemetry.fills.inc();
            self.telemetry.fill_log.push(&report);
        }
        self.telemetry.exec_reports.inc();
        self.record(Record::exec(now, &report));
        if let Some(r) = self.risk.as_mut() {
            self.current = Current::Risk;
            r.risk.on_exec(&report);
            if r.risk.take_cancel_all() {
                self.send_cancel_all();
            }
        }
        self.current = Current::Strategy;
        if let Some(run) = self.strategy.as_mut() {
            if let Some(s) = run.strategies.get_mut(usize::from(report.strategy.0)) {
                run.sink.begin(report.strategy, Nanos::ZERO);
                s.on_exec(&report, &mut run.sink);
            }
        }
        self.route_intents();
    }

    /// Polls the local venue for reports, as many as the exec ring has room for.
    #[inline]
    fn poll_venue(&mut self, now: Nanos) -> usize {
        let room = match self.exec_out.as_mut() {
            Some(tx) if self.strategy.is_none() => tx.room(),
            _ => u64::MAX,
        };
        let Some(g) = self.gateway.as_mut() else { return 0 };
        if room == 0 {
            return 0;
        }
        self.current = Current::Gateway;
        g.batch.clear();
        g.batch.set_limit(usize::try_from(room).unwrap_or(usize::MAX));
        g.venue.poll(now, &mut g.batch);
        let n = g.batch.len();
        if n == 0 {
            return 0;
        }
        g.tel.emitted.add(n as u64);
        // Read in place, one report at a time: handling a report never touches the batch,
        // and moving the batch out and back would copy its whole capacity on every poll.
        for i in 0..n {
            let Some(r) = self.gateway.as_ref().and_then(|g| g.batch.get(i)) else { break };
            self.on_exec(r, now);
        }
        n
    }

    /// Applies waiting operator commands (strategy thread; idle, or every `CONTROL_EVERY`
    /// busy iterations).
    #[cold]
    pub(crate) fn drain_control(&mut self) {
        let Some(rx) = self.control.as_ref() else { return };
        let mut pending = Vec::new();
        while let Ok(req) = rx.try_recv() {
            pending.push(req);
        }
        for req in pending {
            let result = self.apply(&req.command);
            let now = Clock::now();
            let text = match &result {
                Ok(note) => format!("{} | {} | ok: {note}", req.command.describe(), req.origin),
                Err(why) => format!("{} | {} | refused: {why}", req.command.describe(), req.origin),
            };
            tracing::info!(command = %req.command.describe(), origin = %req.origin, result = ?result, "control");
            let rec = ControlRecord::new(now, req.command.code(), result.is_ok(), &text);
            self.record(Record::control(now, &rec));
            if let Some(reply) = req.reply {
                let _ = reply.try_send(result);
            }
        }
    }

    fn apply(&mut self, command: &Command) -> Result<String, String> {
        let halt = Arc::clone(self.lifecycle.halt());
        match command {
            Command::Halt => {
                halt.trip(HaltCause::Operator);
                Ok("trading halted".into())
            }
            Command::Resume => {
                if self.lifecycle.stop_requested() {
                    return Err("the engine is shutting down".into());
                }
                halt.resume();
                Ok("trading resumed".into())
            }
            Command::CancelAll => {
                let run = self.strategy.as_mut().ok_or("no strategy stage on this thread")?;
                run.sink.begin(StrategyId(u16::MAX), Nanos::ZERO);
                run.sink.cancel_all().ok_or("order sink full")?;
                self.route_intents();
                Ok("cancel-all sent".into())
            }
            Command::EnableStrategy { strategy, enabled } => {
                let run = self.strategy.as_mut().ok_or("no strategy stage on this thread")?;
                let i = find_strategy(run, strategy)?;
                run.enabled[i] = *enabled;
                Ok(format!("{strategy} {}", if *enabled { "enabled" } else { "disabled" }))
            }
            Command::SetStrategyParam { strategy, name, value } => {
                let run = self.strategy.as_mut().ok_or("no strategy stage on this thread")?;
                let i = find_strategy(run, strategy)?;
                run.strategies[i].set_param(name, *value)?;
                Ok(format!("{strategy}.{name} = {value}"))
            }
            Command::SetRiskLimit { name, instrument, value } => {
                let r = self.risk.as_mut().ok_or("no risk stage on this thread")?;
                let id = match instrument {
                    Some(sym) => Some(
                        r.risk
                            .registry()
                            .iter()
                            .find(|i| &i.symbol == sym)
                            .map(|i| i.id)
                            .ok_or_else(|| format!("unknown instrument {sym:?}"))?,
                    ),
                    None => None,
                };
                let note = r.risk.set_limit(name, id, *value)?;
                if r.risk.take_cancel_all() {
                    self.send_cancel_all();
                    self.route_intents();
                }
                Ok(note)
            }
        }
    }

    /// Idle housekeeping: strategy timers.
    fn idle(&mut self, now: Nanos) {
        let due = self
            .strategy
            .as_ref()
            .is_some_and(|s| now.since(s.last_timer) >= TIMER_PERIOD_NS as u64);
        if due {
            self.current = Current::Strategy;
            if let Some(run) = self.strategy.as_mut() {
                run.last_timer = now;
                for (i, s) in run.strategies.iter_mut().enumerate() {
                    if !run.enabled[i] {
                        continue;
                    }
                    run.sink.begin(StrategyId(i as u16), Nanos::ZERO);
                    s.on_timer(now, &mut run.sink);
                }
            }
            self.route_intents();
        }
    }
}

/// A hot thread: inputs plus the [`Core`] that handles what they deliver.
pub(crate) struct Hot {
    pub(crate) name: String,
    pub(crate) feeds: Vec<FeedRun>,
    pub(crate) tick_in: Vec<Consumer<Tick>>,
    pub(crate) order_in: Option<Consumer<RiskApproved<Order>>>,
    pub(crate) exec_in: Option<Consumer<ExecReport>>,
    pub(crate) core: Core,
    pub(crate) waiter: Waiter,
    pub(crate) batch: TickBatch,
    pub(crate) forward_closed: bool,
    pub(crate) feeds_stopped: bool,
    pub(crate) busy: u32,
    /// When idle housekeeping is next due.
    pub(crate) housekeeping: Nanos,
}

impl Hot {
    /// Runs until the thread's part of the pipeline is drained.
    pub(crate) fn run(&mut self) {
        loop {
            let now = Clock::now();
            let mut work = self.poll_feeds(now);
            let core = &mut self.core;
            for rx in &mut self.tick_in {
                work += rx.poll(RING_BATCH, |t| core.on_tick(t, now));
            }
            if let Some(rx) = self.order_in.as_mut() {
                work += rx.poll(RING_BATCH, |o| core.on_order(o, Clock::now()));
            }
            if let Some(rx) = self.exec_in.as_mut() {
                work += rx.poll(RING_BATCH, |r| core.on_exec(r, now));
            }
            work += self.core.poll_venue(now);
            if work > 0 {
                // One relaxed load per busy iteration: a busy feed must still see a stop.
                if !self.feeds_stopped && self.core.lifecycle.stop_requested() {
                    self.stop_feeds();
                }
                self.busy = self.busy.wrapping_add(1);
                if self.busy % CONTROL_EVERY == 0 {
                    self.core.drain_control();
                }
                self.waiter.reset();
                continue;
            }
            self.core.current = Current::Loop;
            if let Some(tx) = self.core.tick_out.as_mut() {
                // Conflated ticks go out as soon as the thread has nothing else to do.
                tx.flush();
            }
            if now >= self.housekeeping {
                self.housekeeping = now.add_nanos(HOUSEKEEPING_NS);
                self.core.drain_control();
                self.core.idle(now);
                if self.shutdown_step(now) {
                    break;
                }
            }
            self.waiter.idle();
        }
        // Closing the record ring lets the recorder finish.
        self.core.record_out = None;
    }

    #[inline]
    fn poll_feeds(&mut self, now: Nanos) -> usize {
        let mut work = 0;
        for (i, f) in self.feeds.iter_mut().enumerate() {
            if f.finished {
                continue;
            }
            self.core.current = Current::Feed(i);
            self.batch.clear();
            if f.feed.poll(now, &mut self.batch) == FeedStatus::Finished {
                f.finished = true;
                f.tel.mark_finished();
            }
            let n = self.batch.len();
            for k in 0..n {
                if let Some(t) = self.batch.get(k) {
                    self.core.on_tick(t, now);
                }
            }
            if n > 0 {
                // Counted once the ticks are handled: not on their way to an order.
                f.tel.emitted.add(n as u64);
                f.tel.last_emit_ns.set(now.0 as u64);
            }
            work += n;
        }
        work
    }

    #[cold]
    fn stop_feeds(&mut self) {
        self.feeds_stopped = true;
        for (i, f) in self.feeds.iter_mut().enumerate() {
            self.core.current = Current::Feed(i);
            f.feed.stop();
        }
        self.core.current = Current::Loop;
    }

    /// One step of the shutdown protocol; true when the thread may exit.
    ///
    /// 1. A stop request stops the local feeds.
    /// 2. When every forward input is done (feeds finished, tick and order rings closed and
    ///    drained), the thread closes its forward outputs and trips the halt (cause
    ///    `shutdown`) so no new order starts; cancels still pass.
    /// 3. A gateway waits for in-flight orders (bounded), then closes the exec ring.
    /// 4. The thread exits once its exec input, if any, is closed and drained.
    fn shutdown_step(&mut self, now: Nanos) -> bool {
        let lifecycle = Arc::clone(&self.core.lifecycle);
        if lifecycle.stop_requested() && !self.feeds_stopped {
            self.stop_feeds();
        }
        let forward_done = self.feeds.iter().all(|f| f.finished)
            && self.tick_in.iter().all(Consumer::is_finished)
            && self.order_in.as_ref().is_none_or(Consumer::is_finished);
        if forward_done && !self.forward_closed {
            self.forward_closed = true;
            self.core.tick_out = None;
            self.core.order_out = None;
            if self.core.strategy.is_some() {
                lifecycle.halt().trip(HaltCause::Shutdown);
                // Journaled so a replay halts here too (later reports may prompt orders).
                let rec = ControlRecord::new(
                    now,
                    HaltCause::Shutdown as u8,
                    true,
                    "halt | engine | shutdown",
                );
                self.core.record(Record::halt(now, &rec));
            }
            if let Some(g) = self.core.gateway.as_mut() {
                g.drain_deadline = Some(now.add_nanos(DRAIN_TIMEOUT_NS));
            }
        }
        if !self.forward_closed {
            return false;
        }
        if let Some(g) = self.core.gateway.as_ref() {
            let deadline = g.drain_deadline.unwrap_or(now);
            if g.venue.in_flight() > 0 && now < deadline {
                return false;
            }
            self.core.exec_out = None;
        }
        self.exec_in.as_ref().is_none_or(Consumer::is_finished)
    }

    /// The name of the stage a panic happened in.
    ///
    /// (Control commands run in `Current::Loop`.)
    pub(crate) fn current_stage(&self) -> String {
        match self.core.current {
            Current::Loop => format!("thread:{}", self.name),
            Current::Feed(i) => self
                .feeds
                .get(i)
                .map_or_else(|| "feed".into(), |f| format!("feed:{}", f.feed.name())),
            Current::Strategy => "strategy".into(),
            Current::Risk => "risk".into(),
            Current::Gateway => "gateway".into(),
        }
    }
}

fn find_strategy(run: &StrategyRun, name: &str) -> Result<usize, String> {
    run.strategies
        .iter()
        .position(|s| s.name() == name)
        .ok_or_else(|| format!("unknown strategy {name:?}"))
}
