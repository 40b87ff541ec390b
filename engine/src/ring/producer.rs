//! The producing end of a ring.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::stats::{RingHandle, RingSnapshot};
use super::{ConflateKey, FullPolicy, Shared, Waiter};

/// Values between two stores of the producer's position (`head`); a power of two.
const HEAD_EVERY: u64 = 32;

/// A push that could not complete; hands the value back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full<T>(pub T);

/// The single producer of a ring. Dropping it closes the ring: consumers drain what is left
/// and then see [`super::Consumer::is_finished`].
pub struct Producer<T: bytemuck::NoUninit + Send> {
    shared: Arc<Shared<T>>,
    /// Next sequence to write.
    next: u64,
    /// Cached `min(consumer cursors) + capacity`: `next` below it needs no cursor read.
    limit: u64,
    conflate: Option<Conflation<T>>,
}

struct Conflation<T> {
    key: ConflateKey<T>,
    /// Latest pending value per key while the ring is full.
    latest: Box<[Option<T>]>,
    /// Keys with a pending value, in the order they first became pending.
    order: VecDeque<usize>,
}

impl<T: bytemuck::NoUninit + Send> std::fmt::Debug for Producer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("ring", &self.shared.name)
            .field("next", &self.next)
            .finish()
    }
}

impl<T: bytemuck::NoUninit + Send> Producer<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, key: Option<ConflateKey<T>>) -> Producer<T> {
        let limit = shared.capacity;
        let conflate = match (shared.policy, key) {
            (FullPolicy::Conflate, Some(key)) => Some(Conflation {
                key,
                latest: vec![None; key.keys].into_boxed_slice(),
                order: VecDeque::with_capacity(key.keys),
            }),
            _ => None,
        };
        Producer { shared, next: 0, limit, conflate }
    }

    /// Ring name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The ring's declared full policy.
    pub fn policy(&self) -> FullPolicy {
        self.shared.policy
    }

    /// Whether sequence `next` has room, refreshing the cached consumer minimum if needed.
    ///
    /// Ordering: cursors are loaded with `Acquire`, pairing with the consumers' `Release`
    /// stores after they read a slot, so the slot's old value is fully read before we
    /// overwrite it.
    #[inline]
    fn has_room(&mut self) -> bool {
        if self.next < self.limit {
            return true;
        }
        self.publish_head();
        let slowest = self
            .shared
            .cursors
            .iter()
            .map(|c| c.load(Ordering::Acquire))
            .min()
            .unwrap_or(self.next);
        self.limit = slowest + self.shared.capacity;
        self.next < self.limit
    }

    #[inline(always)]
    fn publish(&mut self, value: &T) {
        self.shared.slots.write(self.next, value);
        self.next += 1;
        // Consumers find values by their slot stamps; `head` only serves lapped consumers and
        // telemetry, so it is published every `HEAD_EVERY` values (and on refresh, flush,
        // snapshot and drop) rather than on every push: one store per value less on the
        // producer's hottest line.
        if self.next % HEAD_EVERY == 0 {
            self.publish_head();
        }
    }

    /// Publishes the producer's position. Release: a lapped consumer that reads `head` and
    /// then slots below it sees them written.
    #[inline]
    fn publish_head(&self) {
        self.shared.head.store(self.next, Ordering::Release);
    }

    /// Pushes without waiting.
    ///
    /// - `block`: `Err(Full(value))` when the slowest consumer is `capacity` behind; the
    ///   `full` alarm counter counts it.
    /// - `drop-oldest`: always succeeds, overwriting the oldest slot if needed.
    /// - `conflate`: always succeeds; while full the value waits in a per-key table, replacing
    ///   an older pending value for the same key (counted), and is published by a later push
    ///   or [`Producer::flush`].
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), Full<T>> {
        match self.shared.policy {
            FullPolicy::DropOldest => {
                self.publish(&value);
                Ok(())
            }
            FullPolicy::Block => {
                if self.has_room() {
                    self.publish(&value);
                    Ok(())
                } else {
                    self.shared.stats.producer.full.inc();
                    Err(Full(value))
                }
            }
            FullPolicy::Conflate => {
                if self.has_pending() {
                    self.flush();
                }
                if !self.has_pending() && self.has_room() {
                    self.publish(&value);
                } else {
                    self.park(value);
                }
                Ok(())
            }
        }
    }

    /// Pushes, waiting with `waiter` while a `block` ring is full. Gives the value back if
    /// `abort` becomes true while waiting (the consumer's thread has stopped), so a stopped
    /// pipeline can never deadlock its producers.
    #[inline]
    pub fn push(
        &mut self,
        value: T,
        waiter: &mut Waiter,
        abort: &AtomicBool,
    ) -> Result<(), Full<T>> {
        let mut value = value;
        loop {
            match self.try_push(value) {
                Ok(()) => {
                    waiter.reset();
                    return Ok(());
                }
                Err(Full(v)) => {
                    if abort.load(Ordering::Relaxed) {
                        return Err(Full(v));
                    }
                    value = v;
                    waiter.idle();
                }
            }
        }
    }

    fn has_pending(&self) -> bool {
        self.conflate.as_ref().is_some_and(|c| !c.order.is_empty())
    }

    #[cold]
    fn park(&mut self, value: T) {
        let Some(c) = self.conflate.as_mut() else { return };
        let k = (c.key.key)(&value);
        let Some(slot) = c.latest.get_mut(k) else {
            // A key outside the declared range cannot be conflated: count it as dropped
            // rather than grow the table on the hot path.
            self.shared.stats.producer.conflated.inc();
            return;
        };
        if slot.replace(value).is_some() {
            self.shared.stats.producer.conflated.inc();
        } else {
            c.order.push_back(k);
            self.shared.stats.producer.full.inc();
        }
    }

    /// Publishes values a `conflate` ring is holding back, as far as space allows. Returns how
    /// many are still pending. A no-op for other policies.
    pub fn flush(&mut self) -> usize {
        self.publish_head();
        loop {
            let Some(&k) = self.conflate.as_ref().and_then(|c| c.order.front()) else { return 0 };
            if !self.has_room() {
                return self.conflate.as_ref().map_or(0, |c| c.order.len());
            }
            let Some(c) = self.conflate.as_mut() else { return 0 };
            c.order.pop_front();
            if let Some(v) = c.latest.get_mut(k).and_then(Option::take) {
                self.publish(&v);
                self.publish_head();
            }
        }
    }

    /// Free slots for a `block` ring (refreshing the cached consumer minimum when needed);
    /// `u64::MAX` for lossy rings, which never refuse a push.
    #[inline]
    pub fn room(&mut self) -> u64 {
        if self.shared.policy != FullPolicy::Block {
            return u64::MAX;
        }
        if !self.has_room() {
            return 0;
        }
        self.limit - self.next
    }

    /// Values published so far.
    pub fn published(&self) -> u64 {
        self.next
    }

    /// A telemetry handle for this ring.
    pub fn handle(&self) -> RingHandle {
        self.shared.clone()
    }

    /// The ring's current state.
    pub fn snapshot(&self) -> RingSnapshot {
        self.publish_head();
        self.shared.snapshot()
    }
}

impl<T: bytemuck::NoUninit + Send> Drop for Producer<T> {
    fn drop(&mut self) {
        self.flush();
        self.publish_head();
        self.shared.closed.store(true, Ordering::Release);
    }
}
