//! Ring counters: single-writer atomics, readable from any thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crossbeam_utils::CachePadded;

use crate::telemetry::Counter;

/// Counters of one ring (values published and read are the cursors themselves). The producer
/// writes the producer block and each consumer its own block, so no counter has two writers and none shares a cache line with another writer's.
#[derive(Debug)]
pub struct RingStats {
    pub(crate) producer: CachePadded<ProducerCounters>,
    pub(crate) consumers: Box<[CachePadded<ConsumerCounters>]>,
}

#[derive(Debug, Default)]
pub(crate) struct ProducerCounters {
    pub(crate) full: Counter,
    pub(crate) conflated: Counter,
}

#[derive(Debug, Default)]
pub(crate) struct ConsumerCounters {
    pub(crate) dropped: Counter,
}

impl RingStats {
    pub(crate) fn new(consumers: usize) -> RingStats {
        RingStats {
            producer: CachePadded::new(ProducerCounters::default()),
            consumers: (0..consumers)
                .map(|_| CachePadded::new(ConsumerCounters::default()))
                .collect(),
        }
    }
}

/// A point-in-time copy of a ring's state, for telemetry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RingSnapshot {
    /// Ring name.
    pub name: String,
    /// Slots.
    pub capacity: u64,
    /// Declared full-ring policy.
    pub policy: super::FullPolicy,
    /// Values published.
    pub pushed: u64,
    /// Values the slowest consumer has not read yet.
    pub depth: u64,
    /// Times the producer found the ring full (back-pressure alarm for `block` rings).
    pub full: u64,
    /// Values replaced by a newer one for the same key (`conflate` rings).
    pub conflated: u64,
    /// Values consumers missed because they were lapped (`drop-oldest` rings), summed.
    pub dropped: u64,
}

impl<T> super::Shared<T> {
    pub(crate) fn snapshot(&self) -> RingSnapshot {
        let head = self.head.load(Ordering::Acquire);
        let slowest = self.cursors.iter().map(|c| c.load(Ordering::Acquire)).min().unwrap_or(head);
        let p = &self.stats.producer;
        RingSnapshot {
            name: self.name.to_string(),
            capacity: self.capacity,
            policy: self.policy,
            pushed: head,
            depth: head.saturating_sub(slowest).min(self.capacity),
            full: p.full.get(),
            conflated: p.conflated.get(),
            dropped: self.stats.consumers.iter().map(|c| c.dropped.get()).sum(),
        }
    }
}

/// A handle any thread can use to snapshot a ring.
pub trait RingProbe: Send + Sync {
    /// The ring's current state.
    fn snapshot(&self) -> RingSnapshot;
}

impl<T: Send> RingProbe for super::Shared<T> {
    fn snapshot(&self) -> RingSnapshot {
        super::Shared::snapshot(self)
    }
}

/// Shared handle to a ring's telemetry.
pub type RingHandle = Arc<dyn RingProbe>;
