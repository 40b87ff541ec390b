//! Venue-neutral L2 order books and what every venue's book sync reports.

mod order_book;
mod sync_counters;
mod sync_outcome;

pub use order_book::{BookSide, OrderBook, DEFAULT_MAX_LEVELS};
pub use sync_counters::SyncCounters;
pub use sync_outcome::SyncOutcome;
