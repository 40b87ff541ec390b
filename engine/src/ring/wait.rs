//! Wait strategies: what a thread does when it has no work.
//!
//! Nothing on the hot path wakes a waiting thread (that would be a syscall per event), so the
//! parking strategy parks with a short timeout instead of waiting for an unpark.

use std::time::Duration;

/// How a thread waits for work, chosen per thread in the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WaitStrategy {
    /// Spin on the CPU with `spin_loop` hints: lowest latency, burns the core. Only for
    /// threads pinned to an isolated core.
    BusySpin,
    /// Spin `spins` times, then yield to the scheduler on every further idle poll.
    SpinYield {
        /// Idle polls to spin before yielding.
        #[serde(default = "default_spins")]
        spins: u32,
    },
    /// Spin, yield, then park for `park_us` microseconds at a time. Lowest CPU use.
    Park {
        /// Idle polls to spin before yielding.
        #[serde(default = "default_spins")]
        spins: u32,
        /// Park duration once yielding has not found work (default 50 µs).
        #[serde(default = "default_park_us")]
        park_us: u32,
    },
}

fn default_spins() -> u32 {
    1_000
}

fn default_park_us() -> u32 {
    50
}

/// Yields after this many idle polls beyond `spins` before a parking waiter parks.
const YIELDS_BEFORE_PARK: u32 = 64;

impl WaitStrategy {
    /// Spin-then-yield with the default spin count: the strategy tests use on 2 cores.
    pub const fn spin_yield() -> WaitStrategy {
        WaitStrategy::SpinYield { spins: 1_000 }
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
