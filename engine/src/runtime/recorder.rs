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
        loop {
            let mut work = 0;
            for rx in &mut self.rings {
                let sink = &mut self.sink;
                let tel = &self.tel;
                let failed = &mut self.failed;
                let lifecycle = &self.lifecycle;
                work += rx.poll(RECORD_BATCH, |rec| {
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
                });
            }
            if work > 0 {
                self.waiter.reset();
                continue;
            }
            let now = Clock::now();
            if now.since(last_flush) >= FLUSH_PERIOD_NS {
                self.flush(now);
                last_flush = now;
            }
            if self.rings.iter().all(Consumer::is_finished) {
                self.flush(now);
                return;
            }
            self.waiter.idle();
        }
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
