//! The simulator's own order book: raw fixed-point prices and sizes, rendered as the venue
//! writes them.

use std::collections::BTreeMap;

/// Renders `raw` at `scale` decimals; with `pad` the decimals are always written out
/// (Binance: `"61837.63000000"`), else trailing zeros are trimmed (OKX: `"42219.9"`).
pub fn fixed(raw: i64, scale: u32, pad: bool) -> String {
    let f = 10i64.pow(scale);
    let (int, frac) = (raw / f, (raw % f).abs());
    if scale == 0 {
        return int.to_string();
    }
    let mut s = format!("{int}.{frac:0width$}", width = scale as usize);
    if !pad {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Bid or ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Bids.
    Bid,
    /// Asks.
    Ask,
}

/// Levels as `(price, size)`, best first.
pub type Ladder = Vec<(i64, i64)>;

/// A price → size book on raw fixed-point values.
#[derive(Clone, Debug, Default)]
pub struct SimBook {
    /// Bids by price.
    pub bids: BTreeMap<i64, i64>,
    /// Asks by price.
    pub asks: BTreeMap<i64, i64>,
}

impl SimBook {
    /// Sets a level (size 0 deletes).
    pub fn set(&mut self, side: Side, px: i64, qty: i64) {
        let m = match side {
            Side::Bid => &mut self.bids,
            Side::Ask => &mut self.asks,
        };
        if qty == 0 {
            m.remove(&px);
        } else {
            m.insert(px, qty);
        }
    }

    /// Best bid.
    pub fn best_bid(&self) -> Option<(i64, i64)> {
        self.bids.iter().next_back().map(|(&p, &q)| (p, q))
    }

    /// Best ask.
    pub fn best_ask(&self) -> Option<(i64, i64)> {
        self.asks.iter().next().map(|(&p, &q)| (p, q))
    }

    /// Up to `n` levels of each side, best first.
    pub fn top(&self, n: usize) -> (Ladder, Ladder) {
        let bids = self.bids.iter().rev().take(n).map(|(&p, &q)| (p, q)).collect();
        let asks = self.asks.iter().take(n).map(|(&p, &q)| (p, q)).collect();
        (bids, asks)
    }

    /// Empties both sides.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_venues() {
        assert_eq!(fixed(6_183_763_000_000, 8, true), "61837.63000000");
        assert_eq!(fixed(422_199, 1, false), "42219.9");
        assert_eq!(fixed(12_060_306, 8, false), "0.12060306");
        assert_eq!(fixed(100_000_000, 8, false), "1");
        assert_eq!(fixed(5, 0, true), "5");
    }
}
