//! Risk counters and published state, readable by the sidecar and the run summary.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use super::{OrderBoard, RejectReason};
use crate::position::PositionTelemetry;
use crate::telemetry::Counter;

/// Risk counters, written by the risk thread only.
#[derive(Debug)]
pub struct RiskTelemetry {
    /// Orders approved (new, replace and cancel).
    pub approved: Counter,
    /// Rejects by reason, indexed by [`RejectReason::index`].
    pub rejects: [Counter; RejectReason::ALL.len()],
    /// Automatic halts risk tripped (loss, drawdown, repeated executions).
    pub auto_halts: Counter,
    /// Execution reports naming no order risk tracks.
    pub unknown_reports: Counter,
    /// Fills the position book could not apply (bad quantity or price, overflow).
    pub position_errors: Counter,
    /// Live open orders now (gauge).
    pub open_orders: Counter,
    gross_exposure: AtomicI64,
    /// Positions and PnL per instrument.
    pub positions: Arc<PositionTelemetry>,
    /// Every order risk tracks, as the sidecar lists them.
    pub orders: OrderBoard,
}

impl RiskTelemetry {
    /// Zeroed counters over the published `positions`, with `order_slots` cells for the
    /// published open-order table (the risk stage's table capacity).
    pub fn new(positions: Arc<PositionTelemetry>, order_slots: usize) -> RiskTelemetry {
        RiskTelemetry {
            approved: Counter::new(),
            rejects: [const { Counter::new() }; RejectReason::ALL.len()],
            auto_halts: Counter::new(),
            unknown_reports: Counter::new(),
            position_errors: Counter::new(),
            open_orders: Counter::new(),
            gross_exposure: AtomicI64::new(0),
            positions,
            orders: OrderBoard::new(order_slots),
        }
    }

    /// Rejects of one reason.
    pub fn rejects_of(&self, reason: RejectReason) -> u64 {
        self.rejects[reason.index()].get()
    }

    /// All rejects.
    pub fn rejects_total(&self) -> u64 {
        self.rejects.iter().map(Counter::get).sum()
    }

    /// Gross worst-case exposure, raw at the money scale (saturated to 64 bits).
    pub fn gross_exposure(&self) -> i64 {
        self.gross_exposure.load(Ordering::Relaxed)
    }

    #[inline]
    pub(crate) fn set_gross_exposure(&self, v: i128) {
        let v = i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
        self.gross_exposure.store(v, Ordering::Relaxed);
    }
}
