//! The order gateway: venue adapters behind [`tickline_engine::stage::Venue`].
//!
//! The gateway is the last stage of the hot path. It runs on the gateway thread (fused with
//! the strategy on small hosts), accepts only [`tickline_engine::risk::RiskApproved`] orders,
//! and turns venue responses into [`tickline_engine::types::ExecReport`]s for the reverse path.
//!
//! ```
//! use tickline_engine::stage::{ExecBatch, Venue};
//! use tickline_gateway::venue::instant::InstantVenue;
//!
//! let mut v = InstantVenue::new("sim", 1024);
//! let mut out = ExecBatch::new();
//! v.poll(tickline_engine::types::Nanos(0), &mut out);
//! assert!(out.is_empty());
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod venue;
