//! tickline's own pipeline, started exactly as `tickline run` starts it (minus the admin
//! port), measured between two telemetry marks.

use std::time::Instant;

use hdrhistogram::Histogram;
use tickline_engine::alloc_count;
use tickline_engine::runtime::{Outcome, Pipeline};
use tickline_engine::telemetry::TelemetrySnapshot;
use tickline_tools::config::Loaded;

use super::{Window, WindowStats};

/// Telemetry at one edge of the measured window.
struct Mark {
    snapshot: TelemetrySnapshot,
    tick_to_order: Histogram<u64>,
    allocs: u64,
    at: Instant,
}

impl Mark {
    /// At the window's start: the copies (which allocate) are taken before the allocation
    /// count is read, so they are not counted.
    fn start(p: &Pipeline) -> Mark {
        let snapshot = p.snapshot();
        let tick_to_order = p.telemetry().tick_to_order.to_hdr();
        let allocs = alloc_count::total();
        Mark { snapshot, tick_to_order, allocs, at: Instant::now() }
    }

    /// At the window's end: the count is read before the copies.
    fn end(p: &Pipeline) -> Mark {
        let allocs = alloc_count::total();
        let at = Instant::now();
        let snapshot = p.snapshot();
        let tick_to_order = p.telemetry().tick_to_order.to_hdr();
        Mark { snapshot, tick_to_order, allocs, at }
    }

    fn strategy_events(&self) -> u64 {
        self.snapshot.stage("strategy").map_or(0, |s| s.events)
    }

    fn rings(&self) -> (u64, u64) {
        self.snapshot.rings.iter().fold((0, 0), |(c, d), r| (c + r.conflated, d + r.dropped))
    }
}

pub(crate) fn run(loaded: &Loaded, window: &Window) -> anyhow::Result<WindowStats> {
    let parts = tickline_tools::wiring::build_for_run(loaded, None, None)?.parts;
    let pipeline = Pipeline::start(parts)?;
    std::thread::sleep(window.warmup);
    let a = Mark::start(&pipeline);
    std::thread::sleep(window.measure);
    let b = Mark::end(&pipeline);
    pipeline.stop();
    let telemetry = std::sync::Arc::clone(pipeline.telemetry());
    if let Outcome::Failed(f) = pipeline.join() {
        anyhow::bail!("the pipeline failed: {f}");
    }
    // Read after the join: the recorder drains its ring before it exits.
    let records = telemetry.stage("recorder").map_or(0, |s| s.emitted.get());
    let mut hist = b.tick_to_order.clone();
    hist.subtract(&a.tick_to_order)
        .map_err(|e| anyhow::anyhow!("tick-to-order histogram went backwards: {e:?}"))?;
    let ((c0, d0), (c1, d1)) = (a.rings(), b.rings());
    Ok(WindowStats {
        secs: b.at.duration_since(a.at).as_secs_f64(),
        ticks: b.strategy_events() - a.strategy_events(),
        hist,
        conflated: c1 - c0,
        dropped: d1 - d0,
        lost: b.snapshot.lost - a.snapshot.lost,
        allocs: b.allocs - a.allocs,
        records,
    })
}
