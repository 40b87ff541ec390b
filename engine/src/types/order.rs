//! Orders: what a strategy wants ([`OrderIntent`]) and what risk lets through ([`Order`]).

use super::instrument::InstrumentId;
use super::px::{Px, Qty};
use super::time::Nanos;

/// Buy or sell.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum Side {
    /// Buy.
    Buy = 1,
    /// Sell.
    Sell = 2,
}

impl Side {
    /// `+1` for a buy, `-1` for a sell.
    #[inline]
    pub const fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }

    /// The other side.
    #[inline]
    pub const fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
}

/// Limit or market.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum OrdType {
    /// Limit order at `price`.
    Limit = 1,
    /// Market order; `price` is the protection limit risk checks against.
    Market = 2,
}

/// Time in force.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum TimeInForce {
    /// Good till cancelled.
    Gtc = 1,
    /// Immediate or cancel.
    Ioc = 2,
    /// Fill or kill.
    Fok = 3,
    /// Rests only; rejected if it would take liquidity.
    PostOnly = 4,
}

/// What an intent asks for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum Action {
    /// A new order.
    New = 1,
    /// Cancel the order `target`.
    Cancel = 2,
    /// Replace the order `target` with a new price and quantity.
    Replace = 3,
}

/// Client order id: unique across restarts (see [`ClientOrderIdGen`]).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::NoUninit,
    bytemuck::AnyBitPattern,
)]
#[repr(transparent)]
pub struct ClientOrderId(pub u64);

impl ClientOrderId {
    /// As the target of a cancel: every open order (the kill switch's cancel-all).
    pub const ALL: ClientOrderId = ClientOrderId(u64::MAX);
}

/// Dense index of a configured strategy.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    bytemuck::NoUninit,
    bytemuck::AnyBitPattern,
)]
#[repr(transparent)]
pub struct StrategyId(pub u16);

/// A strategy's request: new, cancel or replace. Not yet approved by risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct OrderIntent {
    /// When the strategy decided.
    pub decided_ns: Nanos,
    /// Receive time of the tick that triggered it (zero if a timer or report did).
    pub tick_recv_ns: Nanos,
    /// Id of this order (new) or of the replacement (replace); the cancel's own id (cancel).
    pub client_id: ClientOrderId,
    /// The order a cancel or replace refers to; zero for new orders.
    pub target: ClientOrderId,
    /// Limit price (or protection price for market orders).
    pub price: Px,
    /// Quantity.
    pub qty: Qty,
    /// Instrument.
    pub instrument: InstrumentId,
    /// Strategy that sent it.
    pub strategy: StrategyId,
    /// New, cancel or replace.
    pub action: Action,
    /// Buy or sell.
    pub side: Side,
    /// Limit or market.
    pub ord_type: OrdType,
    /// Time in force.
    pub tif: TimeInForce,
    /// Reserved, zero.
    pub reserved: [u8; 6],
}

const _: () = assert!(std::mem::size_of::<OrderIntent>() == 64);

/// An order as risk approved it, on its way to a venue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct Order {
    /// The approved intent, unchanged.
    pub intent: OrderIntent,
    /// When risk approved it.
    pub approved_ns: Nanos,
}

const _: () = assert!(std::mem::size_of::<Order>() == 72);

/// Generates client order ids that stay unique across restarts without reading any state:
/// the high 32 bits are the session start in seconds since the epoch, the low 32 a counter.
/// A restart within the same second as the previous start is the one case this cannot tell
/// apart; the journal's recovery (which resumes the counter) covers it.
#[derive(Clone, Debug)]
pub struct ClientOrderIdGen {
    base: u64,
    next: u32,
}

impl ClientOrderIdGen {
    /// Ids for a session that started at `start`.
    pub fn new(start: Nanos) -> ClientOrderIdGen {
        let secs = (start.0 / 1_000_000_000).max(0) as u64;
        ClientOrderIdGen { base: (secs & 0xffff_ffff) << 32, next: 1 }
    }

    /// Resumes after the highest id a previous session used.
    pub fn resume_after(last: ClientOrderId) -> ClientOrderIdGen {
        ClientOrderIdGen { base: last.0 & !0xffff_ffff, next: (last.0 as u32).wrapping_add(1) }
    }

    /// The next id.
    #[inline]
    pub fn next_id(&mut self) -> ClientOrderId {
        let id = ClientOrderId(self.base | u64::from(self.next));
        self.next = self.next.wrapping_add(1);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_embed_session_and_count_up() {
        let mut g = ClientOrderIdGen::new(Nanos(1_700_000_000_123_000_000));
        let a = g.next_id();
        let b = g.next_id();
        assert_eq!(a.0 >> 32, 1_700_000_000);
        assert_eq!(b.0, a.0 + 1);
        let mut later = ClientOrderIdGen::new(Nanos(1_700_000_001_000_000_000));
        assert!(later.next_id() > b);
        let mut resumed = ClientOrderIdGen::resume_after(b);
        assert_eq!(resumed.next_id().0, b.0 + 1);
        assert_eq!(Side::Buy.opposite(), Side::Sell);
        assert_eq!(Side::Sell.sign(), -1);
    }
}
