//! Binance spot: combined-stream decoding, the local order book procedure, and the handler
//! that joins them.

pub mod connection;
pub mod decode;
pub mod handler;
pub mod sync;

pub use decode::{
    is_depth_snapshot, BinanceDecoder, BinanceEvent, BookTicker, DepthSnapshot, DepthUpdate,
    Levels, Trade, VENUE,
};
pub use handler::{BinanceConfig, BinanceHandler, FrameEvent};
pub use sync::{BinanceBookSync, SyncOutcome, SyncPhase};
