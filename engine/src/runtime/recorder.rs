//! The recorder: the auxiliary thread that drains every hot thread's record ring into the
//! journal.

use std::sync::Arc;

use crate::record::{Record, RecordSink};
use crate::ring::{Consumer, Waiter};
use crate::risk::HaltCause;
use crate::telemetry::StageTelemetry;
use crate::types::{Clock, Nanos};

use super::lifecycle::Lifecycle;

/// Records taken from one ring per poll, at most.
const RECORD_BATCH: usize = 256;
/// Idle time between two sink flushes.
const FLUSH_PERIOD_NS: u64 = 10_000_000;
/// Quiet time after which the recorder reads records the producer has not published its
/// position past (at most `HEAD_EVERY - 1` per ring): the most a record waits in its ring
/// when its producer goes idle.
const TAIL_NS: u64 = 20_000;

pub(crate) struct Recorder {
    pub(crate) rings: Vec<Consumer<Record>>,
    pub(crate) sink: Box<dyn RecordSink>,
    pub(crate) tel: Arc<StageTelemetry>,
    pub(crate) lifecycle: Arc<Lifecycle>,
    pub(crate) waiter: Waiter,
    pub(crate) failed: bool,
}

impl Recorder {
    pub(crate) fn run(&mut self) {
        let mut last_flush = Clock::now();
        let mut last_work = last_flush;
        loop {
            // Whole batches the producer has moved past first; the tail it is still writing
            // once it has been quiet for `TAIL_NS` (see `Consumer::poll_published`).
            let mut work = self.drain(false);
            if work == 0 {
                let now = Clock::now();
                if now.since(last_work) >= TAIL_NS {
                    work = self.drain(true);
                }
                if work == 0 {
                    if now.since(last_flush) >= FLUSH_PERIOD_NS {
                        self.flush(now);
                        last_flush = now;
                    }
                    if self.rings.iter().all(Consumer::is_finished) {
                        self.flush(now);
                        return;
                    }
                    self.waiter.idle();
                    continue;
                }
            }
            last_work = Clock::now();
            self.waiter.reset();
        }
    }

    /// Hands every ring's records to the sink: those below each producer's published
    /// position, or (`tail`) every published one. Returns how many were taken.
    fn drain(&mut self, tail: bool) -> usize {
        let mut work = 0;
        for rx in &mut self.rings {
            let sink = &mut self.sink;
            let tel = &self.tel;
            let failed = &mut self.failed;
            let lifecycle = &self.lifecycle;
            let take = |rec: Record| {
                tel.events.inc();
                if *failed {
                    tel.errors.inc();
                    return;
                }
                if let Err(e) = sink.record(&rec) {
                    // Nothing unrecorded may reach a venue: halt, keep draining.
                    *failed = true;
                    tel.errors.inc();
                    lifecycle.halt().trip(HaltCause::Journal);
                    tracing::error!(error = %e, "journal write failed; trading halted");
                } else {
                    tel.emitted.inc();
                }
            };
            work += if tail {
                rx.poll(RECORD_BATCH, take)
            } else {
                rx.poll_published(RECORD_BATCH, take)
            };
        }
        work
    }

    fn flush(&mut self, _now: Nanos) {
        if self.failed {
            return;
        }
        if let Err(e) = self.sink.flush() {
            self.failed = true;
            self.lifecycle.halt().trip(HaltCause::Journal);
            tracing::error!(error = %e, "journal flush failed; trading halted");
        }
    }
}
