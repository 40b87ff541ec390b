//! The consuming end of a ring.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::slots::Read;
use super::stats::RingSnapshot;
use super::Shared;

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
    #[inline]
    pub fn poll(&mut self, max: usize, f: impl FnMut(T)) -> usize {
        self.poll_below(u64::MAX, max, f)
    }

    /// As [`Consumer::poll`], but only values below the producer's published position
    /// (`head`, stored every few values and whenever the producer finds the ring full,
    /// flushes or closes). A consumer that can wait (the recorder) thus reads lines the
    /// producer has moved past, instead of following it slot by slot and pulling each line
    /// away from it while it is still writing there; [`Consumer::poll`] picks up the rest.
    #[inline]
    pub fn poll_published(&mut self, max: usize, f: impl FnMut(T)) -> usize {
        // Acquire: pairs with the producer's `Release` store of `head`, made after the slots
        // below it were written.
        let head = self.shared.head.load(Ordering::Acquire);
        self.poll_below(head, max, f)
    }

    /// Up to `max` published values below sequence `end` to `f`; the cursor is stored once.
    #[inline(always)]
    fn poll_below(&mut self, end: u64, max: usize, mut f: impl FnMut(T)) -> usize {
        let mut n = 0;
        while n < max && self.next < end {
            let Some(v) = self.read_next() else { break };
            self.next += 1;
            n += 1;
            f(v);
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
