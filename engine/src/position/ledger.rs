//! One instrument's position: quantity, cost basis, realized PnL and fees.

use rust_decimal::Decimal;

use crate::types::{Px, Qty, Scale, Side};

/// Why a fill could not be applied; the position is left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PositionError {
    /// The fill's quantity is zero or negative.
    #[error("fill quantity is not positive")]
    BadQuantity,
    /// The fill's price is zero or negative.
    #[error("fill price is not positive")]
    BadPrice,
    /// A figure would overflow its fixed-point width.
    #[error("position arithmetic overflows")]
    Overflow,
}

/// One instrument's position, in fixed point (see the [module docs](super)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    qty: i64,
    cost: i128,
    realized: i128,
    fees: i128,
    mark: Px,
    fills: u64,
}

impl Position {
    /// Flat, no fills.
    pub const fn new() -> Position {
        Position { qty: 0, cost: 0, realized: 0, fees: 0, mark: Px::ZERO, fills: 0 }
    }

    /// A position from its parts, raw as the accessors return them: telemetry readers, and
    /// a position restored from an earlier session's journal.
    pub const fn from_parts(
        qty: i64,
        cost: i128,
        realized: i128,
        fees: i128,
        mark: Px,
        fills: u64,
    ) -> Position {
        Position { qty, cost, realized, fees, mark, fills }
    }

    /// Signed position (positive long, negative short).
    #[inline]
    pub const fn qty(&self) -> Qty {
        Qty::from_raw(self.qty)
    }

    /// Cost basis of the open position, raw at the notional scale; zero when flat. The exact
    /// average price is `cost_basis / |qty|`.
    #[inline]
    pub const fn cost_basis(&self) -> i128 {
        self.cost
    }

    /// Realized PnL before fees, raw at the notional scale.
    #[inline]
    pub const fn realized(&self) -> i128 {
        self.realized
    }

    /// Fees paid (negative: rebates earned), raw at the notional scale.
    #[inline]
    pub const fn fees(&self) -> i128 {
        self.fees
    }

    /// The last mark price (zero before the first).
    #[inline]
    pub const fn mark(&self) -> Px {
        self.mark
    }

    /// Fills applied.
    #[inline]
    pub const fn fills(&self) -> u64 {
        self.fills
    }

    /// Sets the mark price unrealized PnL is taken at.
    #[inline]
    pub fn set_mark(&mut self, mark: Px) {
        self.mark = mark;
    }

    /// Average price rounded down to the price grid's unit, or `None` when flat.
    pub fn avg_price(&self) -> Option<Px> {
        let open = i128::from(self.qty.unsigned_abs());
        if open == 0 {
            return None;
        }
        i64::try_from(self.cost / open).ok().map(Px::from_raw)
    }

    /// The exact average price as a decimal (rounded only past 28 significant digits), or
    /// `None` when flat. Cold path: reports and the admin port.
    pub fn avg_price_decimal(&self, price_scale: Scale, qty_scale: Scale) -> Option<Decimal> {
        if self.qty == 0 {
            return None;
        }
        let cost = Decimal::try_from_i128_with_scale(
            self.cost,
            u32::from(price_scale.places()) + u32::from(qty_scale.places()),
        )
        .ok()?;
        let qty = Decimal::new(self.qty.abs(), u32::from(qty_scale.places()));
        cost.checked_div(qty).map(|d| d.normalize())
    }

    /// Unrealized PnL at `mark`, raw at the notional scale: `qty × mark − sign × basis`.
    /// A position with no mark yet (zero) is valued at its cost: zero.
    #[inline]
    pub fn unrealized_at(&self, mark: Px) -> Option<i128> {
        if self.qty == 0 || !mark.is_positive() {
            return Some(0);
        }
        // Two 64-bit factors: the product always fits an i128 (one multiply, no check).
        let value = i128::from(self.qty) * i128::from(mark.raw());
        if self.qty > 0 {
            value.checked_sub(self.cost)
        } else {
            value.checked_add(self.cost)
        }
    }

    /// Unrealized PnL at the last mark.
    #[inline]
    pub fn unrealized(&self) -> Option<i128> {
        self.unrealized_at(self.mark)
    }

    /// Realized + unrealized − fees at the last mark, raw at the notional scale.
    #[inline]
    pub fn net(&self) -> Option<i128> {
        self.realized.checked_add(self.unrealized()?)?.checked_sub(self.fees)
    }

    /// Applies a fill of `qty` at `px` on `side`, paying `fee` (raw at the notional scale).
    /// Returns the realized PnL it booked. On error nothing changes.
    #[inline]
    pub fn apply_fill(
        &mut self,
        side: Side,
        qty: Qty,
        px: Px,
        fee: i64,
    ) -> Result<i128, PositionError> {
        let q = qty.raw();
        if q <= 0 {
            return Err(PositionError::BadQuantity);
        }
        let x = px.raw();
        if x <= 0 {
            return Err(PositionError::BadPrice);
        }
        let s = side.sign();
        let fees = self.fees.checked_add(i128::from(fee)).ok_or(PositionError::Overflow)?;
        let (qty, cost, booked) = if self.qty == 0 || self.qty.signum() == s {
            // Opening or adding: the basis grows by what this fill cost.
            let qty = self.qty.checked_add(s * q).ok_or(PositionError::Overflow)?;
            let cost = self
                .cost
                .checked_add(i128::from(q) * i128::from(x))
                .ok_or(PositionError::Overflow)?;
            (qty, cost, 0)
        } else {
            // Reducing (and perhaps flipping): take `c` units' share of the basis out.
            let open = i128::from(self.qty.unsigned_abs());
            let c = i128::from(q).min(open);
            let removed = if c == open {
                self.cost
            } else {
                // floor(B × c / open) without overflowing: B = k × open + r.
                let (k, r) = (self.cost / open, self.cost % open);
                k.checked_mul(c)
                    .and_then(|a| a.checked_add(r * c / open))
                    .ok_or(PositionError::Overflow)?
            };
            // Both terms are non-negative, so the difference cannot overflow.
            let proceeds = c * i128::from(x) - removed;
            let booked = if self.qty > 0 { proceeds } else { -proceeds };
            let rest = i128::from(q) - c;
            if rest == 0 {
                // `c` fits an i64: it is at most `q`.
                (self.qty + s * c as i64, self.cost - removed, booked)
            } else {
                (s * rest as i64, rest * i128::from(x), booked)
            }
        };
        let realized = self.realized.checked_add(booked).ok_or(PositionError::Overflow)?;
        *self = Position { qty, cost, realized, fees, mark: self.mark, fills: self.fills + 1 };
        Ok(booked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: &mut Position, side: Side, q: i64, x: i64) -> i128 {
        p.apply_fill(side, Qty::from_raw(q), Px::from_raw(x), 0).unwrap()
    }

    #[test]
    fn average_cost_keeps_the_remainder_in_the_basis() {
        let mut p = Position::new();
        fill(&mut p, Side::Buy, 1, 100);
        fill(&mut p, Side::Buy, 2, 101);
        assert_eq!((p.qty().raw(), p.cost_basis()), (3, 302));
        assert_eq!(p.avg_price(), Some(Px::from_raw(100)));
        // Selling 1 of 3 takes floor(302 / 3) = 100 out; 202 stays for 2 units.
        assert_eq!(fill(&mut p, Side::Sell, 1, 110), 10);
        assert_eq!((p.qty().raw(), p.cost_basis()), (2, 202));
        assert_eq!(fill(&mut p, Side::Sell, 2, 110), 18);
        assert_eq!((p.qty().raw(), p.cost_basis(), p.realized()), (0, 0, 28));
        assert_eq!(p.realized(), 3 * 110 - 302, "flat: realized equals the cash flows");
    }

    #[test]
    fn shorts_flips_marks_and_fees() {
        let mut p = Position::new();
        p.apply_fill(Side::Sell, Qty::from_raw(2), Px::from_raw(50), 3).unwrap();
        assert_eq!((p.qty().raw(), p.cost_basis()), (-2, 100));
        p.set_mark(Px::from_raw(45));
        assert_eq!(p.unrealized(), Some(10));
        assert_eq!(p.net(), Some(10 - 3));
        // Buy 5: closes 2 (realizes +8 at 46), opens 3 long at 46.
        assert_eq!(fill(&mut p, Side::Buy, 5, 46), 8);
        assert_eq!((p.qty().raw(), p.cost_basis(), p.realized()), (3, 138, 8));
        p.set_mark(Px::from_raw(40));
        assert_eq!(p.unrealized(), Some(120 - 138));
        assert_eq!(p.fills(), 2);
    }

    #[test]
    fn bad_fills_change_nothing() {
        let mut p = Position::new();
        fill(&mut p, Side::Buy, 1, 10);
        let before = p;
        assert_eq!(
            p.apply_fill(Side::Buy, Qty::ZERO, Px::from_raw(1), 0),
            Err(PositionError::BadQuantity)
        );
        assert_eq!(
            p.apply_fill(Side::Buy, Qty::from_raw(1), Px::from_raw(-1), 0),
            Err(PositionError::BadPrice)
        );
        assert_eq!(
            p.apply_fill(Side::Buy, Qty::from_raw(i64::MAX), Px::from_raw(1), 0),
            Err(PositionError::Overflow)
        );
        assert_eq!(p, before);
        let d = p.avg_price_decimal(Scale::new(2).unwrap(), Scale::new(0).unwrap());
        assert_eq!(d, Some(Decimal::new(10, 2)));
    }
}
