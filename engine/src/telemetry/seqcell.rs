//! The single-writer seqlock every published copy uses (positions, the open-order board, the
//! fill log): `W` words behind a sequence that is odd while the writer is inside. The writer
//! never waits; a reader copies the words and keeps them only if it saw the same even
//! sequence before and after. Words are atomics, so a torn read is detected, never a data
//! race, and there is no `unsafe`.

use std::sync::atomic::{fence, AtomicU64, Ordering};

/// `W` words behind a sequence, on a cache line of their own.
#[derive(Debug)]
#[repr(C, align(64))]
pub(crate) struct SeqCell<const W: usize> {
    seq: AtomicU64,
    words: [AtomicU64; W],
}

impl<const W: usize> Default for SeqCell<W> {
    fn default() -> Self {
        SeqCell { seq: AtomicU64::new(0), words: std::array::from_fn(|_| AtomicU64::new(0)) }
    }
}

impl<const W: usize> SeqCell<W> {
    /// Stores through `f` between an odd and the next even sequence (the one writer only).
    #[inline]
    pub(crate) fn write(&self, f: impl FnOnce(&[AtomicU64; W])) {
        let s = self.seq.load(Ordering::Relaxed);
        self.write_as(s.wrapping_add(2) & !1, f);
    }

    /// As [`SeqCell::write`], leaving the sequence at `even` (a ring whose readers ask for
    /// one generation of a slot: [`SeqCell::read_at`]).
    #[inline]
    pub(crate) fn write_as(&self, even: u64, f: impl FnOnce(&[AtomicU64; W])) {
        self.seq.store(even.wrapping_sub(1), Ordering::Relaxed);
        // Orders the odd sequence before the word stores for a reader that sees a word.
        fence(Ordering::Release);
        f(&self.words);
        self.seq.store(even, Ordering::Release);
    }

    /// The writer's own view of word `k`.
    #[inline]
    pub(crate) fn own(&self, k: usize) -> u64 {
        self.words[k].load(Ordering::Relaxed)
    }

    /// The words if the sequence was `want` on both sides of the copy.
    pub(crate) fn read_at(&self, want: u64) -> Option<[u64; W]> {
        if self.seq.load(Ordering::Acquire) != want {
            return None;
        }
        let w = std::array::from_fn(|k| self.words[k].load(Ordering::Relaxed));
        // Orders the word loads before the second sequence load.
        fence(Ordering::Acquire);
        (self.seq.load(Ordering::Relaxed) == want).then_some(w)
    }

    /// A whole copy, waiting out a writer that is inside (spinning, yielding every 64 tries,
    /// in case it was preempted there).
    pub(crate) fn read(&self) -> [u64; W] {
        let mut tries = 0u32;
        loop {
            let s = self.seq.load(Ordering::Acquire);
            if s % 2 == 0 {
                if let Some(w) = self.read_at(s) {
                    return w;
                }
            }
            tries += 1;
            if tries % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    #[test]
    fn sequences_and_generations() {
        let c = SeqCell::<2>::default();
        assert_eq!(c.read(), [0, 0]);
        c.write(|w| w[1].store(7, Ordering::Relaxed));
        assert_eq!((c.read(), c.own(1)), ([0, 7], 7));
        c.write_as(10, |w| w[0].store(3, Ordering::Relaxed));
        assert_eq!(c.read_at(10), Some([3, 7]));
        assert_eq!(c.read_at(8), None, "another generation");
        c.write(|_| {});
        assert_eq!(c.read_at(12), Some([3, 7]));
    }

    /// A reader racing the writer only ever sees pairs the writer stored together.
    #[test]
    fn a_racing_reader_never_sees_a_torn_pair() {
        let c = Arc::new(SeqCell::<2>::default());
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (c, done) = (Arc::clone(&c), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) {
                    c.write(|w| {
                        w[0].store(n, Ordering::Relaxed);
                        w[1].store(n.wrapping_mul(3), Ordering::Relaxed);
                    });
                    n += 1;
                    if n % 256 == 0 {
                        std::thread::yield_now();
                    }
                }
            })
        };
        for _ in 0..20_000 {
            let [a, b] = c.read();
            assert_eq!(b, a.wrapping_mul(3), "torn read");
        }
        done.store(true, Ordering::Relaxed);
        writer.join().unwrap();
    }
}
