//! Why the risk stage refused an order.

/// Reject reasons, each with its own counter and name in telemetry. The numbers are journaled:
/// never reuse one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum RejectReason {
    /// Trading is halted (operator, panic, shutdown); only cancels pass.
    Halted = 1,
    /// The instrument is not in the registry.
    UnknownInstrument = 2,
    /// Quantity zero or negative.
    BadQuantity = 3,
    /// Price zero or negative on a priced order.
    BadPrice = 4,
    /// Price not a multiple of the instrument's tick size.
    OffTickGrid = 5,
    /// Quantity not a multiple of the instrument's lot size.
    OffLotGrid = 6,
    /// The instrument's market data is crossed or flagged (stale, out of band) by the feed.
    MarketDataUnreasonable = 7,
    /// No reference price yet for the instrument (fail closed).
    NoReferencePrice = 8,
    /// A cancel or replace names no open order of that instrument and side.
    UnknownTarget = 9,
    /// A limit this order needs is not configured (fail closed).
    LimitNotConfigured = 10,
    /// Quantity above the instrument's `max_order_qty`.
    MaxOrderQty = 11,
    /// `price × qty` above the instrument's `max_order_notional`.
    MaxOrderNotional = 12,
    /// A figure of the check would overflow its fixed-point width.
    NotionalOverflow = 13,
    /// Price further from the reference price than `price_collar_bps`.
    PriceCollar = 14,
    /// Position plus open and in-flight orders, at their worst case, beyond `max_position`.
    PositionLimit = 15,
    /// Gross exposure over every instrument, at its worst case, beyond `max_gross_notional`.
    GrossNotional = 16,
    /// The instrument already has `max_open_orders` open or in flight.
    MaxOpenOrdersInstrument = 17,
    /// `max_open_orders` open or in flight over every instrument (or the order table is full).
    MaxOpenOrdersTotal = 18,
    /// The instrument's order-rate token bucket is empty.
    OrderRateInstrument = 19,
    /// The global order-rate token bucket is empty.
    OrderRateGlobal = 20,
    /// The instrument's message-rate token bucket is empty.
    MessageRateInstrument = 21,
    /// The global message-rate token bucket is empty.
    MessageRateGlobal = 22,
    /// The repeated-execution throttle tripped; trading stays halted until an operator resumes.
    ExecutionThrottle = 23,
    /// The daily loss limit was breached; trading halted.
    DailyLoss = 24,
    /// The drawdown from peak PnL breached `max_drawdown`; trading halted.
    MaxDrawdown = 25,
    /// The same order (strategy, side, price, quantity) was approved within the window.
    DuplicateOrder = 26,
    /// The order would cross one of our own open orders on the instrument.
    SelfTrade = 27,
    /// No quote for the instrument within `max_quote_age`.
    MarketDataStale = 28,
    /// The gateway reported its venue session down (cancel-on-disconnect).
    VenueDisconnected = 29,
}

impl RejectReason {
    /// Every reason, in code order.
    pub const ALL: [RejectReason; 29] = [
        RejectReason::Halted,
        RejectReason::UnknownInstrument,
        RejectReason::BadQuantity,
        RejectReason::BadPrice,
        RejectReason::OffTickGrid,
        RejectReason::OffLotGrid,
        RejectReason::MarketDataUnreasonable,
        RejectReason::NoReferencePrice,
        RejectReason::UnknownTarget,
        RejectReason::LimitNotConfigured,
        RejectReason::MaxOrderQty,
        RejectReason::MaxOrderNotional,
        RejectReason::NotionalOverflow,
        RejectReason::PriceCollar,
        RejectReason::PositionLimit,
        RejectReason::GrossNotional,
        RejectReason::MaxOpenOrdersInstrument,
        RejectReason::MaxOpenOrdersTotal,
        RejectReason::OrderRateInstrument,
        RejectReason::OrderRateGlobal,
        RejectReason::MessageRateInstrument,
        RejectReason::MessageRateGlobal,
        RejectReason::ExecutionThrottle,
        RejectReason::DailyLoss,
        RejectReason::MaxDrawdown,
        RejectReason::DuplicateOrder,
        RejectReason::SelfTrade,
        RejectReason::MarketDataStale,
        RejectReason::VenueDisconnected,
    ];

    /// Stable snake-case name for metrics labels and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            RejectReason::Halted => "halted",
            RejectReason::UnknownInstrument => "unknown_instrument",
            RejectReason::BadQuantity => "bad_quantity",
            RejectReason::BadPrice => "bad_price",
            RejectReason::OffTickGrid => "off_tick_grid",
            RejectReason::OffLotGrid => "off_lot_grid",
            RejectReason::MarketDataUnreasonable => "market_data_unreasonable",
            RejectReason::NoReferencePrice => "no_reference_price",
            RejectReason::UnknownTarget => "unknown_target",
            RejectReason::LimitNotConfigured => "limit_not_configured",
            RejectReason::MaxOrderQty => "max_order_qty",
            RejectReason::MaxOrderNotional => "max_order_notional",
            RejectReason::NotionalOverflow => "notional_overflow",
            RejectReason::PriceCollar => "price_collar",
            RejectReason::PositionLimit => "position_limit",
            RejectReason::GrossNotional => "gross_notional",
            RejectReason::MaxOpenOrdersInstrument => "max_open_orders_instrument",
            RejectReason::MaxOpenOrdersTotal => "max_open_orders_total",
            RejectReason::OrderRateInstrument => "order_rate_instrument",
            RejectReason::OrderRateGlobal => "order_rate_global",
            RejectReason::MessageRateInstrument => "message_rate_instrument",
            RejectReason::MessageRateGlobal => "message_rate_global",
            RejectReason::ExecutionThrottle => "execution_throttle",
            RejectReason::DailyLoss => "daily_loss",
            RejectReason::MaxDrawdown => "max_drawdown",
            RejectReason::DuplicateOrder => "duplicate_order",
            RejectReason::SelfTrade => "self_trade",
            RejectReason::MarketDataStale => "market_data_stale",
            RejectReason::VenueDisconnected => "venue_disconnected",
        }
    }

    /// Dense index, `0..ALL.len()`.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_names_unique() {
        for (i, r) in RejectReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
        let mut names: Vec<_> = RejectReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RejectReason::ALL.len());
    }
}
