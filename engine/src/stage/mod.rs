//! Stage seams: the traits feed handlers, strategies and venue adapters implement, and the
//! fixed-capacity batches they hand events over in.

mod batch;
mod feed;
mod strategy;
mod venue;

pub use batch::Batch;
pub use feed::{Feed, FeedStatus, TickBatch, TICK_BATCH};
pub use strategy::{strategy_routes, OrderSink, Strategy, INTENT_BATCH};
pub use venue::{ExecBatch, Venue, EXEC_BATCH};
