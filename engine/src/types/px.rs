//! Fixed-point prices and quantities.
//!
//! A [`Px`] or [`Qty`] is an `i64` count of `10^-scale` units, where the scale belongs to the
//! instrument (see [`crate::types::Instrument`]), not to the value: the hot path carries 8 bytes
//! and never re-checks a scale. Conversion to and from [`rust_decimal::Decimal`] happens only at
//! the edges (config, admin JSON, reports) and is exact or an error, never rounded silently.

use std::fmt;

use rust_decimal::Decimal;

/// Largest scale (decimal places) an instrument may use. `10^18` still fits an `i64`.
pub const MAX_SCALE: u8 = 18;

/// Decimal places of a price or quantity, fixed per instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scale(u8);

impl Scale {
    /// A scale of `places` decimal places, or `None` above [`MAX_SCALE`].
    pub const fn new(places: u8) -> Option<Scale> {
        if places <= MAX_SCALE {
            Some(Scale(places))
        } else {
            None
        }
    }

    /// Decimal places.
    pub const fn places(self) -> u8 {
        self.0
    }

    /// `10^places`.
    pub const fn factor(self) -> i64 {
        10i64.pow(self.0 as u32)
    }
}

/// Why a decimal could not become a fixed-point value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixedError {
    /// The value has more decimal places than the instrument's scale allows.
    #[error("more decimal places than the instrument's scale of {0} allows")]
    TooPrecise(u8),
    /// The value does not fit an `i64` at the instrument's scale.
    #[error("value overflows 64 bits at scale {0}")]
    Overflow(u8),
}

macro_rules! fixed_point {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, bytemuck::NoUninit, bytemuck::AnyBitPattern)]
        #[repr(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Zero.
            pub const ZERO: $name = $name(0);

            /// From a raw count of `10^-scale` units.
            #[inline]
            pub const fn from_raw(raw: i64) -> $name {
                $name(raw)
            }

            /// The raw count of `10^-scale` units.
            #[inline]
            pub const fn raw(self) -> i64 {
                self.0
            }

            /// Whether the value is zero.
            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Whether the value is strictly positive.
            #[inline]
            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }

            /// `self + rhs`, or `None` on overflow.
            #[inline]
            pub const fn checked_add(self, rhs: $name) -> Option<$name> {
                match self.0.checked_add(rhs.0) {
                    Some(v) => Some($name(v)),
                    None => None,
                }
            }

            /// `self - rhs`, or `None` on overflow.
            #[inline]
            pub const fn checked_sub(self, rhs: $name) -> Option<$name> {
                match self.0.checked_sub(rhs.0) {
                    Some(v) => Some($name(v)),
                    None => None,
                }
            }

            /// `-self`, or `None` on overflow.
            #[inline]
            pub const fn checked_neg(self) -> Option<$name> {
                match self.0.checked_neg() {
                    Some(v) => Some($name(v)),
                    None => None,
                }
            }

            /// `self * n`, or `None` on overflow.
            #[inline]
            pub const fn checked_mul_int(self, n: i64) -> Option<$name> {
                match self.0.checked_mul(n) {
                    Some(v) => Some($name(v)),
                    None => None,
                }
            }

            /// Whether the value is a whole multiple of `step` (a tick or lot size).
            /// A non-positive step accepts nothing.
            #[inline]
            pub const fn is_multiple_of(self, step: $name) -> bool {
                step.0 > 0 && self.0 % step.0 == 0
            }

            /// Exact conversion from a decimal at `scale`: an error if it has more decimal
            /// places than `scale` or does not fit.
            pub fn from_decimal(value: Decimal, scale: Scale) -> Result<$name, FixedError> {
                from_decimal(value, scale).map($name)
            }

            /// Exact conversion to a decimal at `scale`.
            pub fn to_decimal(self, scale: Scale) -> Decimal {
                Decimal::new(self.0, u32::from(scale.places()))
            }

            /// Parses a plain decimal string (`"61837.63000000"`, `"-0.5"`) at `scale`.
            /// Trailing zeros beyond the scale are accepted; other extra digits are an error.
            pub fn parse(text: &str, scale: Scale) -> Result<$name, ParseFixedError> {
                parse_fixed(text.as_bytes(), scale).map($name)
            }

            /// A value displayed at `scale`, for logs and reports.
            pub fn display(self, scale: Scale) -> FixedDisplay {
                FixedDisplay { raw: self.0, scale }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }
    };
}

fixed_point!(
    /// A price: `raw * 10^-scale` in quote currency, scale fixed per instrument.
    Px
);
fixed_point!(
    /// A quantity: `raw * 10^-scale` in base units, scale fixed per instrument.
    Qty
);

impl Px {
    /// Notional `price * qty` as a raw `i128` at `price_scale + qty_scale` decimal places,
    /// or `None` if it does not fit. `i128` is wide enough for any pair of `i64` values, so
    /// only an `i64`-narrowing caller can overflow; the option keeps the contract explicit.
    #[inline]
    pub const fn checked_notional(self, qty: Qty) -> Option<i128> {
        (self.0 as i128).checked_mul(qty.0 as i128)
    }
}

/// A fixed-point value with its scale, formatted as a decimal.
#[derive(Clone, Copy, Debug)]
pub struct FixedDisplay {
    raw: i64,
    scale: Scale,
}

impl fmt::Display for FixedDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&Decimal::new(self.raw, u32::from(self.scale.places())), f)
    }
}

fn from_decimal(value: Decimal, scale: Scale) -> Result<i64, FixedError> {
    let places = u32::from(scale.places());
    let mut v = value.normalize();
    if v.scale() > places {
        return Err(FixedError::TooPrecise(scale.places()));
    }
    v.rescale(places);
    if v.scale() != places {
        // rescale could not reach the scale without exceeding 96-bit mantissa.
        return Err(FixedError::Overflow(scale.places()));
    }
    i64::try_from(v.mantissa()).map_err(|_| FixedError::Overflow(scale.places()))
}

/// Why a decimal string could not be parsed as a fixed-point value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseFixedError {
    /// Empty input, or only a sign or a point.
    #[error("empty number")]
    Empty,
    /// A byte that is not a digit, sign or a single decimal point.
    #[error("invalid character in number")]
    InvalidChar,
    /// Non-zero digits beyond the instrument's scale.
    #[error("more decimal places than the instrument's scale allows")]
    TooPrecise,
    /// The value does not fit an `i64` at the scale.
    #[error("number overflows 64 bits at the instrument's scale")]
    Overflow,
}

/// Parses `[-+]digits[.digits]` into a raw `i64` at `scale` without allocating.
///
/// This is the hot-path parser for venue price and size strings; it never rounds.
#[inline]
pub fn parse_fixed(bytes: &[u8], scale: Scale) -> Result<i64, ParseFixedError> {
    let (neg, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let places = scale.places() as usize;
    let mut acc: i64 = 0;
    let mut seen_digit = false;
    let mut frac: Option<usize> = None;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = i64::from(b - b'0');
                if let Some(n) = frac.as_mut() {
                    if *n == places {
                        if d != 0 {
                            return Err(ParseFixedError::TooPrecise);
                        }
                        continue;
                    }
                    *n += 1;
                }
                acc = acc
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d))
                    .ok_or(ParseFixedError::Overflow)?;
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return Err(ParseFixedError::InvalidChar),
        }
    }
    if !seen_digit {
        return Err(ParseFixedError::Empty);
    }
    let have = frac.unwrap_or(0);
    for _ in have..places {
        acc = acc.checked_mul(10).ok_or(ParseFixedError::Overflow)?;
    }
    Ok(if neg { -acc } else { acc })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn s(p: u8) -> Scale {
        Scale::new(p).unwrap()
    }

    #[test]
    fn parses_venue_strings_exactly() {
        assert_eq!(Px::parse("61837.63000000", s(2)).unwrap().raw(), 6_183_763);
        assert_eq!(Qty::parse("3.78826000", s(5)).unwrap().raw(), 378_826);
        assert_eq!(Qty::parse("0.00000000", s(5)).unwrap(), Qty::ZERO);
        assert_eq!(Px::parse("-1.5", s(1)).unwrap().raw(), -15);
        assert_eq!(Px::parse("7", s(3)).unwrap().raw(), 7000);
        assert_eq!(Px::parse("61837.635", s(2)), Err(ParseFixedError::TooPrecise));
        assert_eq!(Px::parse("", s(2)), Err(ParseFixedError::Empty));
        assert_eq!(Px::parse("-", s(2)), Err(ParseFixedError::Empty));
        assert_eq!(Px::parse("1.2.3", s(2)), Err(ParseFixedError::InvalidChar));
        assert_eq!(Px::parse("1e5", s(2)), Err(ParseFixedError::InvalidChar));
        assert_eq!(Px::parse("99999999999999999999", s(0)), Err(ParseFixedError::Overflow));
        assert_eq!(Px::parse("9223372036854775807", s(1)), Err(ParseFixedError::Overflow));
    }

    #[test]
    fn checked_arithmetic_reports_overflow() {
        let max = Px::from_raw(i64::MAX);
        assert_eq!(max.checked_add(Px::from_raw(1)), None);
        assert_eq!(Px::from_raw(i64::MIN).checked_neg(), None);
        assert_eq!(Px::from_raw(2).checked_mul_int(3), Some(Px::from_raw(6)));
        assert!(Px::from_raw(150).is_multiple_of(Px::from_raw(50)));
        assert!(!Px::from_raw(151).is_multiple_of(Px::from_raw(50)));
        assert!(!Px::from_raw(150).is_multiple_of(Px::ZERO));
        assert_eq!(
            Px::from_raw(i64::MAX).checked_notional(Qty::from_raw(i64::MAX)),
            Some(i128::from(i64::MAX) * i128::from(i64::MAX))
        );
    }

    #[test]
    fn decimal_edges_are_exact_or_errors() {
        let d = Decimal::from_str("61837.63").unwrap();
        assert_eq!(Px::from_decimal(d, s(2)).unwrap().raw(), 6_183_763);
        assert_eq!(Px::from_decimal(d, s(1)), Err(FixedError::TooPrecise(1)));
        let big = Decimal::from_str("100000000000").unwrap();
        assert_eq!(Px::from_decimal(big, s(9)), Err(FixedError::Overflow(9)));
        assert_eq!(Px::from_raw(6_183_763).display(s(2)).to_string(), "61837.63");
    }

    proptest! {
        #[test]
        fn decimal_round_trip(raw in any::<i64>(), places in 0u8..=MAX_SCALE) {
            let scale = s(places);
            let px = Px::from_raw(raw);
            let dec = px.to_decimal(scale);
            prop_assert_eq!(Px::from_decimal(dec, scale), Ok(px));
            // The parser agrees with rust_decimal's own formatting.
            prop_assert_eq!(Px::parse(&dec.to_string(), scale), Ok(px));
        }

        #[test]
        fn parse_matches_decimal_reference(int in 0u64..10_000_000_000, frac in 0u64..100_000_000, places in 0u8..=10) {
            let text = format!("{int}.{frac:08}");
            let scale = s(places);
            let reference = Decimal::from_str(&text).unwrap();
            match Qty::parse(&text, scale) {
                Ok(q) => prop_assert_eq!(q.to_decimal(scale), reference),
                Err(ParseFixedError::TooPrecise) => prop_assert!(reference.normalize().scale() > u32::from(places)),
                Err(ParseFixedError::Overflow) => prop_assert!(Qty::from_decimal(reference, scale).is_err()),
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }

        #[test]
        fn checked_ops_match_i128(a in any::<i64>(), b in any::<i64>()) {
            let wide = i128::from(a) + i128::from(b);
            let got = Qty::from_raw(a).checked_add(Qty::from_raw(b)).map(|q| i128::from(q.raw()));
            prop_assert_eq!(got, i64::try_from(wide).ok().map(i128::from));
            let wide = i128::from(a) - i128::from(b);
            let got = Qty::from_raw(a).checked_sub(Qty::from_raw(b)).map(|q| i128::from(q.raw()));
            prop_assert_eq!(got, i64::try_from(wide).ok().map(i128::from));
        }
    }
}
