//! `tickline run`: start the pipeline, wait for the duration or a signal, drain, summarise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickline_engine::record::RecordSink;
use tickline_engine::runtime::{Outcome, Pipeline};
use tickline_engine::types::Clock;

use crate::config::Loaded;
use crate::summary::Summary;

/// Exit status for an invalid config: nothing was started.
pub const EXIT_CONFIG: u8 = 2;
/// Exit status when a stage panicked (EX_SOFTWARE): trading was halted first.
pub const EXIT_STAGE_PANIC: u8 = 70;

/// The process exit status for a run's outcome, and the message to print for it.
pub fn exit_status(outcome: &Outcome) -> (u8, Option<String>) {
    match outcome {
        Outcome::Clean => (0, None),
        Outcome::Failed(f) => {
            (EXIT_STAGE_PANIC, Some(format!("tickline: {f}; trading was halted")))
        }
    }
}

/// How often the main thread checks for a signal, the deadline, or the end of the run.
const POLL: Duration = Duration::from_millis(5);

/// How a run ended, with its summary.
#[derive(Debug)]
pub struct RunResult {
    /// Clean or failed.
    pub outcome: Outcome,
    /// What it did.
    pub summary: Summary,
    /// Time from the stop request (signal or deadline) to the last thread's exit.
    pub drain: Option<Duration>,
}

/// Runs `loaded` until `duration` passes, `stop` becomes true (a signal), or the feeds end.
pub fn run(
    loaded: &Loaded,
    duration: Option<Duration>,
    stop: &Arc<AtomicBool>,
    recorder: Option<Box<dyn RecordSink>>,
) -> anyhow::Result<RunResult> {
    Clock::init();
    let parts = crate::wiring::build(loaded, recorder)?;
    tracing::info!(layout = %parts.plan.describe().trim_end().replace('\n', "; "), "starting pipeline");
    let started = Instant::now();
    let pipeline = Pipeline::start(parts)?;
    let mut stop_at: Option<Instant> = None;
    while !pipeline.is_finished() {
        std::thread::sleep(POLL);
        let expired = duration.is_some_and(|d| started.elapsed() >= d);
        if stop_at.is_none() && (expired || stop.load(Ordering::Relaxed)) {
            stop_at = Some(Instant::now());
            pipeline.stop();
        }
    }
    let drain = stop_at.map(|t| t.elapsed());
    let elapsed = started.elapsed();
    let snapshot = pipeline.snapshot();
    let risk = Arc::clone(pipeline.risk());
    let outcome = pipeline.join();
    Ok(RunResult { outcome, summary: Summary::new(&snapshot, &risk, elapsed), drain })
}
