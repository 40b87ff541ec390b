//! One folder per venue: its decoder, its book sync procedure and its handler.

pub mod binance;
mod live;
pub mod okx;
