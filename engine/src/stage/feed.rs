//! The seam between feed handlers and the runtime.

use super::Batch;
use crate::types::{Nanos, Tick};

/// Ticks a feed hands over per poll, at most.
pub const TICK_BATCH: usize = 64;

/// A batch of ticks from one feed poll.
pub type TickBatch = Batch<Tick, TICK_BATCH>;

/// What a feed poll found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedStatus {
    /// Ticks may follow on a later poll.
    Live,
    /// The feed has ended (a finite capture or synthetic run) and will produce nothing more.
    Finished,
}

/// A source of normalized ticks, polled by the thread that owns it.
///
/// `poll` must not block: it reads what is available (a socket, a capture, a generator),
/// pushes at most `out.room()` ticks, and returns.
pub trait Feed: Send {
    /// Feed name, as in the config (`synthetic`, `binance`).
    fn name(&self) -> &str;

    /// Appends available ticks to `out`. `now` is the caller's clock read for this poll.
    fn poll(&mut self, now: Nanos, out: &mut TickBatch) -> FeedStatus;

    /// Stops producing (close sockets, stop reconnecting). Polls after this return `Finished`.
    fn stop(&mut self);
}
