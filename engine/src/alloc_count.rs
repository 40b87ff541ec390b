//! A counting global allocator: the one implementation behind every "allocates nothing"
//! proof in the workspace's tests.
//!
//! Install it in a test binary, switch counting on for the thread under test, run the hot
//! path, read the count:
//!
//! ```ignore
//! use tickline_engine::alloc_count::{self, CountingAllocator};
//!
//! #[global_allocator]
//! static GLOBAL: CountingAllocator = CountingAllocator;
//!
//! alloc_count::count_this_thread(true);
//! hot_path();
//! alloc_count::count_this_thread(false);
//! assert_eq!(alloc_count::counted(), 0);
//! ```
//!
//! Three views: [`counted`] sums allocations made on every thread while that thread had
//! counting switched on (a switch can be flipped from inside the hot thread itself);
//! [`thread_allocations`] is the calling thread's own running count, always on, which lets
//! tests that run in parallel in one binary measure without disturbing each other; and
//! [`total`] counts every thread, always (benchmarks of whole pipelines).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The counting allocator: `System` plus counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct CountingAllocator;

static COUNTED: AtomicU64 = AtomicU64::new(0);
static TOTAL: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static THREAD: Cell<u64> = const { Cell::new(0) };
}

/// Switches counting into [`counted`] on or off for the calling thread.
pub fn count_this_thread(on: bool) {
    COUNTING.with(|c| c.set(on));
}

/// Allocations (and reallocations) made while their thread had counting switched on.
pub fn counted() -> u64 {
    COUNTED.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) made by every thread of the process since it started:
/// a benchmark reads it around a measurement window in which only the threads under test
/// run, and divides by the events they handled.
pub fn total() -> u64 {
    TOTAL.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) the calling thread has made since it started.
pub fn thread_allocations() -> u64 {
    THREAD.with(Cell::get)
}

#[inline]
fn bump() {
    // `try_with`: the slots may already be gone while a thread is being torn down.
    let _ = THREAD.try_with(|c| c.set(c.get() + 1));
    TOTAL.fetch_add(1, Ordering::Relaxed);
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        COUNTED.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `System`; counting touches only
// const-initialised thread-locals without destructors and an atomic, none of which allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
