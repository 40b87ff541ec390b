//! Integer and fixed-point text for FIX fields, written into and read from byte slices
//! without allocating.

const DIGITS2: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

const POW10: [u64; 20] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];

/// Decimal digits of `v` (1 for 0), without dividing.
#[inline]
pub fn digits(v: u64) -> usize {
    // log10 from log2 (1233/4096 ~ log10 2), corrected by one comparison.
    let t = (((64 - (v | 1).leading_zeros()) * 1233) >> 12) as usize;
    t + 1 - usize::from((v | 1) < POW10[t])
}

/// Writes the last `out.len()` decimal digits of `v`, zero-padded, into `out`; returns what
/// is left of `v`. Two digits per step, by constant division.
#[inline]
fn write_digits(out: &mut [u8], mut v: u64) -> u64 {
    let mut i = out.len();
    while i >= 2 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        out[i] = DIGITS2[d];
        out[i + 1] = DIGITS2[d + 1];
    }
    if i == 1 {
        out[0] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    v
}

/// Writes `v` in decimal at `buf[pos..]`; returns the position after it, or `None` if it does
/// not fit.
#[inline]
pub fn put_u64(buf: &mut [u8], pos: usize, v: u64) -> Option<usize> {
    let end = pos.checked_add(digits(v))?;
    write_digits(buf.get_mut(pos..end)?, v);
    Some(end)
}

/// Writes `raw * 10^-scale` as a decimal (`-12.50` for raw -1250 at scale 2); returns the
/// position after it. No division by the scale: the digits are written once, right to left,
/// with the point placed among them.
#[inline]
pub fn put_fixed(buf: &mut [u8], pos: usize, raw: i64, scale: u8) -> Option<usize> {
    let abs = raw.unsigned_abs();
    let scale = usize::from(scale);
    if scale == 0 {
        let mut p = pos;
        if raw < 0 {
            *buf.get_mut(p)? = b'-';
            p += 1;
        }
        return put_u64(buf, p, abs);
    }
    let nd = digits(abs).max(scale + 1);
    let neg = usize::from(raw < 0);
    let end = pos.checked_add(neg + nd + 1)?;
    let out = buf.get_mut(pos..end)?;
    if neg == 1 {
        out[0] = b'-';
    }
    let (int, frac) = out[neg..].split_at_mut(nd - scale);
    let rest = write_digits(&mut frac[1..], abs);
    frac[0] = b'.';
    write_digits(int, rest);
    Some(end)
}

/// Eight ASCII digits (little-endian word) to their value; `None` if any byte is not a
/// digit. SWAR: three multiply-shift steps instead of eight.
#[inline(always)]
pub fn eight_digits(word: u64) -> Option<u64> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    let v = word.wrapping_sub(ZEROS);
    // Every byte 0..=9: no byte underflowed past 0 and none exceeds 9.
    if (word & 0xf0f0_f0f0_f0f0_f0f0) != ZEROS
        || (v.wrapping_add(0x7676_7676_7676_7676) & 0x8080_8080_8080_8080) != 0
    {
        return None;
    }
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    Some((v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff)
}

/// Parses unsigned decimal digits (no sign, no spaces); `None` if empty, not digits, or past
/// `u64::MAX`.
#[inline]
pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    let mut rest = bytes;
    // Up to 19 digits cannot overflow; the 20th is checked.
    while rest.len() >= 8 && bytes.len() <= 19 {
        let (head, tail) = rest.split_at(8);
        let word = u64::from_le_bytes(<[u8; 8]>::try_from(head).ok()?);
        v = v * 100_000_000 + eight_digits(word)?;
        rest = tail;
    }
    for &b in rest {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

/// Parses an optionally signed decimal integer.
#[inline]
pub fn parse_i64(bytes: &[u8]) -> Option<i64> {
    match bytes.first() {
        Some(b'-') => {
            let v = parse_u64(&bytes[1..])?;
            0i64.checked_sub_unsigned(v)
        }
        _ => i64::try_from(parse_u64(bytes)?).ok(),
    }
}

/// Parses `[-+]digits[.digits]` into a raw `i64` at `scale` decimal places, exactly (as
/// [`tickline_engine::types::parse_fixed`]: trailing zeros past the scale are fine, other
/// digits there, or overflow, are `None`). One pass, no division.
#[inline]
pub fn parse_fixed(bytes: &[u8], scale: u8) -> Option<i64> {
    let (neg, body) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    let scale = usize::from(scale);
    let mut acc: u64 = 0;
    // Significant digits taken so far: 19 always fit a u64.
    let mut taken = 0usize;
    let mut frac: Option<usize> = None;
    let mut any = false;
    for &b in body {
        let d = b.wrapping_sub(b'0');
        if d <= 9 {
            any = true;
            if let Some(f) = frac.as_mut() {
                if *f == scale {
                    if d != 0 {
                        return None;
                    }
                    continue;
                }
                *f += 1;
            }
            if taken < 19 {
                acc = acc * 10 + u64::from(d);
            } else {
                acc = acc.checked_mul(10)?.checked_add(u64::from(d))?;
            }
            taken += usize::from(acc != 0);
        } else if b == b'.' && frac.is_none() {
            frac = Some(0);
        } else {
            return None;
        }
    }
    if !any {
        return None;
    }
    let pad = scale - frac.unwrap_or(0);
    let raw = acc.checked_mul(*POW10.get(pad)?)?;
    if neg {
        0i64.checked_sub_unsigned(raw)
    } else {
        i64::try_from(raw).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(f: impl Fn(&mut [u8]) -> Option<usize>) -> String {
        let mut buf = [0u8; 48];
        let n = f(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn formats_and_parses() {
        assert_eq!(text(|b| put_u64(b, 0, 0)), "0");
        assert_eq!(text(|b| put_u64(b, 0, 7)), "7");
        assert_eq!(text(|b| put_u64(b, 0, 10)), "10");
        assert_eq!(text(|b| put_u64(b, 0, u64::MAX)), u64::MAX.to_string());
        assert_eq!(text(|b| put_fixed(b, 0, 1250, 2)), "12.50");
        assert_eq!(text(|b| put_fixed(b, 0, -5, 3)), "-0.005");
        assert_eq!(text(|b| put_fixed(b, 0, 42, 0)), "42");
        assert_eq!(text(|b| put_fixed(b, 0, i64::MIN, 18)), "-9.223372036854775808");
        assert_eq!(put_u64(&mut [0u8; 2], 0, 123), None, "does not fit");
        assert_eq!(put_u64(&mut [0u8; 2], 3, 1), None, "position past the end");
        for (i, p) in POW10.iter().enumerate() {
            assert_eq!(digits(*p), i + 1);
            if *p > 1 {
                assert_eq!(digits(p - 1), i);
            }
        }
        assert_eq!(digits(0), 1);
        assert_eq!(digits(u64::MAX), 20);
        assert_eq!(parse_u64(b"00123"), Some(123));
        assert_eq!((parse_u64(b""), parse_u64(b"1a"), parse_u64(b"-1")), (None, None, None));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    proptest! {
        #[test]
        fn u64_round_trips(v in any::<u64>()) {
            prop_assert_eq!(text(|b| put_u64(b, 3, v).map(|e| { b.copy_within(3..e, 0); e - 3 })), v.to_string());
            let mut buf = [0u8; 20];
            let n = put_u64(&mut buf, 0, v).unwrap();
            prop_assert_eq!(parse_u64(&buf[..n]), Some(v));
        }

        #[test]
        fn parse_fixed_matches_the_engine(text in "[-+]?[0-9]{0,12}(\\.[0-9]{0,12})?", scale in 0u8..=12) {
            let engine = tickline_engine::types::parse_fixed(text.as_bytes(), tickline_engine::types::Scale::new(scale).unwrap()).ok();
            prop_assert_eq!(parse_fixed(text.as_bytes(), scale), engine, "{:?}", text);
        }

        #[test]
        fn parse_u64_matches_std(v in any::<u64>(), junk in 0usize..22) {
            let s = v.to_string();
            prop_assert_eq!(parse_u64(s.as_bytes()), Some(v));
            let mut b = s.into_bytes();
            if junk < b.len() {
                b[junk] = b'x';
                prop_assert_eq!(parse_u64(&b), None);
            }
        }

        #[test]
        fn fixed_matches_decimal(raw in any::<i64>(), scale in 0u8..=18) {
            let s = text(|b| put_fixed(b, 0, raw, scale));
            let expect = rust_decimal::Decimal::from_i128_with_scale(i128::from(raw), u32::from(scale));
            prop_assert_eq!(s.parse::<rust_decimal::Decimal>().unwrap(), expect);
            let parsed = tickline_engine::types::parse_fixed(s.as_bytes(), tickline_engine::types::Scale::new(scale).unwrap());
            prop_assert_eq!(parsed, Ok(raw));
        }
    }
}
