//! An instrument as a strategy trades it: id, scales and grids, and exact conversions of
//! operator decimals (parameters) to fixed point.

use rust_decimal::Decimal;
use tickline_engine::types::{Instrument, InstrumentId, Px, Qty, Scale};

/// Ticks a strategy sits out after risk refused one of its orders (a reject notice: an
/// `ExecKind::Rejected` report with venue order id 0), so a throttle or limit that bites is
/// not hammered on every tick.
pub const REJECT_BACKOFF: u32 = 32;

/// One traded instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leg {
    /// Instrument.
    pub id: InstrumentId,
    /// Decimal places of prices.
    pub price_scale: Scale,
    /// Decimal places of quantities.
    pub qty_scale: Scale,
    /// Price grid.
    pub tick: Px,
    /// Size grid.
    pub lot: Qty,
}

impl Leg {
    /// The leg of a registry instrument.
    pub fn of(inst: &Instrument) -> Leg {
        Leg {
            id: inst.id,
            price_scale: inst.price_scale,
            qty_scale: inst.qty_scale,
            tick: inst.tick_size,
            lot: inst.lot_size,
        }
    }

    /// A price distance (spread, threshold, stop), exact at the price scale and `>= 0`.
    pub fn distance(&self, name: &str, v: Decimal) -> Result<Px, String> {
        let px = Px::from_decimal(v, self.price_scale).map_err(|e| format!("{name} {v}: {e}"))?;
        if px.raw() < 0 {
            return Err(format!("{name} {v}: must not be negative"));
        }
        Ok(px)
    }

    /// An order size: exact, positive, on the lot grid.
    pub fn size(&self, name: &str, v: Decimal) -> Result<Qty, String> {
        let q = Qty::from_decimal(v, self.qty_scale).map_err(|e| format!("{name} {v}: {e}"))?;
        if !q.is_positive() || !q.is_multiple_of(self.lot) {
            return Err(format!("{name} {v}: must be a positive multiple of the lot size"));
        }
        Ok(q)
    }

    /// A position cap: exact and `>= 0`.
    pub fn cap(&self, name: &str, v: Decimal) -> Result<Qty, String> {
        let q = Qty::from_decimal(v, self.qty_scale).map_err(|e| format!("{name} {v}: {e}"))?;
        if q.raw() < 0 {
            return Err(format!("{name} {v}: must not be negative"));
        }
        Ok(q)
    }

    /// `raw` rounded down to the price grid.
    #[inline]
    pub fn floor(&self, raw: i64) -> i64 {
        let t = self.tick.raw().max(1);
        raw.div_euclid(t) * t
    }

    /// `raw` rounded up to the price grid.
    #[inline]
    pub fn ceil(&self, raw: i64) -> i64 {
        let t = self.tick.raw().max(1);
        -((-raw).div_euclid(t) * t)
    }
}

/// A whole number in `1..=max` (periods, counts).
pub fn whole(name: &str, v: Decimal, max: u32) -> Result<u32, String> {
    let n = v.normalize();
    if n.scale() != 0 || n.is_sign_negative() {
        return Err(format!("{name} {v}: must be a whole number"));
    }
    u32::try_from(n.mantissa())
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("{name} {v}: must be 1..={max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_and_conversions() {
        let leg = Leg {
            id: InstrumentId(0),
            price_scale: Scale::new(2).unwrap(),
            qty_scale: Scale::new(3).unwrap(),
            tick: Px::from_raw(5),
            lot: Qty::from_raw(10),
        };
        assert_eq!((leg.floor(104), leg.ceil(101), leg.ceil(105)), (100, 105, 105));
        assert_eq!((leg.floor(-1), leg.ceil(-1)), (-5, 0));
        assert_eq!(leg.size("qty", Decimal::new(2, 2)), Ok(Qty::from_raw(20)));
        assert!(leg.size("qty", Decimal::new(15, 3)).is_err(), "off the lot grid");
        assert!(leg.size("qty", Decimal::ZERO).is_err());
        assert!(leg.distance("d", Decimal::new(1, 3)).is_err(), "too precise");
        assert_eq!(whole("n", Decimal::new(20, 0), 100), Ok(20));
        assert!(whole("n", Decimal::new(15, 1), 100).is_err());
        assert!(whole("n", Decimal::ZERO, 100).is_err());
    }
}
