//! tickline's venue feed handlers: where outside bytes become normalized
//! [`Tick`](tickline_engine::types::Tick)s.
//!
//! A feed handler sits at the head of the pipeline, between a venue's WebSocket and the ring
//! that carries ticks to the strategy stage. It runs on the feed thread, which owns it
//! outright: nothing here locks, and after warm-up nothing on the per-frame path allocates.
//! For each frame it decodes the venue's JSON straight into fixed-point values
//! ([`venue::binance::decode`], [`venue::okx::decode`]), keeps one L2
//! [`OrderBook`](book::OrderBook) per instrument in sync by the venue's own procedure
//! ([`venue::binance::sync`], [`venue::okx::sync`]), and emits quote and trade ticks. Bad input
//! becomes a [`DecodeError`] kind, counted in [`telemetry::FeedTelemetry`]; it never panics and
//! never reaches the ring. [`capture`] reads recorded frames and [`replay`] re-runs them
//! through the same code, checking the book against the venue's own top of book.
//!
//! The WebSocket connection itself (mio + tungstenite), the REST snapshot fetch and the
//! exchange simulator live beside this core and hand it frames.
//!
//! ```
//! use rust_decimal::Decimal;
//! use tickline_engine::types::{InstrumentRegistry, InstrumentSpec, Nanos, Tick};
//! use tickline_feeds::venue::binance::{BinanceConfig, BinanceHandler};
//! use tickline_feeds::Payload;
//!
//! let registry = InstrumentRegistry::build(&[InstrumentSpec {
//!     symbol: "BTCUSDT".into(),
//!     venue: "binance".into(),
//!     price_scale: 2,
//!     qty_scale: 6,
//!     tick_size: Decimal::new(1, 2),
//!     lot_size: Decimal::new(1, 5),
//! }])?;
//! let mut feed = BinanceHandler::new(&registry, BinanceConfig::default())?;
//! let frame = br#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
//! let mut ticks: Vec<Tick> = Vec::new();
//! feed.on_frame(Nanos(1_723_161_254_087_891_268), Payload::Text(frame), &mut |t| ticks.push(t))?;
//! assert_eq!(ticks[0].bid().unwrap().px.raw(), 6_183_763);
//! assert_eq!(ticks[0].ask().unwrap().qty.raw(), 1_546_980);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod book;
pub mod capture;
pub mod capture_feed;
pub mod capture_writer;
mod decode_error;
mod error;
pub mod feed_health;
mod json;
mod outbox;
mod pace;
mod payload;
pub mod reasonability;
pub mod replay;
pub mod symbol_table;
pub mod synthetic;
pub mod telemetry;
pub mod venue;
pub mod venue_telemetry;
pub mod ws;

pub use decode_error::DecodeError;
pub use error::{Error, Result};
pub use pace::Pacer;
pub use payload::Payload;
