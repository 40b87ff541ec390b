// Shared by the targets: the instruments every decoder is built for.
use rust_decimal::Decimal;
use tickline_engine::types::{InstrumentRegistry, InstrumentSpec};

pub fn registry() -> InstrumentRegistry {
    let spec = |symbol: &str, venue: &str, ps: u8, qs: u8| InstrumentSpec {
        symbol: symbol.into(),
        venue: venue.into(),
        price_scale: ps,
        qty_scale: qs,
        tick_size: Decimal::new(1, u32::from(ps)),
        lot_size: Decimal::new(1, u32::from(qs)),
    };
    InstrumentRegistry::build(&[
        spec("BTCUSDT", "binance", 2, 6),
        spec("ETHUSDT", "binance", 2, 5),
        spec("BTC-USDT", "okx", 1, 8),
        spec("BTC-USDT-SWAP", "okx", 1, 0),
    ])
    .expect("valid specs")
}
