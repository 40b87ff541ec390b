//! The most recent fills, published by the strategy thread for the sidecar.
//!
//! A fixed ring of [`FILL_LOG_CAPACITY`] slots, each a per-slot seqlock of `AtomicU64`
//! words: the writer stamps a slot odd, stores the report's words, and stamps it with the
//! fill's number; a reader accepts a slot only if it carries the stamp of the fill it wants
//! before and after reading the words, so it never returns half of one fill and half of
//! another. The writer never waits for a reader and nothing allocates after construction; a
//! reader that is lapped while reading simply stops at the overwritten slot. No lock, no
//! `unsafe`: the words go back into an [`ExecReport`] through `bytemuck`'s checked cast.

use std::sync::atomic::{AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

use super::SeqCell;
use crate::types::ExecReport;

/// Fills kept by default: the last 1,024.
pub const FILL_LOG_CAPACITY: usize = 1_024;

const WORDS: usize = std::mem::size_of::<ExecReport>() / 8;
const _: () = assert!(std::mem::size_of::<ExecReport>() == WORDS * 8);

/// A slot's sequence is `2 * (n + 1)` once fill `n` is in it, odd while the writer is in it,
/// 0 never used.
type Slot = SeqCell<WORDS>;

/// A ring of the latest fills: one writer (the strategy thread), any number of readers.
#[derive(Debug)]
pub struct FillLog {
    slots: Box<[Slot]>,
    mask: u64,
    /// Fills written so far (the next fill's number).
    head: CachePadded<AtomicU64>,
}

impl Default for FillLog {
    fn default() -> Self {
        FillLog::new(FILL_LOG_CAPACITY)
    }
}

impl FillLog {
    /// A log keeping the latest `capacity` fills (rounded up to a power of two, at least 1).
    pub fn new(capacity: usize) -> FillLog {
        let n = capacity.max(1).next_power_of_two();
        FillLog {
            slots: (0..n).map(|_| Slot::default()).collect(),
            mask: n as u64 - 1,
            head: CachePadded::new(AtomicU64::new(0)),
        }
    }

    /// Fills it keeps.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Fills written since start (the owning thread's count; readers may lag it).
    pub fn written(&self) -> u64 {
        self.head.load(Ordering::Acquire)
    }

    /// Appends a fill, overwriting the oldest once full (owning thread only: one writer).
    ///
    /// The slot's seqlock orders the words against its sequence, and the head is a release
    /// store after it, so a reader that acquires either sees the words of that fill or a
    /// sequence that tells it to stop.
    #[inline]
    pub fn push(&self, report: &ExecReport) {
        let n = self.head.load(Ordering::Relaxed);
        let bytes = bytemuck::bytes_of(report);
        self.slots[(n & self.mask) as usize].write_as(2 * (n + 1), |words| {
            for (w, chunk) in words.iter().zip(bytes.chunks_exact(8)) {
                let mut b = [0u8; 8];
                b.copy_from_slice(chunk);
                w.store(u64::from_ne_bytes(b), Ordering::Relaxed);
            }
        });
        self.head.store(n + 1, Ordering::Release);
    }

    /// Fill number `n`, if its slot still holds it whole.
    fn read(&self, n: u64) -> Option<ExecReport> {
        let words = self.slots[(n & self.mask) as usize].read_at(2 * (n + 1))?;
        let mut bytes = [0u8; WORDS * 8];
        for (w, chunk) in words.iter().zip(bytes.chunks_exact_mut(8)) {
            chunk.copy_from_slice(&w.to_ne_bytes());
        }
        bytemuck::checked::try_pod_read_unaligned(&bytes).ok()
    }

    /// The latest `limit` fills, newest first (cold path: allocates the list). Stops early at
    /// a slot the writer has overwritten meanwhile, so every fill returned is whole and they
    /// are consecutive.
    pub fn latest(&self, limit: usize) -> Vec<ExecReport> {
        let head = self.written();
        let n = (limit as u64).min(head).min(self.slots.len() as u64);
        let mut out = Vec::with_capacity(n as usize);
        for k in 1..=n {
            match self.read(head - k) {
                Some(r) => out.push(r),
                None => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;

    use super::*;
    use crate::types::{ClientOrderId, ExecKind, InstrumentId, Nanos, Px, Qty, Side, StrategyId};

    /// A fill whose every field is derived from `n`, so a torn read cannot pass as whole.
    fn fill(n: u64) -> ExecReport {
        let i = n as i64;
        ExecReport {
            ts: Nanos(i),
            client_id: ClientOrderId(n),
            venue_order_id: n ^ 0xdead_beef,
            last_px: Px::from_raw(i * 3),
            last_qty: Qty::from_raw(i * 5),
            cum_qty: Qty::from_raw(i * 7),
            leaves_qty: Qty::from_raw(i * 11),
            fee: -i,
            instrument: InstrumentId(n as u32),
            strategy: StrategyId(n as u16),
            kind: if n % 2 == 0 { ExecKind::Fill } else { ExecKind::PartialFill },
            side: if n % 3 == 0 { Side::Buy } else { Side::Sell },
        }
    }

    #[test]
    fn keeps_the_latest_newest_first_and_wraps() {
        let log = FillLog::new(5);
        assert_eq!(log.capacity(), 8);
        assert!(log.latest(10).is_empty());
        for n in 0..3 {
            log.push(&fill(n));
        }
        assert_eq!(log.latest(10), vec![fill(2), fill(1), fill(0)]);
        assert_eq!(log.latest(2), vec![fill(2), fill(1)]);
        // Past the capacity: the oldest are overwritten, the last 8 stay.
        for n in 3..21 {
            log.push(&fill(n));
        }
        assert_eq!(log.written(), 21);
        let all = log.latest(100);
        assert_eq!(all, (13..21).rev().map(fill).collect::<Vec<_>>());
        assert_eq!(log.latest(1), vec![fill(20)]);
    }

    /// A writer laps a small ring as fast as it can while a reader reads it: every report the
    /// reader accepts is one the writer wrote, whole, and the list is consecutive.
    #[test]
    fn a_concurrent_reader_never_sees_a_torn_fill() {
        let log = Arc::new(FillLog::new(4));
        let done = Arc::new(AtomicBool::new(false));
        let writer = {
            let (log, done) = (Arc::clone(&log), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) {
                    log.push(&fill(n));
                    n += 1;
                    if n % 64 == 0 {
                        // Two cores: let the reader in.
                        std::thread::yield_now();
                    }
                }
                n
            })
        };
        let mut accepted = 0u64;
        for round in 0..20_000 {
            let got = log.latest(4);
            for w in got.windows(2) {
                assert_eq!(w[0].client_id.0, w[1].client_id.0 + 1, "consecutive, newest first");
            }
            for r in &got {
                assert_eq!(*r, fill(r.client_id.0), "torn fill accepted");
            }
            accepted += got.len() as u64;
            if round % 16 == 0 {
                std::thread::yield_now();
            }
        }
        done.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert!(written > 0 && accepted > 0, "written {written}, accepted {accepted}");
    }
}
