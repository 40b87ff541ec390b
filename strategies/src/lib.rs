//! Strategies: implementations of [`tickline_engine::stage::Strategy`].
//!
//! A strategy runs on the strategy stage's thread (fused with risk), is called for every tick
//! of the instruments it wants and every execution report of its orders, and emits orders
//! through the engine's non-allocating [`tickline_engine::stage::OrderSink`].
//!
//! ```
//! use tickline_engine::types::{InstrumentId, Px, Qty};
//! use tickline_strategies::threshold::{Threshold, ThresholdParams};
//!
//! let s = Threshold::new("t", ThresholdParams {
//!     instrument: InstrumentId(0),
//!     threshold: Px::from_raw(5),
//!     qty: Qty::from_raw(1),
//!     max_position: Qty::from_raw(3),
//! });
//! # let _ = s;
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod threshold;
