//! Proves the fused hot path allocates nothing in steady state: 1,000,000 ticks after warm-up
//! go through feed → strategy → risk → gateway → reverse path → record ring, and a counting
//! global allocator sees no allocation on that thread.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tickline_engine::alloc_count::{self, CountingAllocator};

use support::*;
use tickline_engine::runtime::{Outcome, Pipeline};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Set to the window's length when the feed closes the measured window.
static COUNTED_TICKS: AtomicU64 = AtomicU64::new(0);

const WARMUP: u64 = 100_000;
const MEASURED: u64 = 1_000_000;

fn switch(on: bool) {
    alloc_count::count_this_thread(on);
    if !on {
        COUNTED_TICKS.store(MEASURED, Ordering::Relaxed);
    }
}

#[test]
fn fused_hot_path_allocates_nothing_after_warmup() {
    let mut feed = CountFeed::new("f", WARMUP + MEASURED + 1_000);
    // The feed runs on the hot thread: the switch covers that thread only.
    feed.hook = Some((WARMUP, WARMUP + MEASURED, switch));
    let sink = CountSink::default();
    let p = Pipeline::start(parts(
        vec![Box::new(feed)],
        EveryK { every: 10, seen: 0, panic_at: None },
        EchoVenue::new(),
        Some(sink.clone()),
        fused_plan(),
    ))
    .unwrap();
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    let t = p.snapshot();
    assert_eq!(p.join(), Outcome::Clean);
    assert_eq!(COUNTED_TICKS.load(Ordering::Relaxed), MEASURED, "the measured window ran");
    let orders = t.stage("gateway").unwrap().events;
    assert!(orders >= MEASURED / 2 / 10, "orders flowed in the window: {orders}");
    assert!(t.exec_reports >= 2 * orders - 2);
    assert_eq!(alloc_count::counted(), 0, "allocations on the hot thread in steady state");
}

#[test]
fn the_counter_sees_allocations() {
    // The proof above is only as good as the counter: an allocation must register.
    let before = alloc_count::thread_allocations();
    let v: Vec<u64> = Vec::with_capacity(16);
    std::hint::black_box(&v);
    assert_eq!(alloc_count::thread_allocations(), before + 1);
}

#[test]
fn the_process_total_sees_allocations_on_any_thread() {
    // Benchmarks divide this total by the ticks handled: it must count other threads too.
    let before = alloc_count::total();
    std::thread::spawn(|| std::hint::black_box(Vec::<u64>::with_capacity(16))).join().unwrap();
    // The spawn itself allocates as well; at least the thread's vector must show.
    assert!(alloc_count::total() > before, "{before} -> {}", alloc_count::total());
}
