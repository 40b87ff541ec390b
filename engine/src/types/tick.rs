//! The normalized market-data event that feeds publish and strategies consume.

use super::instrument::InstrumentId;
use super::px::{Px, Qty};
use super::time::Nanos;

/// What a [`Tick`] reports.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum TickKind {
    /// A new top of book: best bid and ask with sizes.
    Quote = 1,
    /// A public trade: price, size and aggressor side.
    Trade = 2,
}

/// The side that took liquidity in a trade, when the venue says.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u8)]
pub enum Aggressor {
    /// Not a trade, or not reported.
    Unknown = 0,
    /// The buyer lifted the offer.
    Buy = 1,
    /// The seller hit the bid.
    Sell = 2,
}

/// Bit flags a feed sets on a tick; strategies and risk read them.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::AnyBitPattern,
)]
#[repr(transparent)]
pub struct TickFlags(pub u16);

impl TickFlags {
    /// The top of book was derived from the L2 book rather than a venue top-of-book stream.
    pub const FROM_DEPTH: TickFlags = TickFlags(1 << 0);
    /// First tick after a (re)sync of the book: state before it is discontinuous.
    pub const RESYNC: TickFlags = TickFlags(1 << 1);
    /// Bid at or above ask.
    pub const CROSSED: TickFlags = TickFlags(1 << 2);
    /// The book has not been updated within the feed's staleness limit.
    pub const STALE: TickFlags = TickFlags(1 << 3);
    /// Price outside the reasonability band around the last good price.
    pub const OUT_OF_BAND: TickFlags = TickFlags(1 << 4);
    /// Replayed from a capture or journal rather than received live.
    pub const REPLAY: TickFlags = TickFlags(1 << 5);
    /// Produced by the synthetic feed.
    pub const SYNTHETIC: TickFlags = TickFlags(1 << 6);
    /// Flags under which no new order may be sent on this instrument.
    pub const UNREASONABLE: TickFlags =
        TickFlags(Self::CROSSED.0 | Self::STALE.0 | Self::OUT_OF_BAND.0);

    /// Whether every bit of `other` is set.
    #[inline]
    pub const fn contains(self, other: TickFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    #[inline]
    pub const fn intersects(self, other: TickFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// `self | other`.
    #[inline]
    pub const fn union(self, other: TickFlags) -> TickFlags {
        TickFlags(self.0 | other.0)
    }
}

/// A price level: price and size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Level {
    /// Price.
    pub px: Px,
    /// Size.
    pub qty: Qty,
}

/// One normalized market-data event: a top-of-book quote or a public trade.
///
/// 64 bytes, one cache line. A quote and a trade share the two price/size slots rather than
/// each carrying the other's fields: full-width exchange and receive times and the venue
/// sequence matter more on a ring than a stale copy of the other stream (see
/// `ARCHITECTURE.md`). Strategies that want both keep the last of each per instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::CheckedBitPattern)]
#[repr(C)]
pub struct Tick {
    exch_ns: Nanos,
    recv_ns: Nanos,
    seq: u64,
    px_a: Px,
    qty_a: Qty,
    px_b: Px,
    qty_b: Qty,
    instrument: InstrumentId,
    flags: TickFlags,
    kind: TickKind,
    aggressor: Aggressor,
}

const _: () = assert!(std::mem::size_of::<Tick>() == 64);
const _: () = assert!(std::mem::align_of::<Tick>() == 8);

impl Tick {
    /// A top-of-book quote.
    #[inline]
    pub const fn quote(
        instrument: InstrumentId,
        bid: Level,
        ask: Level,
        seq: u64,
        exch_ns: Nanos,
        recv_ns: Nanos,
    ) -> Tick {
        Tick {
            exch_ns,
            recv_ns,
            seq,
            px_a: bid.px,
            qty_a: bid.qty,
            px_b: ask.px,
            qty_b: ask.qty,
            instrument,
            flags: TickFlags(0),
            kind: TickKind::Quote,
            aggressor: Aggressor::Unknown,
        }
    }

    /// A public trade.
    #[inline]
    pub const fn trade(
        instrument: InstrumentId,
        trade: Level,
        aggressor: Aggressor,
        seq: u64,
        exch_ns: Nanos,
        recv_ns: Nanos,
    ) -> Tick {
        Tick {
            exch_ns,
            recv_ns,
            seq,
            px_a: trade.px,
            qty_a: trade.qty,
            px_b: Px::ZERO,
            qty_b: Qty::ZERO,
            instrument,
            flags: TickFlags(0),
            kind: TickKind::Trade,
            aggressor,
        }
    }

    /// The same tick with `flags` added.
    #[inline]
    #[must_use]
    pub const fn with_flags(mut self, flags: TickFlags) -> Tick {
        self.flags = self.flags.union(flags);
        self
    }

    /// The same tick with its receive time replaced (replay, synthetic feeds).
    #[inline]
    #[must_use]
    pub const fn with_recv_ns(mut self, recv_ns: Nanos) -> Tick {
        self.recv_ns = recv_ns;
        self
    }

    /// Instrument.
    #[inline]
    pub const fn instrument(&self) -> InstrumentId {
        self.instrument
    }
    /// Quote or trade.
    #[inline]
    pub const fn kind(&self) -> TickKind {
        self.kind
    }
    /// Flags set by the feed.
    #[inline]
    pub const fn flags(&self) -> TickFlags {
        self.flags
    }
    /// Venue event time (zero when the venue sends none).
    #[inline]
    pub const fn exch_ns(&self) -> Nanos {
        self.exch_ns
    }
    /// Local receive time: the start of tick-to-order latency.
    #[inline]
    pub const fn recv_ns(&self) -> Nanos {
        self.recv_ns
    }
    /// Venue sequence: book update id for quotes, trade id for trades.
    #[inline]
    pub const fn seq(&self) -> u64 {
        self.seq
    }

    /// Best bid, for a quote.
    #[inline]
    pub const fn bid(&self) -> Option<Level> {
        match self.kind {
            TickKind::Quote => Some(Level { px: self.px_a, qty: self.qty_a }),
            TickKind::Trade => None,
        }
    }

    /// Best ask, for a quote.
    #[inline]
    pub const fn ask(&self) -> Option<Level> {
        match self.kind {
            TickKind::Quote => Some(Level { px: self.px_b, qty: self.qty_b }),
            TickKind::Trade => None,
        }
    }

    /// Price, size and aggressor, for a trade.
    #[inline]
    pub const fn last_trade(&self) -> Option<(Level, Aggressor)> {
        match self.kind {
            TickKind::Trade => Some((Level { px: self.px_a, qty: self.qty_a }, self.aggressor)),
            TickKind::Quote => None,
        }
    }

    /// Mid price `(bid + ask) / 2` rounded down, for a two-sided quote.
    #[inline]
    pub const fn mid(&self) -> Option<Px> {
        match self.kind {
            TickKind::Quote if self.px_a.raw() > 0 && self.px_b.raw() > 0 => Some(Px::from_raw(
                self.px_a.raw() / 2
                    + self.px_b.raw() / 2
                    + (self.px_a.raw() % 2 + self.px_b.raw() % 2) / 2,
            )),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_and_trade_accessors() {
        let bid = Level { px: Px::from_raw(100), qty: Qty::from_raw(5) };
        let ask = Level { px: Px::from_raw(103), qty: Qty::from_raw(7) };
        let q = Tick::quote(InstrumentId(3), bid, ask, 9, Nanos(1), Nanos(2))
            .with_flags(TickFlags::CROSSED);
        assert_eq!(q.bid(), Some(bid));
        assert_eq!(q.ask(), Some(ask));
        assert_eq!(q.last_trade(), None);
        assert_eq!(q.mid(), Some(Px::from_raw(101)));
        assert!(q.flags().intersects(TickFlags::UNREASONABLE));
        let t = Tick::trade(InstrumentId(3), bid, Aggressor::Sell, 10, Nanos(1), Nanos(2));
        assert_eq!(t.bid(), None);
        assert_eq!(t.mid(), None);
        assert_eq!(t.last_trade(), Some((bid, Aggressor::Sell)));
        assert_eq!(t.with_recv_ns(Nanos(50)).recv_ns(), Nanos(50));
    }
}
