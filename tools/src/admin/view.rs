//! What the sidecar reads from a running pipeline, and the point-in-time views it serves.
//!
//! Everything here is read through atomics the hot threads write (counters, histogram buckets,
//! ring cursors, the halt switch); nothing takes a lock a hot thread takes.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use tickline_engine::risk::{HaltCause, RejectReason, RiskTelemetry};
use tickline_engine::runtime::{ControlHandle, Lifecycle, Pipeline, Plan};
use tickline_engine::telemetry::{Percentiles, StageSnapshot, Telemetry, TelemetrySnapshot};

use super::source::{
    FeedState, GatewayState, JournalState, PnlTotals, Position, RiskLimitUse, StateSource,
};
use crate::config::{Config, Loaded};

/// Everything the sidecar reads, taken from a started pipeline.
pub struct Sources {
    /// The pipeline's telemetry.
    pub telemetry: Arc<Telemetry>,
    /// Risk counters.
    pub risk: Arc<RiskTelemetry>,
    /// Stop, failure and halt state.
    pub lifecycle: Arc<Lifecycle>,
    /// The layout it runs.
    pub plan: Plan,
    /// Where control commands go.
    pub control: ControlHandle,
    /// The effective config.
    pub config: Config,
    /// Where the config came from.
    pub origin: String,
    /// State reported beyond telemetry.
    pub state: Arc<dyn StateSource>,
    /// Stage names in pipeline order (feeds first).
    pub stages: Vec<String>,
    /// Whether records (control records included) go to a journal in this run.
    pub journaled: bool,
    /// Whether the pipeline has rings (fixed at start-up): only then is the engine's own
    /// snapshot needed, since it is the one way to read them.
    has_rings: bool,
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl Sources {
    /// Reads what the sidecar needs from `pipeline`.
    pub fn from_pipeline(
        pipeline: &Pipeline,
        loaded: &Loaded,
        state: Arc<dyn StateSource>,
    ) -> Sources {
        let telemetry = Arc::clone(pipeline.telemetry());
        let mut stages: Vec<String> =
            loaded.config.feeds.iter().map(|f| format!("feed:{}", f.name())).collect();
        stages.extend(["strategy", "risk", "gateway", "recorder"].map(String::from));
        stages.retain(|s| telemetry.stage(s).is_some());
        let rings = telemetry.snapshot().rings;
        let journaled = rings.iter().any(|r| r.name == "records");
        Sources {
            telemetry,
            risk: Arc::clone(pipeline.risk()),
            lifecycle: Arc::clone(pipeline.lifecycle()),
            plan: pipeline.plan().clone(),
            control: pipeline.control(),
            config: loaded.config.clone(),
            origin: loaded.origin.clone(),
            state,
            stages,
            journaled,
            has_rings: !rings.is_empty(),
        }
    }

    /// Takes a view now.
    ///
    /// Each latency histogram is copied once (an `hdrhistogram` copy allocates and clears
    /// 256 KiB): the percentiles come from the same copies as the buckets.
    pub fn view(&self, started: Instant) -> View {
        let t = &self.telemetry;
        let mut stage_hists = Vec::with_capacity(self.stages.len());
        let mut stages = Vec::with_capacity(self.stages.len());
        for name in &self.stages {
            if let Some(s) = t.stage(name) {
                let h = s.latency.to_hdr();
                stages.push(StageSnapshot {
                    name: name.clone(),
                    events: s.events.get(),
                    emitted: s.emitted.get(),
                    errors: s.errors.get(),
                    latency: Percentiles::of(&h),
                });
                stage_hists.push((name.clone(), h));
            }
        }
        let tick_to_order = t.tick_to_order.to_hdr();
        let tel = TelemetrySnapshot {
            stages,
            rings: if self.has_rings { t.snapshot().rings } else { Vec::new() },
            tick_to_order: Percentiles::of(&tick_to_order),
            fills: t.fills.get(),
            exec_reports: t.exec_reports.get(),
            lost: t.lost.get(),
        };
        let halt = self.lifecycle.halt();
        View {
            unix_ns: unix_ns(),
            uptime: started.elapsed(),
            tick_to_order,
            stage_hists,
            tel,
            approved: self.risk.approved.get(),
            rejects: RejectReason::ALL.map(|r| (r.as_str(), self.risk.rejects_of(r))),
            halted: halt.is_halted(),
            halt_cause: halt.cause(),
            stopping: self.lifecycle.stop_requested(),
            failed: self.lifecycle.failed_flag().load(Ordering::Acquire),
            feeds: self.state.feeds(),
            gateway: self.state.gateway(),
            journal: self.state.journal(),
            positions: self.state.positions(),
            pnl: self.state.pnl(),
            open_orders: self.state.open_order_count(),
            limits: self.state.risk_limits(),
            auto_halts: self.risk.auto_halts.get(),
            unknown_reports: self.risk.unknown_reports.get(),
            position_errors: self.risk.position_errors.get(),
        }
    }
}

/// Nanoseconds since the Unix epoch, now.
pub fn unix_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A point-in-time view of the pipeline.
#[derive(Debug)]
pub struct View {
    /// When it was taken.
    pub unix_ns: i64,
    /// Time since the sidecar started.
    pub uptime: Duration,
    /// Telemetry (counters, rings, percentiles).
    pub tel: TelemetrySnapshot,
    /// Per-stage latency distributions, nanoseconds, by stage name.
    pub stage_hists: Vec<(String, Histogram<u64>)>,
    /// Tick-to-order distribution, nanoseconds.
    pub tick_to_order: Histogram<u64>,
    /// Orders risk approved.
    pub approved: u64,
    /// Rejects by reason name, every reason.
    pub rejects: [(&'static str, u64); RejectReason::ALL.len()],
    /// Trading halted.
    pub halted: bool,
    /// Why.
    pub halt_cause: HaltCause,
    /// A stop was requested (signal, deadline, end of feeds).
    pub stopping: bool,
    /// A stage panicked.
    pub failed: bool,
    /// Feed connections, if reported.
    pub feeds: Option<Vec<FeedState>>,
    /// Gateway session, if reported.
    pub gateway: Option<GatewayState>,
    /// Journal, if reported.
    pub journal: Option<JournalState>,
    /// Positions, if reported.
    pub positions: Option<Vec<Position>>,
    /// PnL totals, if reported.
    pub pnl: Option<PnlTotals>,
    /// Open order count, if reported.
    pub open_orders: Option<u64>,
    /// Risk limits, if reported.
    pub limits: Option<Vec<RiskLimitUse>>,
    /// Halts risk tripped by itself (loss, drawdown, repeated executions).
    pub auto_halts: u64,
    /// Execution reports naming no order risk tracks.
    pub unknown_reports: u64,
    /// Fills the position book could not apply.
    pub position_errors: u64,
}

impl View {
    /// `running`, `stopping` or `failed`.
    pub fn state(&self) -> &'static str {
        if self.failed {
            "failed"
        } else if self.stopping {
            "stopping"
        } else {
            "running"
        }
    }

    /// A counter of the stage named `stage`.
    pub fn stage_count(
        &self,
        stage: &str,
        f: impl Fn(&tickline_engine::telemetry::StageSnapshot) -> u64,
    ) -> u64 {
        self.tel.stage(stage).map_or(0, f)
    }

    /// All rejects.
    pub fn rejects_total(&self) -> u64 {
        self.rejects.iter().map(|(_, n)| n).sum()
    }
}

/// One point of the tick-to-order history: percentiles over one sampling interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct LatencyPoint {
    /// End of the interval, milliseconds since the epoch.
    pub t_ms: i64,
    /// Orders in the interval.
    pub count: u64,
    /// Median, nanoseconds.
    pub p50: u64,
    /// 99th percentile, nanoseconds.
    pub p99: u64,
    /// 99.9th percentile, nanoseconds.
    pub p999: u64,
    /// Largest, nanoseconds.
    pub max: u64,
}

/// Rates and recent latency, computed by the sidecar once per sampling interval.
#[derive(Debug)]
pub struct Sampler {
    /// Sampling interval.
    pub period: Duration,
    last_at: Option<Instant>,
    last_tto: Option<Histogram<u64>>,
    last_counts: Vec<(String, u64, u64)>,
    /// Per stage: events in and emitted per second over the last interval.
    pub rates: Vec<(String, f64, f64)>,
    /// Per stage: when the sidecar last saw its `emitted` counter move.
    pub last_moved: Vec<(String, Instant)>,
    /// Tick-to-order percentiles per interval, oldest first.
    pub history: VecDeque<LatencyPoint>,
}

/// Points of history kept (5 minutes at the default interval).
pub const HISTORY: usize = 300;

impl Sampler {
    /// A sampler taking one sample every `period`.
    pub fn new(period: Duration) -> Sampler {
        Sampler {
            period,
            last_at: None,
            last_tto: None,
            last_counts: Vec::new(),
            rates: Vec::new(),
            last_moved: Vec::new(),
            history: VecDeque::with_capacity(HISTORY),
        }
    }

    /// Whether a sample is due at `now`.
    pub fn due(&self, now: Instant) -> bool {
        self.last_at.is_none_or(|t| now.duration_since(t) >= self.period)
    }

    /// Takes a sample from `sources`.
    pub fn sample(&mut self, sources: &Sources, now: Instant) {
        let elapsed = self.last_at.map(|t| now.duration_since(t).as_secs_f64());
        let mut counts = Vec::with_capacity(sources.stages.len());
        for name in &sources.stages {
            if let Some(t) = sources.telemetry.stage(name) {
                counts.push((name.clone(), t.events.get(), t.emitted.get()));
            }
        }
        if let Some(secs) = elapsed.filter(|s| *s > 0.0) {
            self.rates = counts
                .iter()
                .map(|(n, ev, em)| {
                    let before = self.last_counts.iter().find(|(m, ..)| m == n);
                    let (ev0, em0) = before.map_or((0, 0), |c| (c.1, c.2));
                    (
                        n.clone(),
                        ev.saturating_sub(ev0) as f64 / secs,
                        em.saturating_sub(em0) as f64 / secs,
                    )
                })
                .collect();
        }
        for (n, _, emitted) in &counts {
            let before = self.last_counts.iter().find(|(m, ..)| m == n).map(|c| c.2);
            let moved = *emitted > 0 && before != Some(*emitted);
            match self.last_moved.iter_mut().find(|(m, _)| m == n) {
                Some(slot) if moved => slot.1 = now,
                None if moved => self.last_moved.push((n.clone(), now)),
                _ => {}
            }
        }
        self.last_counts = counts;
        let tto = sources.telemetry.tick_to_order.to_hdr();
        if let Some(prev) = &self.last_tto {
            let mut delta = tto.clone();
            if delta.subtract(prev).is_ok() {
                let p = Percentiles::of(&delta);
                if self.history.len() == HISTORY {
                    self.history.pop_front();
                }
                self.history.push_back(LatencyPoint {
                    t_ms: unix_ns() / 1_000_000,
                    count: p.count,
                    p50: p.p50,
                    p99: p.p99,
                    p999: p.p999,
                    max: p.max,
                });
            }
        }
        self.last_tto = Some(tto);
        self.last_at = Some(now);
    }

    /// Events in per second of `stage` over the last interval.
    pub fn rate(&self, stage: &str) -> Option<f64> {
        self.rates.iter().find(|(n, ..)| n == stage).map(|r| r.1)
    }

    /// Events emitted per second of `stage` over the last interval.
    pub fn emitted_rate(&self, stage: &str) -> Option<f64> {
        self.rates.iter().find(|(n, ..)| n == stage).map(|r| r.2)
    }

    /// How long ago the sidecar last saw `stage` emit, if it ever did.
    pub fn since_moved(&self, stage: &str, now: Instant) -> Option<Duration> {
        self.last_moved.iter().find(|(n, _)| n == stage).map(|(_, t)| now.duration_since(*t))
    }
}
