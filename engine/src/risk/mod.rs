//! Pre-trade risk: the only place an order can be approved.

mod approval;
mod halt;
mod reason;
mod stage;

pub use approval::RiskApproved;
pub use halt::{HaltCause, HaltSwitch};
pub use reason::RejectReason;
pub use stage::{RiskReject, RiskStage, RiskTelemetry};
