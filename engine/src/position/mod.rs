//! Positions and PnL per instrument, in fixed point and exact.
//!
//! The risk stage owns a [`PositionBook`] on the strategy thread and feeds it every fill and
//! every reference price; the sidecar and the run summary read [`PositionTelemetry`], which
//! the book publishes without a lock.
//!
//! # Arithmetic
//!
//! Quantities are raw `i64` at the instrument's `qty_scale`; money (cost basis, realized and
//! unrealized PnL, fees) is raw `i128` at the *notional scale* `price_scale + qty_scale`, the
//! scale of `price × qty`, so every product is exact. The average-cost method is used: the
//! open position carries its cost basis `B` (what it cost, or for a short what it brought
//! in), and its average price is the exact ratio `B / |qty|`. Reducing by `c` of `|qty|` takes
//! `floor(B × c / |qty|)` out of the basis; the remainder of that division stays in the basis,
//! so no unit is ever lost or made: when the position is flat again, realized PnL equals the
//! cash flows of its fills exactly. A property test checks every figure after every fill
//! against a `rust_decimal` reference (`tests.rs`).
//!
//! Totals over instruments (for the loss and drawdown limits) are kept at the *money scale*,
//! the largest notional scale of any instrument, so instruments of different scales add up
//! exactly. All instruments are assumed to share one quote currency.
//!
//! ```
//! use tickline_engine::position::Position;
//! use tickline_engine::types::{Px, Qty, Side};
//!
//! let mut p = Position::new();
//! p.apply_fill(Side::Buy, Qty::from_raw(1), Px::from_raw(100), 0).unwrap();
//! p.apply_fill(Side::Buy, Qty::from_raw(2), Px::from_raw(101), 0).unwrap();
//! p.apply_fill(Side::Sell, Qty::from_raw(3), Px::from_raw(102), 0).unwrap();
//! assert_eq!(p.qty(), Qty::ZERO);
//! assert_eq!(p.realized(), 3 * 102 - (100 + 2 * 101));
//! ```

mod book;
mod ledger;
mod telemetry;
#[cfg(test)]
mod tests;

pub use book::{money_scale, PositionBook};
pub use ledger::{Position, PositionError};
pub use telemetry::{PositionSnapshot, PositionTelemetry, PositionTotals};
