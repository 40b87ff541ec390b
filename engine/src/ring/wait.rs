//! Wait strategies: what a thread does when it has no work.
//!
//! Nothing on the hot path wakes a waiting thread (that would be a syscall per event), so the
//! parking strategy parks with a short timeout instead of waiting for an unpark.

use std::time::Duration;

/// How a thread waits for work, chosen per thread in the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStrategy {
    /// Spin on the CPU with `spin_loop` hints: lowest latency, burns the core. Only for
    /// threads pinned to an isolated core.
    BusySpin,
    /// Spin `spins` times, then yield to the scheduler on every further idle poll.
    SpinYield {
        /// Idle polls to spin before yielding.
        spins: u32,
    },
    /// Spin, yield, then park for `park_us` microseconds at a time. Lowest CPU use.
    Park {
        /// Idle polls to spin before yielding.
        spins: u32,
        /// Park duration once yielding has not found work.
        park_us: u32,
    },
}

/// Idle polls a spinning strategy spins before yielding, by default.
pub const DEFAULT_SPINS: u32 = 1_000;
/// Park duration of the parking strategy, by default (microseconds).
pub const DEFAULT_PARK_US: u32 = 50;

/// Yields after this many idle polls beyond `spins` before a parking waiter parks.
const YIELDS_BEFORE_PARK: u32 = 64;

impl WaitStrategy {
    /// Spin-then-yield with the default spin count: the strategy tests use on 2 cores.
    pub const fn spin_yield() -> WaitStrategy {
        WaitStrategy::SpinYield { spins: DEFAULT_SPINS }
    }

    /// Parses a config name: `busy-spin`, `spin-yield` or `park` (default parameters).
    pub fn from_name(name: &str) -> Option<WaitStrategy> {
        Some(match name {
            "busy-spin" => WaitStrategy::BusySpin,
            "spin-yield" => WaitStrategy::spin_yield(),
            "park" => WaitStrategy::Park { spins: DEFAULT_SPINS, park_us: DEFAULT_PARK_US },
            _ => return None,
        })
    }

    /// The config name.
    pub const fn name(self) -> &'static str {
        match self {
            WaitStrategy::BusySpin => "busy-spin",
            WaitStrategy::SpinYield { .. } => "spin-yield",
            WaitStrategy::Park { .. } => "park",
        }
    }

    /// A fresh waiter following this strategy.
    pub fn waiter(self) -> Waiter {
        Waiter { strategy: self, idle: 0 }
    }
}

/// Per-thread idle state for a [`WaitStrategy`].
#[derive(Debug)]
pub struct Waiter {
    strategy: WaitStrategy,
    idle: u32,
}

impl Waiter {
    /// Called when a poll found nothing to do.
    #[inline]
    pub fn idle(&mut self) {
        self.idle = self.idle.saturating_add(1);
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            WaitStrategy::SpinYield { spins } => {
                if self.idle <= spins {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Park { spins, park_us } => {
                if self.idle <= spins {
                    std::hint::spin_loop();
                } else if self.idle <= spins.saturating_add(YIELDS_BEFORE_PARK) {
                    std::thread::yield_now();
                } else {
                    std::thread::park_timeout(Duration::from_micros(u64::from(park_us)));
                }
            }
        }
    }

    /// Called when a poll found work.
    #[inline]
    pub fn reset(&mut self) {
        self.idle = 0;
    }
}
