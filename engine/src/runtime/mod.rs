//! The stage runtime: thread layouts, the hot-thread loop, the recorder, and the pipeline
//! that wires them from a plan.

pub mod affinity;
pub mod control;
mod hot;
pub mod layout;
mod lifecycle;
mod pipeline;
mod recorder;
pub mod replay;

pub use control::{Command, ControlError, ControlHandle, ControlReply, ControlRequest};
pub use layout::{auto, available_cores, resolve, Plan, StageRef, ThreadPlan};
pub use lifecycle::{Lifecycle, StageFailure};
pub use pipeline::{Outcome, Pipeline, PipelineParts, StartError};
