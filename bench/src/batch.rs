//! Per-operation percentiles of an operation too short to time one at a time: time batches of
//! it, divide by the batch size, keep the distribution. Shared by the criterion benches that
//! print a percentile table before criterion's own runs.

use std::time::Duration;

/// Warm-up batches before recording.
const WARMUP: u32 = 2_000;

/// Runs `time_batch` (which performs `batch` operations and returns how long they took)
/// `samples` times after a warm-up, prints `name` with the per-operation min, p50, p99,
/// p99.9 and max, and returns the p50 in nanoseconds.
///
/// Values are kept in tenths of a nanosecond. The minimum is the cost with nothing else on the
/// core; on a shared host it is the figure to compare with a goal, and the percentiles show
/// the interference.
pub fn print_percentiles(
    name: &str,
    batch: usize,
    samples: u32,
    mut time_batch: impl FnMut() -> Duration,
) -> f64 {
    let per_op = |d: Duration| {
        let tenths = d.as_nanos().saturating_mul(10) / batch.max(1) as u128;
        u64::try_from(tenths).unwrap_or(u64::MAX).max(1)
    };
    let mut h = crate::pipeline::new_histogram();
    for _ in 0..WARMUP {
        time_batch();
    }
    for _ in 0..samples {
        h.saturating_record(per_op(time_batch()));
    }
    let f = |q: f64| h.value_at_quantile(q) as f64 / 10.0;
    println!(
        "  {name:<18} min {:>6.1} ns  p50 {:>7.1} ns  p99 {:>7.1} ns  p99.9 {:>7.1} ns  max {:>8.1} ns",
        h.min() as f64 / 10.0,
        f(0.5),
        f(0.99),
        f(0.999),
        h.max() as f64 / 10.0
    );
    f(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p50_is_per_operation() {
        // 40 ns a batch of 8: 5 ns an operation.
        let p50 = print_percentiles("fixed", 8, 100, || Duration::from_nanos(40));
        assert!((p50 - 5.0).abs() < 0.01, "{p50}");
    }
}
