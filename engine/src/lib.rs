//! tickline's leaf crate: the hot-path types, the rings that join stages, the stage runtime
//! and thread layouts, pre-trade risk, and telemetry.
//!
//! Everything else in the workspace builds on this crate. Feeds publish [`types::Tick`]s,
//! strategies turn them into [`types::OrderIntent`]s, the [`risk`] stage is the only code that
//! can approve an order, and the gateway accepts only approvals. The [`runtime`] runs those
//! stages on threads pinned to cores, fused (direct calls) or joined by [`ring`]s, as the
//! layout says.
//!
//! ```
//! use tickline_engine::types::{InstrumentId, Level, Nanos, Px, Qty, Tick};
//!
//! let bid = Level { px: Px::from_raw(6_183_763), qty: Qty::from_raw(378_826) };
//! let ask = Level { px: Px::from_raw(6_183_764), qty: Qty::from_raw(154_698) };
//! let tick = Tick::quote(InstrumentId(0), bid, ask, 50_093_239_212, Nanos(0), Nanos(0));
//! assert_eq!(tick.mid(), Some(Px::from_raw(6_183_763)));
//! ```

#![warn(missing_docs)]

pub mod alloc_count;
pub mod config;
pub mod position;
pub mod record;
pub mod ring;
pub mod risk;
pub mod runtime;
pub mod stage;
pub mod telemetry;
pub mod types;
