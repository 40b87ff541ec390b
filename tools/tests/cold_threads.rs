//! A pinned layout keeps the process's background threads off its hot cores: the journal's
//! segment and msync threads, and the clock's discipline thread, start wherever the opening
//! thread may run and are moved to the plan's cold core when the pipeline starts; a
//! `tickline run` moves the log writer there too. Left where they started, the segment
//! thread's milliseconds of work per roll were scheduled onto the hot core and the hot
//! thread waited them out.

mod support;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tickline_engine::config::{AuxConfig, LayoutConfig, LayoutMode, ThreadConfig};
use tickline_engine::record::RecordSink;
use tickline_engine::runtime::affinity::{current_thread_id, thread_cores};
use tickline_engine::runtime::{available_cores, Outcome, Pipeline};
use tickline_engine::types::Clock;
use tickline_journal::Durability;
use tickline_tools::config::Config;
use tickline_tools::{journal_sink, wiring};

/// The first core for the cold threads and the last for the hot one; `None` on one core,
/// where there is nothing to keep them apart.
fn cold_and_hot() -> Option<(usize, usize)> {
    let cores = available_cores();
    let (&cold, &hot) = (cores.first()?, cores.last()?);
    if cold == hot {
        eprintln!("one core: nothing to keep the background threads off");
        return None;
    }
    Some((cold, hot))
}

/// Every hot stage on one thread pinned to `hot`, the aux thread (and so the cold core) on
/// `cold`.
fn pinned(cold: usize, hot: usize) -> LayoutConfig {
    LayoutConfig {
        mode: LayoutMode::Explicit,
        threads: vec![ThreadConfig {
            name: "hot".into(),
            stages: ["feeds", "strategy", "risk", "gateway"].map(String::from).to_vec(),
            core: Some(hot),
            wait: "spin-yield".into(),
        }],
        aux: Some(AuxConfig { core: Some(cold), wait: "park".into() }),
        ..LayoutConfig::default()
    }
}

#[test]
fn journal_and_clock_threads_move_to_the_cold_core() {
    let Some((cold, hot)) = cold_and_hot() else { return };
    Clock::init();
    let (mut loaded, dir) = support::journaled_default("cold-threads");
    loaded.config.journal.durability = Durability::Periodic { interval_ms: 10 };
    loaded.config.layout = pinned(cold, hot);

    let (sink, journal) = journal_sink::open_for_run(&loaded, None).unwrap().expect("enabled");
    let journal_threads = sink.helper_threads();
    assert_eq!(journal_threads.len(), 2, "the segment thread and the msync thread");
    for &tid in &journal_threads {
        let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap();
        assert!(comm.starts_with("tickline-journ"), "thread {tid} is {comm:?}");
        // Started from this thread, they may run on the hot core until the pipeline starts.
        assert!(thread_cores(tid).unwrap().contains(&hot), "thread {tid} starts on every core");
    }
    let mut parts = wiring::build(&loaded, Some(Box::new(sink))).unwrap();
    parts.order_ids = journal.order_ids.clone();
    assert_eq!(parts.plan.cold_core(), Some(cold));
    let p = Pipeline::start(parts).unwrap();
    let background = journal_threads.iter().copied().chain(Clock::helper_thread());
    for tid in background {
        assert_eq!(thread_cores(tid).unwrap(), vec![cold], "thread {tid}");
    }
    assert_eq!(p.unpinned(), 0);
    std::thread::sleep(Duration::from_millis(50));
    p.stop();
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(p.join(), Outcome::Clean);
    std::fs::remove_dir_all(&dir).ok();
}

/// `tickline run` also moves the threads the binary started before the pipeline (its log
/// writer, named `log-writer`) to the cold core for the run, and gives their cores back
/// after it.
#[test]
fn a_run_moves_the_log_writer_to_the_cold_core_and_back() {
    let Some((cold, hot)) = cold_and_hot() else { return };
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let writer = std::thread::Builder::new()
        .name(tickline_tools::run::COLD_THREAD_NAMES[0].into())
        .spawn(move || {
            tid_tx.send(current_thread_id()).unwrap();
            let _ = done_rx.recv();
        })
        .unwrap();
    let tid = tid_rx.recv().unwrap();
    let before = thread_cores(tid).unwrap();
    assert!(before.contains(&hot), "the stand-in log writer starts on every core: {before:?}");

    let mut loaded = Config::load(None).unwrap();
    loaded.config.layout = pinned(cold, hot);
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            tickline_tools::run::run(&loaded, Some(Duration::from_millis(400)), &stop, None)
        })
    };
    let mut seen = Vec::new();
    while !runner.is_finished() {
        let now = thread_cores(tid).unwrap();
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let result = runner.join().unwrap().unwrap();
    assert_eq!(result.outcome, Outcome::Clean);
    assert!(seen.contains(&vec![cold]), "never on the cold core alone: {seen:?}");
    assert_eq!(thread_cores(tid).unwrap(), before, "cores not given back");
    done_tx.send(()).unwrap();
    writer.join().unwrap();
}
