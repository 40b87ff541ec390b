//! `tickline run`: start the pipeline, wait for the duration or a signal, drain, summarise.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickline_engine::record::RecordSink;
use tickline_engine::runtime::{affinity, Outcome, Pipeline, Plan};
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
    run_with_reload(loaded, duration, stop, recorder, None)
}

/// As [`run`]; each time `reload` becomes true (SIGHUP) the config file is re-read and changed
/// risk limits and strategy parameters are applied (see [`crate::reload`]).
pub fn run_with_reload(
    loaded: &Loaded,
    duration: Option<Duration>,
    stop: &Arc<AtomicBool>,
    recorder: Option<Box<dyn RecordSink>>,
    reload: Option<&Arc<AtomicBool>>,
) -> anyhow::Result<RunResult> {
    Clock::init();
    let mut current: Option<Loaded> = None;
    // Bound before anything starts, so a busy port or a missing token stops the run here.
    let admin = crate::admin::bind(&loaded.config.admin)?;
    // The journal is opened before anything starts (a second writer is refused here) and the
    // parts are seeded with what it restored.
    let crate::wiring::RunParts { parts, probes, journal } =
        crate::wiring::build_for_run(loaded, duration, recorder)?;
    tracing::info!(
        layout = %parts.plan.describe().trim_end().replace('\n', "; "),
        clock = Clock::source(),
        "starting pipeline"
    );
    let started = Instant::now();
    let pipeline = Pipeline::start(parts)?;
    let admin = match admin {
        Some(bound) => {
            let strategies = loaded.config.strategies.iter().map(|s| s.name().to_owned()).collect();
            let mut state = crate::admin::EngineState::new(
                Arc::clone(pipeline.risk()),
                loaded.config.risk.clone(),
                tickline_engine::position::money_scale(&loaded.registry),
            )
            .with_pipeline(
                Arc::new(loaded.registry.clone()),
                strategies,
                Arc::clone(pipeline.telemetry()),
            )
            .with_probes(probes);
            if let Some(j) = &journal {
                state = state.with_journal(Arc::clone(&j.probe), j.watch.clone());
            }
            let sources = crate::admin::Sources::from_pipeline(&pipeline, loaded, Arc::new(state));
            match bound.start(sources) {
                Ok(a) => Some(a),
                Err(e) => {
                    pipeline.stop();
                    let _ = pipeline.join();
                    return Err(e);
                }
            }
        }
        None => None,
    };
    // This loop wakes every POLL: off the hot cores too, for the run, with the threads the
    // process started before the pipeline (a library caller gets their cores back).
    let moved = move_to_cold_core(pipeline.plan());
    let mut stop_at: Option<Instant> = None;
    while !pipeline.is_finished() {
        std::thread::sleep(POLL);
        if reload.is_some_and(|r| r.swap(false, Ordering::AcqRel)) {
            let live = current.get_or_insert_with(|| loaded.clone());
            match crate::reload::reload(live, &pipeline.control()) {
                Ok(note) => tracing::info!(origin = %live.origin, %note, "config reloaded"),
                Err(why) => {
                    tracing::warn!(origin = %live.origin, %why, "config reload refused; running limits and parameters kept")
                }
            }
        }
        let expired = duration.is_some_and(|d| started.elapsed() >= d);
        if stop_at.is_none() && (expired || stop.load(Ordering::Relaxed)) {
            stop_at = Some(Instant::now());
            pipeline.stop();
        }
    }
    for (tid, cores) in moved {
        // A thread that has exited meanwhile has nothing to give back.
        let _ = affinity::set_thread_cores(tid, &cores);
    }
    let drain = stop_at.map(|t| t.elapsed());
    let elapsed = started.elapsed();
    let snapshot = pipeline.snapshot();
    let risk = Arc::clone(pipeline.risk());
    let outcome = pipeline.join();
    if let Some(j) = &journal {
        j.log_end();
    }
    // The admin port answers (`/health`, `/ready` 503 "shutting down") until every thread exits.
    if let Some(a) = admin {
        a.stop();
    }
    Ok(RunResult { outcome, summary: Summary::new(&snapshot, &risk, elapsed), drain })
}

/// Threads a process starts before any pipeline, by name: moved to the cold core for the
/// run with the supervising thread. `log-writer` is the `tickline` binary's non-blocking log
/// writer, which otherwise wakes, each time a line is logged, on whatever core the scheduler
/// picks: the hot one included.
pub const COLD_THREAD_NAMES: &[&str] = &["log-writer"];

/// Moves the calling (supervising) thread, and this process's threads named in
/// [`COLD_THREAD_NAMES`], to the plan's cold core, if it has one; returns each thread moved
/// with the cores it had, to give back afterwards.
fn move_to_cold_core(plan: &Plan) -> Vec<(i32, Vec<usize>)> {
    let Some(core) = plan.cold_core() else { return Vec::new() };
    let me = affinity::current_thread_id();
    let mut moved = Vec::new();
    for tid in std::iter::once(me).chain(threads_named(COLD_THREAD_NAMES)) {
        let Ok(before) = affinity::thread_cores(tid) else { continue };
        match affinity::pin_thread(tid, core) {
            Ok(()) => moved.push((tid, before)),
            Err(e) => {
                tracing::warn!(thread = tid, core, error = %e, "could not move a thread to the cold core");
            }
        }
    }
    moved
}

/// The ids of this process's threads named one of `names` (`/proc/self/task/*/comm`).
fn threads_named(names: &[&str]) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    tasks
        .filter_map(|task| {
            let task = task.ok()?;
            let tid = task.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            names.contains(&comm.trim_end()).then_some(tid)
        })
        .collect()
}
