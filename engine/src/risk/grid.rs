//! Grid checks without a division: is a positive value a whole multiple of a tick or lot size?
//!
//! A division costs 20–40 cycles and the risk check needs two per order. For a divisor
//! `d = d0 × 2^s` with `d0` odd, `x` is a multiple of `d` exactly when
//! `rotate_right(x × d0⁻¹ mod 2^64, s) <= (2^64 − 1) / d` (Granlund–Montgomery; the same test
//! compilers emit for `x % CONSTANT == 0`). The inverse and bound are computed once per
//! instrument, so the check is a multiply, a rotate and a compare.

/// A precomputed divisibility test by a positive divisor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Grid {
    inv: u64,
    shift: u32,
    limit: u64,
}

impl Grid {
    /// The test for multiples of `step`; `None` if `step` is not positive.
    pub(crate) const fn new(step: i64) -> Option<Grid> {
        if step <= 0 {
            return None;
        }
        let d = step as u64;
        let shift = d.trailing_zeros();
        let d0 = d >> shift;
        // Newton's iteration doubles the correct low bits each step: 5 steps give 64.
        let mut inv = d0;
        let mut i = 0;
        while i < 5 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(d0.wrapping_mul(inv)));
            i += 1;
        }
        Some(Grid { inv, shift, limit: u64::MAX / d })
    }

    /// Whether `x` (positive) is a whole multiple of the step.
    #[inline]
    pub(crate) fn fits(&self, x: i64) -> bool {
        let Ok(x) = u64::try_from(x) else { return false };
        x.wrapping_mul(self.inv).rotate_right(self.shift) <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn edges() {
        assert_eq!(Grid::new(0), None);
        assert_eq!(Grid::new(-5), None);
        let g = Grid::new(5).unwrap();
        assert!(g.fits(5) && g.fits(10) && !g.fits(11) && g.fits(0));
        assert!(!g.fits(-5), "only positive values are checked");
        let one = Grid::new(1).unwrap();
        assert!(one.fits(i64::MAX));
        let big = Grid::new(i64::MAX).unwrap();
        assert!(big.fits(i64::MAX) && !big.fits(i64::MAX - 1));
    }

    proptest! {
        #[test]
        fn agrees_with_the_remainder(x in 0i64..=i64::MAX, d in 1i64..=i64::MAX, small in 1i64..1_000_000, k in 0i64..1_000_000) {
            prop_assert_eq!(Grid::new(d).unwrap().fits(x), x % d == 0);
            prop_assert_eq!(Grid::new(small).unwrap().fits(x), x % small == 0);
            prop_assert!(Grid::new(small).unwrap().fits(small * k));
            prop_assert_eq!(Grid::new(small).unwrap().fits(small * k + 1), (small * k + 1) % small == 0);
        }
    }
}
