//! Why the risk stage refused an order.

/// Reject reasons, each with its own counter and name in telemetry.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum RejectReason {
    /// Trading is halted (kill switch, loss limit, panic, shutdown); only cancels pass.
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
    /// The instrument's market data is stale, crossed or out of band.
    MarketDataUnreasonable = 7,
    /// No reference price yet for the instrument (fail closed).
    NoReferencePrice = 8,
    /// A cancel or replace names no order.
    UnknownTarget = 9,
}

impl RejectReason {
    /// Every reason, in code order.
    pub const ALL: [RejectReason; 9] = [
        RejectReason::Halted,
        RejectReason::UnknownInstrument,
        RejectReason::BadQuantity,
        RejectReason::BadPrice,
        RejectReason::OffTickGrid,
        RejectReason::OffLotGrid,
        RejectReason::MarketDataUnreasonable,
        RejectReason::NoReferencePrice,
        RejectReason::UnknownTarget,
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
        }
    }

    /// Dense index, `0..ALL.len()`.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize - 1
    }
}
