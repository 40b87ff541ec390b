//! The stage runtime: thread layouts, the hot-thread loop, the recorder, and the pipeline
//! that wires them from a plan.

mod hot;
pub mod layout;
mod lifecycle;
mod pipeline;
mod recorder;

pub use layout::{auto, available_cores, resolve, Plan, StageRef, ThreadPlan};
pub use lifecycle::{Lifecycle, StageFailure};
pub use pipeline::{Outcome, Pipeline, PipelineParts, StartError};
