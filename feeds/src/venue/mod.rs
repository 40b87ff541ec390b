//! One folder per venue: its decoder, its book sync procedure and its handler.

pub mod binance;
pub mod okx;
