//! Single-writer counters.

use std::sync::atomic::{AtomicU64, Ordering};

/// A counter with one writing thread and any number of readers.
///
/// Increments are a relaxed load and store, not a read-modify-write: on x86-64 that is a
/// plain `mov`/`add`/`mov` with no `lock` prefix. Only the owning thread may call
/// [`Counter::inc`]/[`Counter::add`]; two writers would lose counts (never memory safety).
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    /// Adds one (owning thread only).
    #[inline(always)]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (owning thread only).
    #[inline(always)]
    pub fn add(&self, n: u64) {
        self.0.store(self.0.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
    }

    /// Sets the value (owning thread only; gauges).
    #[inline(always)]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Current value, from any thread.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A counter any thread may increment (a locked add): for cold paths only, such as events
/// lost during a failed shutdown, where several threads may count.
#[derive(Debug, Default)]
pub struct SharedCounter(AtomicU64);

impl SharedCounter {
    /// Adds one, from any thread.
    #[inline]
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}
