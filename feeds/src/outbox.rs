//! Where a venue feed's ticks wait for the runtime's batch: reasonability checks on the way
//! in, a preallocated overflow queue for frames that yield more ticks than the batch has
//! room for, and a rate limit on logging bad input.

use std::collections::VecDeque;
use std::sync::Arc;

use tickline_engine::stage::TickBatch;
use tickline_engine::types::{Nanos, Tick};

use crate::reasonability::Reasonability;
use crate::venue_telemetry::VenueFeedTelemetry;

/// Ticks held for the next poll at most (a frame yields at most a few; an OKX trades push
/// can carry dozens).
pub(crate) const PENDING_TICKS: usize = 4_096;

/// The feed side of the tick batch.
#[derive(Debug)]
pub(crate) struct Outbox {
    pending: VecDeque<Tick>,
    pub(crate) reason: Reasonability,
    telemetry: Arc<VenueFeedTelemetry>,
}

impl Outbox {
    pub(crate) fn new(reason: Reasonability, telemetry: Arc<VenueFeedTelemetry>) -> Outbox {
        Outbox { pending: VecDeque::with_capacity(PENDING_TICKS), reason, telemetry }
    }

    /// Whether ticks wait from an earlier poll (then no new frame is read).
    #[inline]
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Moves waiting ticks into `out`, oldest first.
    #[inline]
    pub(crate) fn drain(&mut self, out: &mut TickBatch) {
        while !out.is_full() {
            let Some(t) = self.pending.pop_front() else { break };
            if let Err(t) = out.push(t) {
                self.pending.push_front(t);
                break;
            }
        }
    }

    /// A tick from the venue: checked, then into `out` or the queue.
    #[inline]
    pub(crate) fn emit(&mut self, out: &mut TickBatch, tick: Tick) {
        let t = self.reason.check(tick);
        self.put(out, t);
    }

    /// A tick the feed made itself (a `STALE` re-publication): not checked again.
    #[inline]
    pub(crate) fn put(&mut self, out: &mut TickBatch, tick: Tick) {
        put(&mut self.pending, &self.telemetry, out, tick);
    }

    /// Re-publishes silent instruments' last quotes as `STALE`.
    pub(crate) fn sweep(&mut self, now: Nanos, out: &mut TickBatch) {
        let Outbox { reason, pending, telemetry } = self;
        reason.sweep(now, |t| put(pending, telemetry, out, t));
    }

    /// The connection dropped: every last quote goes out again as `STALE`.
    pub(crate) fn invalidate_all(&mut self, now: Nanos, out: &mut TickBatch) {
        let Outbox { reason, pending, telemetry } = self;
        reason.invalidate_all(now, |t| put(pending, telemetry, out, t));
    }
}

#[inline]
fn put(pending: &mut VecDeque<Tick>, telemetry: &VenueFeedTelemetry, out: &mut TickBatch, t: Tick) {
    if pending.is_empty() && out.push(t).is_ok() {
        return;
    }
    if pending.len() >= PENDING_TICKS {
        pending.pop_front();
        telemetry.dropped_ticks.inc();
    }
    pending.push_back(t);
}

/// At most one log line per interval for a noisy condition; counts what it held back.
#[derive(Debug, Default)]
pub(crate) struct LogGate {
    next: Nanos,
    suppressed: u64,
}

impl LogGate {
    /// Whether to log now; if so, how many were held back since the last line.
    #[inline]
    pub(crate) fn allow(&mut self, now: Nanos, interval_ns: i64) -> Option<u64> {
        if now < self.next {
            self.suppressed += 1;
            return None;
        }
        self.next = now.add_nanos(interval_ns);
        Some(std::mem::take(&mut self.suppressed))
    }
}
