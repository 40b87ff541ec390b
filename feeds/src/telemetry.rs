//! Feed counters: frames, bytes, ticks and decode errors by kind.
//!
//! Every counter is an [`tickline_engine::telemetry::Counter`]: written only by the feed
//! thread, readable from any thread (the sidecar) through the `Arc` the handler hands out.

use tickline_engine::telemetry::Counter;

use crate::decode_error::DecodeError;

/// One counter per [`DecodeError`] kind.
#[derive(Debug)]
pub struct DecodeErrorCounters {
    by_kind: [Counter; DecodeError::COUNT],
}

impl Default for DecodeErrorCounters {
    fn default() -> Self {
        DecodeErrorCounters::new()
    }
}

impl DecodeErrorCounters {
    /// All counters at zero.
    pub const fn new() -> DecodeErrorCounters {
        DecodeErrorCounters { by_kind: [const { Counter::new() }; DecodeError::COUNT] }
    }

    /// Counts one error of this kind (feed thread only).
    #[inline]
    pub fn record(&self, kind: DecodeError) {
        self.by_kind[kind.index()].inc();
    }

    /// Errors of this kind so far.
    #[inline]
    pub fn get(&self, kind: DecodeError) -> u64 {
        self.by_kind[kind.index()].get()
    }

    /// Errors of every kind so far.
    pub fn total(&self) -> u64 {
        self.by_kind.iter().map(Counter::get).sum()
    }

    /// `(kind, count)` for every kind, in [`DecodeError::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (DecodeError, u64)> + '_ {
        DecodeError::ALL.iter().map(move |&k| (k, self.get(k)))
    }
}

/// Counters of one feed handler (one venue connection).
#[derive(Debug, Default)]
pub struct FeedTelemetry {
    /// Frames received (good and bad).
    pub frames: Counter,
    /// Bytes received in those frames.
    pub bytes: Counter,
    /// Ticks published.
    pub ticks: Counter,
    /// Frames that took the `simd-json` fallback instead of the fast path.
    pub fallbacks: Counter,
    /// Frames rejected, by kind.
    pub decode_errors: DecodeErrorCounters,
}

impl FeedTelemetry {
    /// All counters at zero.
    pub fn new() -> FeedTelemetry {
        FeedTelemetry::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_kind() {
        let c = DecodeErrorCounters::new();
        c.record(DecodeError::Malformed);
        c.record(DecodeError::Malformed);
        c.record(DecodeError::TooPrecise);
        assert_eq!(c.get(DecodeError::Malformed), 2);
        assert_eq!(c.get(DecodeError::TooPrecise), 1);
        assert_eq!(c.get(DecodeError::Binary), 0);
        assert_eq!(c.total(), 3);
        assert_eq!(c.iter().filter(|&(_, n)| n > 0).count(), 2);
    }
}
