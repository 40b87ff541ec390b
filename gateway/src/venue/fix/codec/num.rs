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
#[inline(always)]
pub fn put_u64(buf: &mut [u8], pos: usize, v: u64) -> Option<usize> {
    if pos.checked_add(WORD_ROOM).is_some_and(|r| r <= buf.len()) {
        let nd = digits(v);
        put_u64_words(buf, pos, v, nd);
        Some(pos + nd)
    } else {
        put_u64_digits(buf, pos, v)
    }
}

/// [`put_u64`] two digits at a time, where there is no room for whole words.
#[cold]
#[inline(never)]
fn put_u64_digits(buf: &mut [u8], pos: usize, v: u64) -> Option<usize> {
    let end = pos.checked_add(digits(v))?;
    write_digits(buf.get_mut(pos..end)?, v);
    Some(end)
}

/// Writes `raw * 10^-scale` as a decimal (`-12.50` for raw -1250 at scale 2); returns the
/// position after it. No division by the scale: the digits are written once, right to left,
/// with the point placed among them.
#[inline(always)]
pub fn put_fixed(buf: &mut [u8], pos: usize, raw: i64, scale: u8) -> Option<usize> {
    let abs = raw.unsigned_abs();
    let scale = usize::from(scale);
    if (1..=7).contains(&scale)
        && abs < 100_000_000
        && pos.checked_add(WORD_ROOM).is_some_and(|r| r <= buf.len())
    {
        // One word of digits (zero-padded, so `0.0015` needs nothing more), written as
        // the integer part, the point, and the fraction moved down one byte.
        let nd = digits(abs).max(scale + 1);
        let neg = usize::from(raw < 0);
        let digits = eight_ascii(abs);
        let int_at = pos + neg;
        let int_len = nd - scale;
        // The sign byte, which the digits overwrite when there is no sign.
        buf[pos] = b'-';
        store(buf, int_at, digits >> (8 * (8 - nd)));
        buf[int_at + int_len] = b'.';
        store(buf, int_at + int_len + 1, digits >> (8 * (8 - scale)));
        return Some(pos + neg + nd + 1);
    }
    put_fixed_other(buf, pos, raw, scale as u8)
}

/// [`put_fixed`] for what one word does not hold: no fraction, more than eight digits, or
/// no room for whole words.
#[inline(never)]
fn put_fixed_other(buf: &mut [u8], pos: usize, raw: i64, scale: u8) -> Option<usize> {
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
    if all_digits(word) {
        Some(digits_value(word))
    } else {
        None
    }
}

/// Whether every byte of `word` is an ASCII digit.
///
/// The lowest byte that is not a digit is flagged (bit 7) by one of the two sums: below
/// `'0'`, subtracting `'0'` wraps it; above `'9'` and below 0x80, adding 0x46 takes it past
/// 0x7f; from 0x80, one of the two leaves bit 7 set. Nothing carries or borrows into it from
/// the digits below, and what it carries into the bytes above does not matter once it is
/// flagged. All digits: no carries, no flags.
#[inline(always)]
pub fn all_digits(word: u64) -> bool {
    (word.wrapping_sub(ZEROS) | word.wrapping_add(0x4646_4646_4646_4646)) & (ONES << 7) == 0
}

/// The value of eight ASCII digits (little-endian word, first digit in the low byte), for a
/// word [`all_digits`] accepts (anything for any other).
#[inline(always)]
pub fn digits_value(word: u64) -> u64 {
    let v = word.wrapping_sub(ZEROS);
    let v = (v.wrapping_mul(10).wrapping_add(v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100).wrapping_add(v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000).wrapping_add(v >> 32)) & 0xffff_ffff
}

/// `1` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;

/// `'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The first `k` bytes of `word` (little-endian, so the first bytes in memory) moved to its
/// end, with `'0'` before them: `k` digits as the eight [`eight_digits`] reads. `k` is 1 to 8
/// (clamped).
#[inline(always)]
pub fn right_align(word: u64, k: usize) -> u64 {
    let k = k.clamp(1, 8);
    (word << (64 - 8 * k as u32)) | LEADING_ZEROS[k]
}

/// `v` (below 10^8) as eight ASCII digits, zero-padded, first digit in the low byte (the
/// order they take in memory). SWAR: 4+4 digits in 32-bit lanes, then 2+2 in 16-bit lanes,
/// then 1+1 in bytes, each split a multiply-shift.
#[inline(always)]
pub fn eight_ascii(v: u64) -> u64 {
    debug_assert!(v < 100_000_000);
    let merged = (v / 10_000) | ((v % 10_000) << 32);
    // x / 100 = x * 10486 >> 20 for x < 10^4 (checked exhaustively in the tests).
    let hundreds = ((merged * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let merged = ((merged - 100 * hundreds) << 16) + hundreds;
    // x / 10 = x * 103 >> 10 for x < 100.
    let tens = ((merged * 103) >> 10) & 0x000f_000f_000f_000f;
    (((merged - 10 * tens) << 8) + tens) | ZEROS
}

/// Stores the eight bytes of `word` at `buf[pos..pos + 8]`.
#[inline(always)]
fn store(buf: &mut [u8], pos: usize, word: u64) {
    buf[pos..pos + 8].copy_from_slice(&word.to_le_bytes());
}

/// [`put_u64`] by whole words, where at least 24 bytes are free at `pos` (bytes past the
/// number are overwritten with scratch).
#[inline(always)]
fn put_u64_words(buf: &mut [u8], pos: usize, v: u64, nd: usize) {
    if nd <= 8 {
        store(buf, pos, eight_ascii(v) >> (8 * (8 - nd)));
    } else if nd <= 16 {
        store(buf, pos, eight_ascii(v / 100_000_000) >> (8 * (16 - nd)));
        store(buf, pos + nd - 8, eight_ascii(v % 100_000_000));
    } else {
        let (top, rest) = (v / 10_000_000_000_000_000, v % 10_000_000_000_000_000);
        store(buf, pos, eight_ascii(top) >> (8 * (24 - nd)));
        store(buf, pos + nd - 16, eight_ascii(rest / 100_000_000));
        store(buf, pos + nd - 8, eight_ascii(rest % 100_000_000));
    }
}

/// Room [`put_u64`] and [`put_fixed`] want past `pos` to write by whole words.
const WORD_ROOM: usize = 24;

/// Parses unsigned decimal digits (no sign, no spaces); `None` if empty, not digits, or past
/// `u64::MAX`.
#[inline(always)]
pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    let n = bytes.len();
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[i..i + 8]);
        u64::from_le_bytes(w)
    };
    // 9 to 19 digits: whole words from the right, the first one zero-padded in front, all
    // checked at once.
    match n {
        9..=16 => {
            let (hi, lo) = (right_align(word(0), n - 8), word(n - 8));
            if all_digits(hi) & all_digits(lo) {
                Some(digits_value(hi) * 100_000_000 + digits_value(lo))
            } else {
                None
            }
        }
        17..=19 => {
            let (top, mid, lo) = (right_align(word(0), n - 16), word(n - 16), word(n - 8));
            if all_digits(top) & all_digits(mid) & all_digits(lo) {
                let high = digits_value(top) * 100_000_000 + digits_value(mid);
                Some(high * 100_000_000 + digits_value(lo))
            } else {
                None
            }
        }
        _ => parse_u64_short(bytes),
    }
}

/// [`parse_u64`] out of line: for the values of more than 8 bytes a message keeps (ids),
/// one copy of the word reads for every caller.
#[inline(never)]
pub fn parse_u64_long(bytes: &[u8]) -> Option<u64> {
    parse_u64(bytes)
}

/// [`parse_u64`] of up to 8 digits, or 20 (which may overflow), or anything else. FIX lets
/// an int carry leading zeros ("00023" is 23), so past 20 digits the zeros in front are
/// dropped first; what is still longer than 20 is past `u64::MAX` or not digits.
#[inline(never)]
fn parse_u64_short(mut bytes: &[u8]) -> Option<u64> {
    while bytes.len() > 20 && bytes[0] == b'0' {
        bytes = &bytes[1..];
    }
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

/// [`parse_u64`] of a value of at most 8 bytes held in the low `len` bytes of `word`
/// (little-endian; the bytes past it are ignored).
#[inline(always)]
pub fn parse_u64_word(word: u64, len: usize) -> Option<u64> {
    if len == 0 || len > 8 {
        return None;
    }
    eight_digits(right_align(word, len))
}

/// [`parse_fixed`] of a value of at most 8 bytes held in the low `len` bytes of `word`
/// (little-endian; the bytes past it are ignored): the same answers, by word.
///
/// The value is moved to the top of the word (what was past it shifts out). With exactly
/// `scale` places (what a venue that pads to the instrument's scale sends), the point is
/// where they start: the digits below it move up one byte, over it, and one
/// [`all_digits`] checks them all; at scale 0 all of it must be digits. Fewer places than
/// the scale go to [`parse_fixed_places`]; anything [`all_digits`] refuses (a sign, a second
/// point, a point at scale 0) to [`parse_fixed`].
#[inline(always)]
pub fn parse_fixed_word(word: u64, len: usize, scale: u8) -> Option<i64> {
    if len.wrapping_sub(1) >= 8 {
        return parse_fixed_bytes(word, len, scale);
    }
    // The value in the top `len` bytes, zeros below it.
    let top = word << (64 - 8 * len as u32);
    let places = usize::from(scale);
    let digits = if places == 0 {
        top | LEADING_ZEROS[len]
    } else if places < 8 && (top >> (56 - 8 * places)) as u8 == b'.' {
        (top << 8) ^ ((top ^ (top << 8)) & ABOVE[places]) | LEADING_ZEROS[len - 1]
    } else {
        return parse_fixed_places(top, word, len, scale);
    };
    if all_digits(digits) {
        Some(digits_value(digits) as i64)
    } else {
        parse_fixed_bytes(word, len, scale)
    }
}

/// [`parse_fixed_word`] of a value (`top`, at the top of its word) with fewer places than
/// the scale, or none: the first `.` is found ([`super::scan::zero_bytes`]), the digits
/// below it moved up over it, and the value padded with zeros. A sign, a second `.`, no
/// digit, digits past the scale and more than 10 places to pad go to [`parse_fixed`].
#[inline(never)]
fn parse_fixed_places(top: u64, word: u64, len: usize, scale: u8) -> Option<i64> {
    const DOTS: u64 = 0x2e2e_2e2e_2e2e_2e2e;
    let dots = super::scan::zero_bytes(top ^ DOTS);
    // Bit 7 of the first '.', alone; 0 without one.
    let dot = dots & dots.wrapping_neg();
    let (digits, n, frac) = if dot != 0 {
        // The bytes above the point stay; those below move up one byte, over it.
        let above = (dot << 1).wrapping_neg();
        let digits = (top << 8) ^ ((top ^ (top << 8)) & above);
        (digits, len - 1, 7 - (dot.trailing_zeros() / 8) as usize)
    } else {
        (top, len, 0)
    };
    let digits = digits | LEADING_ZEROS[n & 15];
    let pad = usize::from(scale).wrapping_sub(frac);
    if pad > 10 || !all_digits(digits) {
        return parse_fixed_bytes(word, len, scale);
    }
    // At most 8 digits and 10 zeros: below 10^18, no overflow.
    Some((digits_value(digits) * POW10[pad]) as i64)
}

/// The bytes of a word above its byte `7 - places`: the places after a point there.
const ABOVE: [u64; 8] = {
    let mut t = [0u64; 8];
    let mut p = 1;
    while p < 8 {
        t[p] = u64::MAX << (64 - 8 * p);
        p += 1;
    }
    t
};

/// `'0'` in the bytes below the top `n` (of 1 to 8), as [`all_digits`] wants for `n` digits
/// at the top of a word; none for no digits, which it then refuses. The rest of the table
/// is never used.
const LEADING_ZEROS: [u64; 16] = {
    let mut t = [0u64; 16];
    let mut n = 1;
    while n < 8 {
        t[n] = ZEROS >> (8 * n);
        n += 1;
    }
    t
};

/// [`parse_fixed`] of the first `len` bytes of `word`.
#[cold]
#[inline(never)]
fn parse_fixed_bytes(word: u64, len: usize, scale: u8) -> Option<i64> {
    parse_fixed(word.to_le_bytes().get(..len)?, scale)
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
        // Leading zeros past 20 digits are still the value they pad.
        assert_eq!(parse_u64(&[b'0'; 21]), Some(0));
        assert_eq!(parse_u64(b"0000018446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"0000018446744073709551616"), None);
        assert_eq!(parse_u64(b"00000x8446744073709551615"), None);
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
    }

    /// `bytes` as the word the `_word` parsers take: padded with junk past the value.
    fn padded(bytes: &[u8], junk: u8) -> u64 {
        let mut w = [junk; 8];
        w[..bytes.len()].copy_from_slice(bytes);
        u64::from_le_bytes(w)
    }

    #[test]
    fn eight_ascii_writes_every_value() {
        for v in
            (0..100_000_000u64).step_by(9_973).chain([0, 9, 10, 99, 100, 9_999, 10_000, 99_999_999])
        {
            assert_eq!(eight_ascii(v).to_le_bytes(), *format!("{v:08}").as_bytes(), "{v}");
        }
        // The two lane divisions, for every input they get.
        for x in 0..10_000u64 {
            assert_eq!((x * 10_486) >> 20, x / 100);
        }
        for x in 0..100u64 {
            assert_eq!((x * 103) >> 10, x / 10);
        }
    }

    #[test]
    fn fixed_words_agree_with_the_byte_loop_on_edge_cases() {
        for text in [
            "", "-", "+", ".", "-.", "0", "5.", ".5", ".000", "0.000", "1.00.0", "1.5", "-0.005",
            "+12.3", "12345678", "1234567.", "99999999", "-9999999", "1e5", "1..2", "--1", "+-1",
            " 1", "1 ", "0.050000", "61837.63", ".1234567", "1.234567", "1.2.3456", "12.3.456",
            "-1.5", "+1.5", "1.5\u{0}", "\u{0}1.5", "1.50", "9999999.", ".0000001",
        ] {
            for scale in [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18, 19, 20, 255] {
                for junk in [0u8, b'0', b'.', b'9', 0xff] {
                    assert_eq!(
                        parse_fixed_word(padded(text.as_bytes(), junk), text.len(), scale),
                        parse_fixed(text.as_bytes(), scale),
                        "{text:?} at {scale} (junk {junk})"
                    );
                }
            }
        }
    }

    #[test]
    fn all_digits_takes_exactly_digits() {
        for at in 0..8 {
            for b in 0..=255u8 {
                let mut w = *b"01234567";
                w[at] = b;
                let want = w.iter().all(u8::is_ascii_digit);
                assert_eq!(all_digits(u64::from_le_bytes(w)), want, "{b:#x} at {at}");
                // Two bad bytes: the lower one decides.
                if at < 7 {
                    w[at + 1] = 0xff - b;
                    let want = w.iter().all(u8::is_ascii_digit);
                    assert_eq!(all_digits(u64::from_le_bytes(w)), want, "{b:#x} at {at}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn all_digits_agrees_with_a_byte_loop(w in any::<[u8; 8]>(), digits in proptest::collection::vec(0usize..8, 0..8)) {
            let mut w = w;
            for i in digits {
                w[i] = b'0' + (w[i] % 10);
            }
            prop_assert_eq!(all_digits(u64::from_le_bytes(w)), w.iter().all(u8::is_ascii_digit), "{:?}", w);
        }

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
        fn parse_fixed_word_agrees_with_the_byte_loop(
            text in "[-+]?[0-9]{0,8}(\\.[0-9]{0,8})?|[-+0-9.a ]{0,8}",
            scale in 0u8..=20,
            junk in any::<u8>(),
        ) {
            let b = text.as_bytes();
            if b.len() <= 8 {
                prop_assert_eq!(parse_fixed_word(padded(b, junk), b.len(), scale), parse_fixed(b, scale), "{:?} at {}", text, scale);
            }
        }

        #[test]
        fn parse_u64_paths_agree_with_std(digits in "0{0,8}[0-9]{0,21}", junk_at in 0usize..30, junk in any::<u8>()) {
            let mut b = digits.into_bytes();
            if junk_at < b.len() {
                b[junk_at] = junk;
            }
            let want = std::str::from_utf8(&b).ok().filter(|s| s.bytes().all(|c| c.is_ascii_digit())).and_then(|s| s.parse::<u64>().ok());
            prop_assert_eq!(parse_u64(&b), want, "{:?}", b);
            if (1..=8).contains(&b.len()) {
                prop_assert_eq!(parse_u64_word(padded(&b, junk), b.len()), want, "{:?}", b);
            }
        }

        #[test]
        fn word_writes_agree_with_digit_writes(v in any::<u64>(), raw in any::<i64>(), scale in 0u8..=18, small in 0u64..100_000_000) {
            // A buffer with room writes by words; one without writes digit by digit.
            for v in [v, small, v % 10_000_000_000_000_000] {
                let mut roomy = [b'#'; 64];
                let mut tight = [b'#'; 20];
                let a = put_u64(&mut roomy, 1, v).unwrap();
                let b = put_u64(&mut tight, 0, v).unwrap();
                prop_assert_eq!(&roomy[1..a], &tight[..b]);
                prop_assert_eq!(roomy[0], b'#');
            }
            for raw in [raw, small as i64, -(small as i64)] {
                let mut roomy = [b'#'; 64];
                let mut tight = [b'#'; 22];
                let a = put_fixed(&mut roomy, 1, raw, scale).unwrap();
                let b = put_fixed(&mut tight, 0, raw, scale).unwrap();
                prop_assert_eq!(&roomy[1..a], &tight[..b], "{} at {}", raw, scale);
                prop_assert_eq!(roomy[0], b'#');
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
