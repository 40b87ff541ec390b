//! Strategies: implementations of [`tickline_engine::stage::Strategy`].
//!
//! A strategy runs on the strategy stage's thread (fused with risk), is called for every tick
//! of the instruments it wants and every execution report of its orders — including risk's
//! own rejects, delivered as `Rejected` reports with venue order id 0 — and emits orders,
//! cancels and replaces through the engine's non-allocating
//! [`tickline_engine::stage::OrderSink`]. Parameters change at run time through
//! [`tickline_engine::stage::Strategy::set_param`] (the operator control channel, drained
//! between events). Everything on the tick path is integer arithmetic; nothing allocates.
//!
//! - [`market_maker`]: two-sided quotes around mid or microprice, inventory skew, requote
//!   threshold, cancel/replace.
//! - [`momentum`]: EMA crossover entries with stop-loss and take-profit exits.
//! - [`spread`]: mean reversion on the spread between two instruments.
//! - [`threshold`]: the embedded default's simple move-following rule.
//!
//! ```
//! use tickline_engine::types::{InstrumentId, Px, Qty, Scale};
//! use tickline_strategies::threshold::{Threshold, ThresholdParams};
//! use tickline_strategies::Leg;
//!
//! let leg = Leg {
//!     id: InstrumentId(0),
//!     price_scale: Scale::new(2).unwrap(),
//!     qty_scale: Scale::new(0).unwrap(),
//!     tick: Px::from_raw(1),
//!     lot: Qty::from_raw(1),
//! };
//! let s = Threshold::new("t", ThresholdParams {
//!     leg,
//!     threshold: Px::from_raw(5),
//!     qty: Qty::from_raw(1),
//!     max_position: Qty::from_raw(3),
//! });
//! # let _ = s;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod leg;
pub mod market_maker;
pub mod momentum;
pub mod spread;
#[cfg(test)]
mod testing;
pub mod threshold;

pub use leg::{whole, Leg, REJECT_BACKOFF};
