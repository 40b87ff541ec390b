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
/// Quiet time after which the recorder also reads the records its producer has not
/// published its position past (fewer than `HEAD_EVERY` per ring), counted from its first
/// idle poll: a record waits about this much longer, plus the recorder's own idle wait, when
/// the pipeline goes idle.
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
        // When the rings went quiet: stamped by the first idle poll after work, so a busy
        // recorder reads no clock.
        let mut quiet_since = last_flush;
        let mut busy = false;
        loop {
            // Whole batches the producer has moved past first; the tail it is still writing
            // once the rings have been quiet for `TAIL_NS` (see `Consumer::poll_published`).
            if self.drain(false) > 0 {
                busy = true;
                self.waiter.reset();
                continue;
            }
            let now = Clock::now();
            if std::mem::take(&mut busy) {
                quiet_since = now;
            }
            if now.since(quiet_since) >= TAIL_NS && self.drain(true) > 0 {
                busy = true;
                self.waiter.reset();
                continue;
            }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use super::*;
    use crate::ring::{Ring, WaitStrategy};
    use crate::risk::HaltSwitch;
    use crate::telemetry::Telemetry;

    struct Counting(Arc<AtomicUsize>);

    impl RecordSink for Counting {
        fn record(&mut self, _: &Record) -> std::io::Result<()> {
            self.0.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Records the producer has not published its position past (fewer than 32) still reach
    /// the sink once the ring is quiet, while the producer lives; all of them by the close.
    #[test]
    fn a_quiet_ring_s_unpublished_tail_is_recorded() {
        let (mut tx, rx) = Ring::<Record>::builder("records", 64).build_one().unwrap();
        let seen = Arc::new(AtomicUsize::new(0));
        let mut rec = Recorder {
            rings: vec![rx],
            sink: Box::new(Counting(Arc::clone(&seen))),
            tel: Telemetry::new().add_stage("recorder"),
            lifecycle: Arc::new(Lifecycle::new(Arc::new(HaltSwitch::new()))),
            waiter: WaitStrategy::from_name("park").unwrap().waiter(),
            failed: false,
        };
        let thread = std::thread::spawn(move || rec.run());
        let control = Record::control(Nanos(1), &bytemuck::Zeroable::zeroed());
        for _ in 0..40 {
            tx.try_push(control).unwrap();
        }
        let start = Instant::now();
        while seen.load(Ordering::Relaxed) < 40 && start.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(seen.load(Ordering::Relaxed), 40, "32 published, 8 in the tail");
        for _ in 0..3 {
            tx.try_push(control).unwrap();
        }
        drop(tx);
        thread.join().unwrap();
        assert_eq!(seen.load(Ordering::Relaxed), 43);
    }
}
