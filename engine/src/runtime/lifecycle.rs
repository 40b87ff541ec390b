//! Start, stop and failure state shared by every thread of a pipeline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::risk::{HaltCause, HaltSwitch};

/// A stage that panicked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageFailure {
    /// Thread it ran on.
    pub thread: String,
    /// Stage name (`strategy`, `feed:synthetic`, ...).
    pub stage: String,
    /// The panic message.
    pub message: String,
}

impl std::fmt::Display for StageFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stage '{}' on thread '{}' panicked: {}", self.stage, self.thread, self.message)
    }
}

/// Stop and failure flags. Hot threads read them only when idle.
#[derive(Debug)]
pub struct Lifecycle {
    stop: AtomicBool,
    failed: AtomicBool,
    failure: Mutex<Option<StageFailure>>,
    halt: Arc<HaltSwitch>,
}

impl Lifecycle {
    /// Running, obeying `halt`.
    pub fn new(halt: Arc<HaltSwitch>) -> Lifecycle {
        Lifecycle {
            stop: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            halt,
        }
    }

    /// Asks feeds to stop; every thread then drains its rings and exits.
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
    }

    /// Whether a stop was asked for.
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Records a stage panic: halts trading and stops the pipeline. The first failure wins.
    pub fn fail(&self, failure: StageFailure) {
        self.halt.trip(HaltCause::StagePanic);
        {
            let mut slot = self.failure.lock();
            if slot.is_none() {
                *slot = Some(failure);
            }
        }
        self.failed.store(true, Ordering::Release);
        self.request_stop();
    }

    /// Set once a stage has panicked; producers waiting on a full ring give up on it.
    pub fn failed_flag(&self) -> &AtomicBool {
        &self.failed
    }

    /// The first stage failure, if any.
    pub fn failure(&self) -> Option<StageFailure> {
        self.failure.lock().clone()
    }

    /// The halt switch.
    pub fn halt(&self) -> &Arc<HaltSwitch> {
        &self.halt
    }
}
