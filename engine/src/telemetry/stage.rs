//! Per-stage telemetry and the registry the sidecar snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Counter, FillLog, LatencyHistogram, Percentiles, SharedCounter};
use crate::ring::{RingHandle, RingSnapshot};

/// Counters and a latency histogram of one stage, written only by the thread running it.
#[derive(Debug)]
pub struct StageTelemetry {
    name: String,
    /// Events the stage took in.
    pub events: Counter,
    /// Events the stage emitted downstream.
    pub emitted: Counter,
    /// Events the stage refused or could not handle (bad input, rejects).
    pub errors: Counter,
    /// Time the stage spent per event, in nanoseconds (sampled; see the runtime).
    pub latency: LatencyHistogram,
    /// Feeds: the clock read of the last poll that handed over ticks, nanoseconds since the
    /// epoch (0 before the first).
    pub last_emit_ns: Counter,
    /// Feeds: the feed reported that it has finished (or was stopped).
    finished: AtomicBool,
}

impl StageTelemetry {
    fn new(name: &str) -> StageTelemetry {
        StageTelemetry {
            name: name.to_owned(),
            events: Counter::new(),
            emitted: Counter::new(),
            errors: Counter::new(),
            latency: LatencyHistogram::new(),
            last_emit_ns: Counter::new(),
            finished: AtomicBool::new(false),
        }
    }

    /// Marks a feed finished (the thread polling it, once).
    #[cold]
    pub fn mark_finished(&self) {
        self.finished.store(true, Ordering::Release);
    }

    /// Whether the feed has finished: it will publish nothing more.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// Stage name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A point-in-time copy.
    pub fn snapshot(&self) -> StageSnapshot {
        StageSnapshot {
            name: self.name.clone(),
            events: self.events.get(),
            emitted: self.emitted.get(),
            errors: self.errors.get(),
            latency: Percentiles::of(&self.latency.to_hdr()),
        }
    }
}

/// A copy of one stage's telemetry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StageSnapshot {
    /// Stage name.
    pub name: String,
    /// Events in.
    pub events: u64,
    /// Events out.
    pub emitted: u64,
    /// Errors and rejects.
    pub errors: u64,
    /// Per-event stage latency.
    pub latency: Percentiles,
}

/// All telemetry of a running pipeline. Built before any thread starts, then only read
/// (every field is an atomic written by exactly one thread).
#[derive(Debug, Default)]
pub struct Telemetry {
    stages: Vec<Arc<StageTelemetry>>,
    rings: Vec<RingHandle>,
    /// Tick receive stamp to the order being handed to the gateway, in nanoseconds.
    /// Written by the thread that runs the gateway.
    pub tick_to_order: LatencyHistogram,
    /// Fills seen by the strategy stage. Written by the strategy thread.
    pub fills: Counter,
    /// Execution reports seen by the strategy stage. Written by the strategy thread.
    pub exec_reports: Counter,
    /// The latest fills the strategy stage saw. Written by the strategy thread.
    pub fill_log: FillLog,
    /// Events lost because the thread that should take them had stopped (shutdown after a
    /// failure) — zero in a clean run. Any thread may count.
    pub lost: SharedCounter,
}

impl std::fmt::Debug for dyn crate::ring::RingProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RingProbe")
    }
}

impl Telemetry {
    /// An empty registry.
    pub fn new() -> Telemetry {
        Telemetry::default()
    }

    /// Registers a stage (start-up only).
    pub fn add_stage(&mut self, name: &str) -> Arc<StageTelemetry> {
        let s = Arc::new(StageTelemetry::new(name));
        self.stages.push(Arc::clone(&s));
        s
    }

    /// Registers a ring (start-up only).
    pub fn add_ring(&mut self, ring: RingHandle) {
        self.rings.push(ring);
    }

    /// The stage named `name`.
    pub fn stage(&self, name: &str) -> Option<&Arc<StageTelemetry>> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Every ring, in build order.
    pub fn rings(&self) -> &[RingHandle] {
        &self.rings
    }

    /// A point-in-time copy of everything.
    pub fn snapshot(&self) -> TelemetrySnapshot {
        TelemetrySnapshot {
            stages: self.stages.iter().map(|s| s.snapshot()).collect(),
            rings: self.rings.iter().map(|r| r.snapshot()).collect(),
            tick_to_order: Percentiles::of(&self.tick_to_order.to_hdr()),
            fills: self.fills.get(),
            exec_reports: self.exec_reports.get(),
            lost: self.lost.get(),
        }
    }
}

/// A copy of all telemetry, for the sidecar, the summary and tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TelemetrySnapshot {
    /// Stages, in pipeline order.
    pub stages: Vec<StageSnapshot>,
    /// Rings, in build order.
    pub rings: Vec<RingSnapshot>,
    /// Tick-to-order latency.
    pub tick_to_order: Percentiles,
    /// Fills.
    pub fills: u64,
    /// Execution reports.
    pub exec_reports: u64,
    /// Events lost to a stopped thread.
    pub lost: u64,
}

impl TelemetrySnapshot {
    /// The stage named `name`.
    pub fn stage(&self, name: &str) -> Option<&StageSnapshot> {
        self.stages.iter().find(|s| s.name == name)
    }
}
