//! `append` allocates nothing in steady state, segment rolls included: a counting global
//! allocator counts every allocation made on the writer's thread while it appends, and
//! every allocation made on any thread meanwhile (the background threads prepare, flush and
//! unmap segments for those rolls).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{TempDir, ALL_MODES};
use tickline_journal::{Durability, JournalConfig, Writer};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Allocations on any thread while [`COUNTING_ALL`] is on.
static ALL_THREADS: AtomicU64 = AtomicU64::new(0);
static COUNTING_ALL: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Counting for the writer's own thread.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTING.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    if COUNTING_ALL.load(Ordering::Relaxed) {
        ALL_THREADS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees are ours; counting touches only an atomic and a const-initialised
// thread-local `Cell<bool>`, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn append_and_roll_allocate_nothing() {
    for mode in ALL_MODES {
        let dir = TempDir::new("alloc");
        let mut cfg = JournalConfig::new(dir.path());
        cfg.segment_size = 1 << 20;
        cfg.durability = mode;
        let mut w = Writer::open(&cfg).unwrap();
        let payload = [0x5au8; 64];
        // Warm up: the first append and the first roll.
        for i in 0..20_000 {
            w.append(1, i, &payload).unwrap();
        }
        let rolls_before = w.stats().rolls;

        ALLOCATIONS.store(0, Ordering::Relaxed);
        ALL_THREADS.store(0, Ordering::Relaxed);
        COUNTING_ALL.store(true, Ordering::Relaxed);
        COUNTING.with(|c| c.set(true));
        for i in 0..300_000 {
            w.append(1, i, &payload).unwrap();
        }
        COUNTING.with(|c| c.set(false));
        COUNTING_ALL.store(false, Ordering::Relaxed);
        let during_append = ALLOCATIONS.load(Ordering::Relaxed);
        let all_threads = ALL_THREADS.load(Ordering::Relaxed);

        let rolls = w.stats().rolls - rolls_before;
        assert!(rolls >= 20, "{mode:?}: only {rolls} rolls measured");
        assert_eq!(during_append, 0, "{mode:?}: {during_append} allocations in 300k appends");
        // Each roll had the background thread prepare (create, allocate, map) a segment and
        // unmap a retired one; a process-wide count (the pipeline harness's) sees those too.
        assert_eq!(all_threads, 0, "{mode:?}: {all_threads} allocations on other threads");

        // A batch commit (msync) does not allocate either.
        if mode == Durability::Batch {
            COUNTING.with(|c| c.set(true));
            w.commit().unwrap();
            COUNTING.with(|c| c.set(false));
            assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), 0, "commit allocated");
        }
        w.close().unwrap();
    }
}
