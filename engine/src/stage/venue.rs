//! The seam between the gateway stage and venue adapters.

use super::Batch;
use crate::risk::RiskApproved;
use crate::types::{ExecReport, Nanos, Order, Tick};

/// Reports a venue poll hands over, at most.
pub const EXEC_BATCH: usize = 64;

/// A batch of execution reports from one venue poll.
pub type ExecBatch = Batch<ExecReport, EXEC_BATCH>;

/// A venue adapter: the simulated exchange, a FIX session, or the instant-fill test venue.
///
/// It accepts only risk-approved orders: the type system makes "every order that reaches a
/// venue passed risk" a compile-time fact.
pub trait Venue: Send {
    /// Venue name, as in the config.
    fn name(&self) -> &str;

    /// Sends an approved order (new, cancel or replace) to the venue. Must not block.
    fn submit(&mut self, order: RiskApproved<Order>, now: Nanos);

    /// Market data, for venues that match against the book (the simulated exchange). Called
    /// only when the venue runs on the same thread as the strategy stage.
    fn on_tick(&mut self, tick: &Tick) {
        let _ = tick;
    }

    /// Appends available execution reports, at most `out.room()`.
    fn poll(&mut self, now: Nanos, out: &mut ExecBatch);

    /// Orders sent whose venue response has not been handed out yet (shutdown drains these).
    fn in_flight(&self) -> usize;
}
