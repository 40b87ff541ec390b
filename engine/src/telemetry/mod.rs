//! Telemetry: counters and latency histograms written by hot threads without locks or
//! allocation, and snapshots any other thread (the sidecar) can take at any time.

mod counter;
mod fill_log;
mod histogram;
mod seqcell;
mod stage;

pub use counter::{Counter, SharedCounter};
pub use fill_log::{FillLog, FILL_LOG_CAPACITY};
pub use histogram::{LatencyHistogram, Percentiles};
pub(crate) use seqcell::SeqCell;
pub use stage::{StageSnapshot, StageTelemetry, Telemetry, TelemetrySnapshot};
