//! The consuming end of a ring.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::slots::Read;
use super::stats::RingSnapshot;
use super::Shared;

/// Slots a backlogged consumer prefetches ahead of the one it reads.
pub(crate) const PREFETCH_AHEAD: u64 = 8;

/// One consumer of a ring: sees every value published (unless lapped on a `drop-oldest` ring).
pub struct Consumer<T: bytemuck::NoUninit + Send> {
    shared: Arc<Shared<T>>,
    index: usize,
    next: u64,
}

impl<T: bytemuck::NoUninit + Send> std::fmt::Debug for Consumer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("ring", &self.shared.name)
            .field("index", &self.index)
            .field("next", &self.next)
            .finish()
    }
}

impl<T: bytemuck::NoUninit + Send> Consumer<T> {
    pub(crate) fn new(shared: Arc<Shared<T>>, index: usize) -> Consumer<T> {
        Consumer { shared, index, next: 0 }
    }

    /// Ring name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    #[inline(always)]
    fn read_next(&mut self) -> Option<T> {
        loop {
            match self.shared.slots.read(self.next) {
                Read::Value(v) => return Some(v),
                Read::Empty => return None,
                Read::Lapped => self.skip_lapped(),
            }
        }
    }

    #[cold]
    fn skip_lapped(&mut self) {
        let head = self.shared.head.load(Ordering::Acquire);
        let oldest = head.saturating_sub(self.shared.capacity);
        let resume = oldest.max(self.next + 1);
        self.shared.stats.consumers[self.index].dropped.add(resume - self.next);
        self.next = resume;
    }

    /// Takes the next value, if one is published.
    ///
    /// Ordering: the cursor is stored with `Release` after the slot was read, pairing with
    /// the producer's `Acquire` load before it reuses the slot.
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        let v = self.read_next()?;
        self.next += 1;
        self.shared.cursors[self.index].store(self.next, Ordering::Release);
        Some(v)
    }

    /// Hands up to `max` published values to `f`, releasing their slots once at the end.
    /// Returns how many were handled.
    ///
    /// A consumer that finds a backlog prefetches [`PREFETCH_AHEAD`] slots ahead of the one
    /// it reads, within what the producer has published.
    #[inline]
    pub fn poll(&mut self, max: usize, mut f: impl FnMut(T)) -> usize {
        if max == 0 {
            return 0;
        }
        let Some(first) = self.read_next() else { return 0 };
        self.next += 1;
        let mut n = 1;
        if max > 1 {
            // Published so far (at most `HEAD_EVERY` behind the truth): slots below it are
            // written and will not be written again until this consumer releases them.
            let head = self.shared.head.load(Ordering::Relaxed);
            let end = (self.next - 1).saturating_add(max as u64).min(head);
            let mut ahead = self.next;
            while ahead < end && ahead < self.next + PREFETCH_AHEAD {
                self.shared.slots.prefetch(ahead);
                ahead += 1;
            }
            f(first);
            while n < max {
                if ahead < end {
                    self.shared.slots.prefetch(ahead);
                    ahead += 1;
                }
                let Some(v) = self.read_next() else { break };
                self.next += 1;
                n += 1;
                f(v);
            }
        } else {
            f(first);
        }
        if n > 0 {
            self.shared.cursors[self.index].store(self.next, Ordering::Release);
        }
        n
    }

    /// Values published and not yet read by this consumer (approximate while racing).
    pub fn backlog(&self) -> u64 {
        self.shared.head.load(Ordering::Acquire).saturating_sub(self.next)
    }

    /// Whether the producer is gone and everything it published has been read.
    pub fn is_finished(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
            && self.next >= self.shared.head.load(Ordering::Acquire)
    }

    /// Values this consumer missed by being lapped.
    pub fn dropped(&self) -> u64 {
        self.shared.stats.consumers[self.index].dropped.get()
    }

    /// The ring's current state.
    pub fn snapshot(&self) -> RingSnapshot {
        self.shared.snapshot()
    }
}
