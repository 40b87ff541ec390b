//! OKX v5 public channels: `books` with `seqId`/`prevSeqId` sequencing, `bbo-tbt` and
//! `trades`, normalized into the same ticks and books as every other venue.

pub mod connection;
pub mod decode;
pub mod handler;
pub mod sync;

pub use decode::{BookAction, OkxBook, OkxDecoder, OkxEvent, OkxQuote, OkxTrade, VENUE};
pub use handler::{OkxConfig, OkxFrameEvent, OkxHandler};
pub use sync::{OkxBookSync, OkxSyncPhase};
