//! A lock-free, allocation-free latency histogram for the hot path.
//!
//! Buckets are log-linear, as in HdrHistogram: values below 128 ns are exact, above that each
//! power of two is split into 64 linear sub-buckets (under 1.6 % relative error). Recording is
//! one relaxed load/store pair on an `AtomicU64`; any thread can read the buckets at any time
//! and turn them into an [`hdrhistogram::Histogram`] off the hot path for percentiles.

use std::sync::atomic::{AtomicU64, Ordering};

use hdrhistogram::Histogram;

const SUB_BITS: u32 = 6;
const SUB_COUNT: u64 = 1 << SUB_BITS; // 64 sub-buckets per power of two
const MAX_EXP: u32 = 40; // values up to 2^40 ns (~18 minutes); larger ones saturate
const BUCKETS: usize = ((MAX_EXP - SUB_BITS + 1) as usize) * SUB_COUNT as usize;

/// A single-writer histogram of nanosecond values.
#[derive(Debug)]
pub struct LatencyHistogram {
    buckets: Box<[AtomicU64]>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

#[inline(always)]
fn bucket_of(v: u64) -> usize {
    let v = v.min((1u64 << MAX_EXP) - 1);
    if v < 2 * SUB_COUNT {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros(); // >= SUB_BITS + 1
    let shift = exp - SUB_BITS;
    let sub = (v >> shift) - SUB_COUNT; // 0..SUB_COUNT
    ((shift as u64 + 1) * SUB_COUNT + sub) as usize
}

/// Lowest value that lands in bucket `i` (the inverse of `bucket_of`).
fn bucket_low(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB_COUNT {
        return i;
    }
    let shift = i / SUB_COUNT - 1;
    let sub = i % SUB_COUNT;
    (SUB_COUNT + sub) << shift
}

impl LatencyHistogram {
    /// An empty histogram (allocates its buckets once, here).
    pub fn new() -> LatencyHistogram {
        LatencyHistogram { buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect() }
    }

    /// Records one value in nanoseconds (owning thread only).
    #[inline(always)]
    pub fn record(&self, ns: u64) {
        let b = &self.buckets[bucket_of(ns)];
        b.store(b.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// Values recorded so far.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// Copies the buckets into an HdrHistogram (3 significant figures), from any thread.
    pub fn to_hdr(&self) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1u64 << (MAX_EXP + 1), 3)
            .expect("static histogram bounds are valid");
        for (i, b) in self.buckets.iter().enumerate() {
            let n = b.load(Ordering::Relaxed);
            if n > 0 {
                let _ = h.record_n(bucket_low(i).max(1), n);
            }
        }
        h
    }
}

/// Percentiles an operator asks for, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// 99.99th percentile.
    pub p9999: u64,
    /// Largest value.
    pub max: u64,
}

impl Percentiles {
    /// Percentiles of an HdrHistogram.
    pub fn of(h: &Histogram<u64>) -> Percentiles {
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            p9999: h.value_at_quantile(0.9999),
            max: h.max(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [0u64, 1, 127, 128, 129, 255, 256, 1000, 1_000_000, 123_456_789, 1 << 39] {
            let b = bucket_of(v);
            assert!(b >= last, "bucket order at {v}");
            last = b;
            let low = bucket_low(b);
            assert!(low <= v, "{v}: low {low}");
            // relative error under 1/64
            assert!((v - low) as f64 <= v as f64 / 64.0 + 1.0, "{v}: low {low}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
        for i in 0..BUCKETS {
            assert_eq!(bucket_of(bucket_low(i)), i, "bucket {i}");
        }
    }

    #[test]
    fn percentiles_follow_recorded_values() {
        let h = LatencyHistogram::new();
        for v in 1..=10_000u64 {
            h.record(v);
        }
        assert_eq!(h.count(), 10_000);
        let p = Percentiles::of(&h.to_hdr());
        assert_eq!(p.count, 10_000);
        assert!((4_900..=5_100).contains(&p.p50), "{p:?}");
        assert!((9_700..=10_000).contains(&p.p99), "{p:?}");
        assert!(p.max >= 9_800, "{p:?}");
    }
}
