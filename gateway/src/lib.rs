//! The order gateway: the order state machine and the venue adapters behind
//! [`tickline_engine::stage::Venue`].
//!
//! The gateway is the last stage of the hot path. It runs on the gateway thread (fused with
//! the strategy on small hosts), accepts only [`tickline_engine::risk::RiskApproved`] orders,
//! and turns venue responses into [`tickline_engine::types::ExecReport`]s for the reverse path.
//!
//! - [`order`]: the state machine (`PendingNew → New → PartiallyFilled → Filled`, cancels,
//!   replaces, rejects, expiries) and the [`order::OrderTracker`] every adapter runs its orders
//!   and the venue's reports through. Illegal transitions, overfills, reports for unknown
//!   orders and reports out of order are refused, counted and logged, never forwarded.
//! - [`venue::instant`]: acknowledges and fills every order at its limit (tests, baselines).
//! - [`venue::sim`]: the simulated exchange: price-time priority against the feed's book,
//!   queue position, walking the book, fees, latency. Deterministic.
//! - [`venue::fix`]: a FIX 4.4 initiator over non-blocking TCP (`mio`), driven entirely from
//!   [`tickline_engine::stage::Venue::poll`] and [`tickline_engine::stage::Venue::submit`].
//!
//! Adapters differ only in where orders go; strategies and risk see the same `Venue` trait and
//! the same reports whatever the venue.
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

pub mod config;
pub mod error;
pub mod logon;
pub mod order;
pub mod venue;

pub use error::{Error, Result};
