//! Proves the fused hot path allocates nothing in steady state: 1,000,000 ticks after warm-up
//! go through feed → strategy → risk → gateway → reverse path → record ring, and a counting
//! global allocator sees no allocation on that thread.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use support::*;
use tickline_engine::runtime::{Outcome, Pipeline};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static COUNTED_TICKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: defers every call to the system allocator unchanged; it only counts calls made
// while the current thread has counting switched on.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours; the caller upholds it.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: same contract as ours; the caller upholds it.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WARMUP: u64 = 100_000;
const MEASURED: u64 = 1_000_000;

fn switch(on: bool) {
    COUNTING.with(|c| c.set(on));
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
    assert_eq!(ALLOCS.load(Ordering::Relaxed), 0, "allocations on the hot thread in steady state");
}
