//! Slot storage: preallocated cache-line-aligned words indexed by a power-of-two mask.
//!
//! A slot is `1 + size_of::<T>() / 8` `AtomicU64` words: a stamp, then the payload. Every
//! access is atomic, so a producer overwriting a slot that a lapped consumer is reading is a
//! detected tear (seqlock), never a data race.
//!
//! ```text
//! Slots take a power-of-two number of words (2, 4, 8 or 16), so none straddles a cache line
//! and small payloads pack several slots per line (four `u64` slots to a line, as crossbeam's
//! `ArrayQueue` packs them): a throughput run moves a quarter of the lines it would with one
//! slot per line.
//!
//! line 0             line 1                 (a 64-byte T: 9 words, a 16-word slot)
//! [stamp|w0..w6]     [w7|unused ..........]
//! stamp = seq + 1          published
//!       = (seq + 1) | W    being written (W = bit 63)
//!       = 0                never written
//! ```

use std::marker::PhantomData;
use std::sync::atomic::{fence, AtomicU64, Ordering};

/// Largest payload a ring carries, in 8-byte words (stamp excluded).
pub(crate) const MAX_WORDS: usize = 15;

/// Set in a stamp while its slot is being written.
const WRITING: u64 = 1 << 63;

#[repr(align(64))]
struct Line([AtomicU64; 8]);

/// What a read of slot `seq` found.
pub(crate) enum Read<T> {
    /// The value published at `seq`.
    Value(T),
    /// `seq` has not been published yet.
    Empty,
    /// `seq` was overwritten by a later sequence: the reader was lapped.
    Lapped,
}

pub(crate) struct Slots<T> {
    lines: Box<[Line]>,
    mask: u64,
    _payload: PhantomData<fn() -> T>,
}

/// The words of one slot: whole lines (`STRIDE >= 8`), or a run of `STRIDE` words at `off`
/// within one line. Sliced once per access, so each word's index is checked at compile time.
struct Slot<'a> {
    lines: &'a [Line],
    off: usize,
}

impl<T: bytemuck::NoUninit> Slots<T> {
    const WORDS: usize = {
        assert!(std::mem::size_of::<T>() % 8 == 0, "ring payload size must be a multiple of 8");
        assert!(std::mem::size_of::<T>() > 0, "ring payload must not be zero-sized");
        assert!(std::mem::size_of::<T>() / 8 <= MAX_WORDS, "ring payload is over 120 bytes");
        std::mem::size_of::<T>() / 8
    };
    /// Words per slot: the stamp and the payload, rounded up to a power of two.
    const STRIDE: usize = (1 + Self::WORDS).next_power_of_two();
    /// Lines a slot spans (one for slots that share a line).
    const LINES: usize = Self::STRIDE.div_ceil(8);

    /// `capacity` slots; `capacity` is a power of two (checked by the builder).
    pub(crate) fn new(capacity: usize) -> Slots<T> {
        let lines = (0..(capacity * Self::STRIDE).div_ceil(8))
            .map(|_| Line(std::array::from_fn(|_| AtomicU64::new(0))))
            .collect();
        Slots { lines, mask: capacity as u64 - 1, _payload: PhantomData }
    }

    #[inline(always)]
    fn slot(&self, seq: u64) -> Slot<'_> {
        let first = (seq & self.mask) as usize * Self::STRIDE;
        Slot { lines: &self.lines[first / 8..first / 8 + Self::LINES], off: first % 8 }
    }
}

impl Slot<'_> {
    /// Word `k` of the slot (`k` below the stride; constant wherever it is called).
    #[inline(always)]
    fn word(&self, k: usize) -> &AtomicU64 {
        if self.lines.len() > 1 {
            // Whole lines: a slot of 8 or more words starts a line (`off` is 0).
            &self.lines[k / 8].0[k % 8]
        } else {
            // `off` is a multiple of the stride and `off + k` stays within the line.
            &self.lines[0].0[(self.off + k) % 8]
        }
    }
}

impl<T: bytemuck::NoUninit> Slots<T> {
    /// Writes `value` as sequence `seq`. Single producer only.
    ///
    /// Ordering: the `WRITING` stamp is stored before the payload (release fence), and the final
    /// stamp with `Release`, so a reader that acquires the final stamp sees the whole payload
    /// and a reader that saw any new payload word sees a changed stamp on its re-check.
    #[inline(always)]
    pub(crate) fn write(&self, seq: u64, value: &T) {
        let slot = self.slot(seq);
        let stamp = slot.word(0);
        stamp.store((seq + 1) | WRITING, Ordering::Relaxed);
        fence(Ordering::Release);
        let bytes = bytemuck::bytes_of(value);
        for (i, chunk) in bytes.chunks_exact(8).enumerate() {
            let w = u64::from_ne_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
            slot.word(1 + i).store(w, Ordering::Relaxed);
        }
        stamp.store(seq + 1, Ordering::Release);
    }

    /// Reads sequence `seq` (seqlock read: retried if torn by a concurrent overwrite).
    #[inline(always)]
    pub(crate) fn read(&self, seq: u64) -> Read<T> {
        let slot = self.slot(seq);
        let stamp = slot.word(0);
        let want = seq + 1;
        loop {
            let s1 = stamp.load(Ordering::Acquire);
            if s1 != want {
                let published = s1 & !WRITING;
                return if published > want { Read::Lapped } else { Read::Empty };
            }
            let mut buf = [0u64; MAX_WORDS];
            for (i, w) in buf.iter_mut().enumerate().take(Self::WORDS) {
                *w = slot.word(1 + i).load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if stamp.load(Ordering::Relaxed) == s1 {
                // SAFETY: the stamp was `seq + 1` before and after the payload words were read,
                // and a writer changes the stamp (to `WRITING`) before touching any word, so the
                // words are exactly the bytes `write` took from a valid `T` by
                // `bytemuck::bytes_of` (`T: NoUninit`: no padding, every byte initialised).
                // `buf` holds at least `size_of::<T>()` bytes (WORDS <= MAX_WORDS, asserted at
                // compile time) and `read_unaligned` needs no alignment.
                return Read::Value(unsafe { std::ptr::read_unaligned(buf.as_ptr().cast::<T>()) });
            }
            // Torn by an overwrite: the next pass sees the new stamp and reports a lap.
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes a lap and a half of distinct values into 8 slots of `W`-word payloads, then
    /// reads every slot: the last lap reads back whole, the lap before reports lapped, the
    /// next sequence is empty. A slot written over a neighbour's words would show here.
    fn round_trip<const W: usize>()
    where
        [u64; W]: bytemuck::NoUninit,
    {
        let slots = Slots::<[u64; W]>::new(8);
        let value = |seq: u64| std::array::from_fn::<u64, W, _>(|k| (seq << 8) | (k as u64 + 1));
        for seq in 0..12 {
            slots.write(seq, &value(seq));
        }
        for seq in 4..12 {
            match slots.read(seq) {
                Read::Value(v) => assert_eq!(v, value(seq), "{W} words, seq {seq}"),
                _ => panic!("{W} words: seq {seq} not readable"),
            }
        }
        for seq in 0..4 {
            assert!(matches!(slots.read(seq), Read::Lapped), "{W} words: seq {seq} was lapped");
        }
        assert!(matches!(slots.read(12), Read::Empty), "{W} words: seq 12 not written yet");
    }

    #[test]
    fn every_stride_keeps_its_slots_apart() {
        round_trip::<1>(); // 2-word slots, four to a line
        round_trip::<3>(); // 4-word slots, two to a line
        round_trip::<7>(); // one slot per line
        round_trip::<8>(); // 16-word slots over two lines
        round_trip::<12>(); // a journal record's size
        round_trip::<MAX_WORDS>();
    }
}
