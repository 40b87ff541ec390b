//! Rings: bounded, preallocated, lock-free single-producer broadcast queues.
//!
//! Each ring has one [`Producer`] and a fixed set of [`Consumer`]s (every consumer sees every
//! value, as in the LMAX Disruptor). Capacity is a power of two; each ring declares a
//! [`FullPolicy`]. Consumers poll the slot's own stamp rather than a shared producer cursor,
//! so a hand-off moves one cache line from producer to consumer; the producer reads the
//! consumers' cursors only when its cached view says the ring may be full.
//!
//! Several producers into one stage (several feeds into the strategy) use one ring each; the
//! stage polls them in turn. There is no compare-and-swap anywhere on the hot path.
//!
//! ```
//! use tickline_engine::ring::{FullPolicy, Ring};
//!
//! let (mut tx, mut rx) = Ring::<u64>::builder("demo", 8).policy(FullPolicy::Block).build_one().unwrap();
//! tx.try_push(7).unwrap();
//! assert_eq!(rx.try_pop(), Some(7));
//! assert_eq!(rx.try_pop(), None);
//! ```

mod consumer;
mod policy;
mod producer;
mod slots;
mod stats;
mod wait;

use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::Arc;

use crossbeam_utils::CachePadded;

pub use consumer::Consumer;
pub use policy::FullPolicy;
pub use producer::{Full, Producer};
pub use stats::{RingHandle, RingProbe, RingSnapshot, RingStats};
pub use wait::{WaitStrategy, Waiter};

use slots::Slots;

/// Why a ring could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RingError {
    /// Capacity is zero or not a power of two.
    #[error("ring {name}: capacity {capacity} is not a power of two")]
    Capacity {
        /// Ring name.
        name: String,
        /// Capacity given.
        capacity: usize,
    },
    /// A ring needs at least one consumer.
    #[error("ring {name}: needs at least one consumer")]
    NoConsumers {
        /// Ring name.
        name: String,
    },
    /// Conflation needs a key function.
    #[error("ring {name}: the conflate policy needs a key (use conflate_by)")]
    NoConflationKey {
        /// Ring name.
        name: String,
    },
}

/// Key of a value for conflation, and the number of distinct keys.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConflateKey<T> {
    pub(crate) key: fn(&T) -> usize,
    pub(crate) keys: usize,
}

pub(crate) struct Shared<T> {
    pub(crate) name: Arc<str>,
    pub(crate) slots: Slots<T>,
    pub(crate) capacity: u64,
    pub(crate) policy: FullPolicy,
    /// Next sequence the producer will write (= values published). Read by lapped consumers
    /// and telemetry, never on a consumer's fast path.
    pub(crate) head: CachePadded<AtomicU64>,
    /// Per consumer: the next sequence it will read. The producer gates on the minimum.
    pub(crate) cursors: Box<[CachePadded<AtomicU64>]>,
    pub(crate) stats: RingStats,
    pub(crate) closed: AtomicBool,
}

/// Entry point: `Ring::<T>::builder(name, capacity)`.
#[derive(Debug)]
pub struct Ring<T>(std::marker::PhantomData<T>);

impl<T: bytemuck::NoUninit + Send> Ring<T> {
    /// Starts building a ring named `name` (used in telemetry and errors).
    pub fn builder(name: &str, capacity: usize) -> RingBuilder<T> {
        RingBuilder {
            name: name.to_owned(),
            capacity,
            policy: FullPolicy::Block,
            consumers: 1,
            conflate: None,
        }
    }
}

/// Builds a ring; see [`Ring::builder`].
#[derive(Debug)]
pub struct RingBuilder<T> {
    name: String,
    capacity: usize,
    policy: FullPolicy,
    consumers: usize,
    conflate: Option<ConflateKey<T>>,
}

impl<T: bytemuck::NoUninit + Send> RingBuilder<T> {
    /// The full-ring policy (default [`FullPolicy::Block`]).
    pub fn policy(mut self, policy: FullPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Conflation key: `key(v) < keys` for every value. Needed for [`FullPolicy::Conflate`].
    pub fn conflate_by(mut self, key: fn(&T) -> usize, keys: usize) -> Self {
        self.conflate = Some(ConflateKey { key, keys });
        self
    }

    /// Number of consumers (default 1).
    pub fn consumers(mut self, n: usize) -> Self {
        self.consumers = n;
        self
    }

    /// Builds the ring with `consumers` consumers.
    pub fn build(self) -> Result<(Producer<T>, Vec<Consumer<T>>), RingError> {
        if self.capacity == 0 || !self.capacity.is_power_of_two() {
            return Err(RingError::Capacity { name: self.name, capacity: self.capacity });
        }
        if self.consumers == 0 {
            return Err(RingError::NoConsumers { name: self.name });
        }
        if self.policy == FullPolicy::Conflate && self.conflate.is_none() {
            return Err(RingError::NoConflationKey { name: self.name });
        }
        let shared = Arc::new(Shared {
            name: Arc::from(self.name.as_str()),
            slots: Slots::new(self.capacity),
            capacity: self.capacity as u64,
            policy: self.policy,
            head: CachePadded::new(AtomicU64::new(0)),
            cursors: (0..self.consumers).map(|_| CachePadded::new(AtomicU64::new(0))).collect(),
            stats: RingStats::new(self.consumers),
            closed: AtomicBool::new(false),
        });
        let consumers =
            (0..self.consumers).map(|i| Consumer::new(Arc::clone(&shared), i)).collect();
        Ok((Producer::new(shared, self.conflate), consumers))
    }

    /// Builds a ring with exactly one consumer.
    pub fn build_one(self) -> Result<(Producer<T>, Consumer<T>), RingError> {
        let (tx, mut rxs) = self.consumers(1).build()?;
        let rx = rxs.pop().ok_or_else(|| RingError::NoConsumers { name: String::new() })?;
        Ok((tx, rx))
    }
}

#[cfg(test)]
mod tests;
