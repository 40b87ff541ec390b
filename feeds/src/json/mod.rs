//! JSON reading shared by the venue decoders: a strict byte cursor for the fast path (its
//! numbers and strings read a word at a time, [`number`] and [`swar`]), a reusable `simd-json`
//! tape for the fallback, and the fixed-point number rule both apply.

pub(crate) mod cursor;
pub(crate) mod number;
mod swar;
pub(crate) mod tape;

use tickline_engine::types::{parse_fixed, ParseFixedError, Scale};

use crate::decode_error::DecodeError;

/// Parses a venue price or size string at `scale`: a plain non-negative decimal that fits an
/// `i64` at the scale without losing digits.
#[inline]
pub(crate) fn parse_decimal(bytes: &[u8], scale: Scale) -> Result<i64, DecodeError> {
    if let Some((&b'-', rest)) = bytes.split_first() {
        // A well-formed negative number is its own kind; "-x" is just a bad number.
        return Err(match parse_fixed(rest, scale) {
            Ok(_) => DecodeError::Negative,
            Err(e) => fixed_error(e),
        });
    }
    parse_fixed(bytes, scale).map_err(fixed_error)
}

#[inline]
fn fixed_error(e: ParseFixedError) -> DecodeError {
    match e {
        ParseFixedError::Empty | ParseFixedError::InvalidChar => DecodeError::BadNumber,
        ParseFixedError::TooPrecise => DecodeError::TooPrecise,
        ParseFixedError::Overflow => DecodeError::Overflow,
    }
}

/// Parses a decimal integer string (OKX sends ids and times as strings) as a `u64`.
#[inline]
pub(crate) fn parse_uint_str(bytes: &[u8]) -> Result<u64, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::BadNumber);
    }
    if bytes[0] == b'-' {
        return Err(if bytes.len() > 1 && bytes[1..].iter().all(u8::is_ascii_digit) {
            DecodeError::Negative
        } else {
            DecodeError::BadNumber
        });
    }
    let mut v: u64 = 0;
    for &c in bytes {
        if !c.is_ascii_digit() {
            return Err(DecodeError::BadNumber);
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or(DecodeError::Overflow)?;
    }
    Ok(v)
}

/// Milliseconds since the epoch as an `i64` nanosecond-ready value.
#[inline]
pub(crate) fn millis(ms: u64) -> Result<tickline_engine::types::Nanos, DecodeError> {
    let ms = i64::try_from(ms).map_err(|_| DecodeError::Overflow)?;
    if ms > i64::MAX / 1_000_000 {
        return Err(DecodeError::Overflow);
    }
    Ok(tickline_engine::types::Nanos::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(p: u8) -> Scale {
        Scale::new(p).unwrap()
    }

    #[test]
    fn decimal_kinds() {
        assert_eq!(parse_decimal(b"61837.63000000", s(2)), Ok(6_183_763));
        assert_eq!(parse_decimal(b"0.00000000", s(5)), Ok(0));
        assert_eq!(parse_decimal(b"-1.5", s(2)), Err(DecodeError::Negative));
        assert_eq!(parse_decimal(b"-", s(2)), Err(DecodeError::BadNumber));
        assert_eq!(parse_decimal(b"-x", s(2)), Err(DecodeError::BadNumber));
        assert_eq!(parse_decimal(b"1.005", s(2)), Err(DecodeError::TooPrecise));
        assert_eq!(parse_decimal(b"99999999999999999999", s(2)), Err(DecodeError::Overflow));
        assert_eq!(parse_decimal(b"1e5", s(2)), Err(DecodeError::BadNumber));
        assert_eq!(parse_decimal(b"", s(2)), Err(DecodeError::BadNumber));
    }

    #[test]
    fn uint_strings() {
        assert_eq!(parse_uint_str(b"1597026383085"), Ok(1_597_026_383_085));
        assert_eq!(parse_uint_str(b"-5"), Err(DecodeError::Negative));
        assert_eq!(parse_uint_str(b"5a"), Err(DecodeError::BadNumber));
        assert_eq!(parse_uint_str(b""), Err(DecodeError::BadNumber));
        assert_eq!(parse_uint_str(b"18446744073709551616"), Err(DecodeError::Overflow));
        assert_eq!(millis(u64::MAX), Err(DecodeError::Overflow));
        assert_eq!(millis(9_300_000_000_000), Err(DecodeError::Overflow));
        assert_eq!(millis(1).unwrap().0, 1_000_000);
    }
}
