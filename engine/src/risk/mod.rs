//! Pre-trade risk: the only place an order can be approved.
//!
//! [`RiskStage`] runs on the strategy thread, fused with the strategies: it sees every tick
//! (reference prices, market-data flags), every intent (the checks) and every execution report
//! (open orders, positions and PnL, the execution throttle, loss limits). Limits come from the
//! `[risk]` config section ([`RiskConfig`]) as decimal strings, are held in fixed point
//! ([`RiskLimits`]) and change at run time through the control channel
//! ([`RiskStage::set_limit`]). Every check has its own [`RejectReason`] and counter
//! ([`RiskTelemetry`]); every decision is journaled by the runtime. A stage starts flat, or
//! from an earlier session's positions and open orders ([`RiskSeed`], rebuilt from that
//! session's journal by [`SeedBuilder`] and passed in [`RiskSetup::with_seed`]).
//!
//! ```
//! use std::sync::Arc;
//! use tickline_engine::risk::{HaltSwitch, RejectReason, RiskLimits, RiskSetup, RiskStage};
//! use tickline_engine::types::*;
//!
//! let spec = InstrumentSpec {
//!     symbol: "A".into(), venue: "v".into(), price_scale: 2, qty_scale: 0,
//!     tick_size: "0.01".parse().unwrap(), lot_size: "1".parse().unwrap(),
//! };
//! let registry = Arc::new(InstrumentRegistry::build(&[spec]).unwrap());
//! let mut limits = RiskLimits::permissive(&registry);
//! limits.instruments[0].max_order_qty = Some(Qty::from_raw(5));
//! let mut risk = RiskStage::with_setup(registry, Arc::new(HaltSwitch::new()), RiskSetup::new(limits));
//! let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
//! risk.on_tick(&Tick::quote(InstrumentId(0), l(9_999), l(10_001), 1, Nanos(1), Nanos(1)));
//! let mut order = OrderIntent {
//!     decided_ns: Nanos(2), tick_recv_ns: Nanos(1), client_id: ClientOrderId(1),
//!     target: ClientOrderId(0), price: Px::from_raw(10_000), qty: Qty::from_raw(6),
//!     instrument: InstrumentId(0), strategy: StrategyId(0), action: Action::New,
//!     side: Side::Buy, ord_type: OrdType::Limit, tif: TimeInForce::Gtc, reserved: [0; 6],
//! };
//! assert_eq!(risk.check(&order, Nanos(3)), Err(RejectReason::MaxOrderQty));
//! order.qty = Qty::from_raw(5);
//! assert!(risk.check(&order, Nanos(3)).is_ok());
//! ```

mod approval;
mod board;
mod bucket;
mod config;
mod disconnect;
mod grid;
mod halt;
mod limits;
mod orders;
mod reason;
mod seed;
mod stage;
mod telemetry;
#[cfg(test)]
mod tests;

pub use approval::RiskApproved;
pub use board::{BoardOrder, BoardState, OrderBoard};
pub use config::{parse_duration_ns, InstrumentRiskConfig, RiskConfig};
pub use disconnect::CancelOnDisconnect;
pub use halt::{HaltCause, HaltSwitch};
pub use limits::{InstrumentLimits, Rate, RiskLimits, MAX_OPEN_ORDERS, MAX_RATE};
pub use reason::RejectReason;
pub use seed::{Rebuilt, RiskSeed, SeedBuilder, SeedNotes, SeedOrder};
pub use stage::{Approval, RiskReject, RiskSetup, RiskStage};
pub use telemetry::RiskTelemetry;
