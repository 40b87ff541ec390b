//! Execution reports: what venues say happened to our orders.

use super::instrument::InstrumentId;
use super::order::{ClientOrderId, Side, StrategyId};
use super::px::{Px, Qty};
use super::time::Nanos;

/// What an execution report reports.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum ExecKind {
    /// The venue accepted the order.
    New = 1,
    /// Part of the order filled.
    PartialFill = 2,
    /// The order filled completely.
    Fill = 3,
    /// The order was cancelled.
    Cancelled = 4,
    /// The order was replaced.
    Replaced = 5,
    /// The venue rejected the order.
    Rejected = 6,
    /// The order expired (IOC remainder, end of day).
    Expired = 7,
    /// A cancel or replace was refused.
    CancelRejected = 8,
}

impl ExecKind {
    /// Whether this report carries a fill.
    #[inline]
    pub const fn is_fill(self) -> bool {
        matches!(self, ExecKind::PartialFill | ExecKind::Fill)
    }

    /// Whether the order is finished after this report.
    #[inline]
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecKind::Fill | ExecKind::Cancelled | ExecKind::Rejected | ExecKind::Expired
        )
    }
}

/// A venue's report on one of our orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct ExecReport {
    /// Venue (or gateway) time of the event.
    pub ts: Nanos,
    /// Our id of the order.
    pub client_id: ClientOrderId,
    /// The venue's id of the order (zero before it has one).
    pub venue_order_id: u64,
    /// Price of this fill.
    pub last_px: Px,
    /// Size of this fill.
    pub last_qty: Qty,
    /// Filled so far.
    pub cum_qty: Qty,
    /// Still open.
    pub leaves_qty: Qty,
    /// Fee of this fill in quote currency, raw at `price_scale + qty_scale` decimal places
    /// (the notional's scale); negative for a rebate.
    pub fee: i64,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Strategy that owns the order.
    pub strategy: StrategyId,
    /// What happened.
    pub kind: ExecKind,
    /// Side of the order.
    pub side: Side,
}

const _: () = assert!(std::mem::size_of::<ExecReport>() == 72);

impl ExecReport {
    /// A report about nothing: every id, time, price and quantity zero. For filling storage
    /// before use, and as the base of the reports built on this side of the venue.
    pub const BLANK: ExecReport = ExecReport {
        ts: Nanos::ZERO,
        client_id: ClientOrderId(0),
        venue_order_id: 0,
        last_px: Px::ZERO,
        last_qty: Qty::ZERO,
        cum_qty: Qty::ZERO,
        leaves_qty: Qty::ZERO,
        fee: 0,
        instrument: InstrumentId(0),
        strategy: StrategyId(0),
        kind: ExecKind::New,
        side: Side::Buy,
    };

    /// A report of `kind` about `intent` made on this side of the venue (risk refused it, the
    /// gateway refused or throttled it): no venue id, nothing filled, nothing open.
    #[inline]
    pub fn unfilled(intent: &super::order::OrderIntent, kind: ExecKind, ts: Nanos) -> ExecReport {
        ExecReport {
            ts,
            client_id: intent.client_id,
            instrument: intent.instrument,
            strategy: intent.strategy,
            kind,
            side: intent.side,
            ..ExecReport::BLANK
        }
    }
}
