//! The cursor's number fast path: decimal strings and integers read eight digits at a time.
//!
//! Both scans accept only the plain shapes venues send (`digits[.digits]` in a string, a bare
//! `digits` integer) with at most 19 digits kept, which a `u64` holds without any per-digit
//! overflow check; one check at the end decides whether the value fits. Anything else — a
//! sign, a second point, an escape, a 20th digit, a value that does not fit — is `None`, and
//! the caller runs the byte-by-byte path ([`super::parse_decimal`], the cursor's own integer
//! loop), which names the error exactly as before. So the fast path only ever says "this is
//! the value the byte-by-byte path would give", never which error it would give.

use tickline_engine::types::Scale;

use super::swar::{below, leading, load, non_digits, take_digits, WORD, ZEROS};

/// Most digits a `u64` accumulator holds whatever they are (`10^19 - 1 < u64::MAX`).
const MAX_DIGITS: usize = 19;

/// `10^i`.
const POW10: [u64; MAX_DIGITS + 1] = {
    let mut p = [1u64; MAX_DIGITS + 1];
    let mut i = 1;
    while i < p.len() {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

#[inline(always)]
fn pow10(i: usize) -> u64 {
    POW10[i.min(MAX_DIGITS)]
}

#[inline(always)]
fn is_digit_at(buf: &[u8], at: usize) -> bool {
    buf.get(at).is_some_and(u8::is_ascii_digit)
}

/// Reads the body of a decimal string that starts at `buf[at]`, just after the opening quote.
///
/// `Some((value, end))` when the body is `digits[.digits]` with at least one digit, no
/// non-zero digit past `scale`'s places, at most 19 digits kept, and a value that fits an
/// `i64` at `scale`; the closing quote is `buf[end]`. The value is then exactly what
/// [`super::parse_decimal`] gives for `buf[at..end]`.
#[inline]
pub(crate) fn scan_decimal(buf: &[u8], at: usize, scale: Scale) -> Option<(i64, usize)> {
    let places = usize::from(scale.places());

    // Integer digits, a word at a time (a venue's prices take one).
    let mut pos = at;
    let mut acc = 0u64;
    let mut kept = 0;
    loop {
        let w = load(buf, pos);
        let n = leading(non_digits(w));
        kept += n;
        if kept > MAX_DIGITS {
            return None;
        }
        acc = acc * pow10(n) + take_digits(w, n);
        pos += n;
        if n < WORD || !is_digit_at(buf, pos) {
            break;
        }
    }
    let int_digits = pos - at;

    // Fraction digits: the first `places` count, the rest must be zeros.
    let mut frac = 0;
    if buf.get(pos) == Some(&b'.') {
        pos += 1;
        let frac_start = pos;
        loop {
            let w = load(buf, pos);
            let n = leading(non_digits(w));
            let k = n.min(places - frac);
            if (w ^ ZEROS) & below(n) & !below(k) != 0 {
                return None;
            }
            kept += k;
            if kept > MAX_DIGITS {
                return None;
            }
            acc = acc * pow10(k) + take_digits(w, k);
            frac += k;
            pos += n;
            if n < WORD || !is_digit_at(buf, pos) {
                break;
            }
        }
        if int_digits == 0 && pos == frac_start {
            return None;
        }
    } else if int_digits == 0 {
        return None;
    }
    if buf.get(pos) != Some(&b'"') {
        return None;
    }
    // The one overflow check: the digits kept fit a u64, the scaled value must fit an i64.
    let raw = acc.checked_mul(pow10(places - frac))?;
    Some((i64::try_from(raw).ok()?, pos))
}

/// Reads a JSON integer that starts at `buf[at]`.
///
/// `Some((value, end))` for 1 to 19 digits without a redundant leading zero, followed by
/// neither a point nor an exponent: exactly the integers the cursor's byte-by-byte loop
/// accepts, with the same value; `buf[end]` is the byte after the last digit.
#[inline]
pub(crate) fn scan_uint(buf: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut pos = at;
    let mut acc = 0u64;
    loop {
        let w = load(buf, pos);
        let n = leading(non_digits(w));
        if pos - at + n > MAX_DIGITS {
            return None;
        }
        acc = acc * pow10(n) + take_digits(w, n);
        pos += n;
        if n < WORD || !is_digit_at(buf, pos) {
            break;
        }
    }
    let digits = pos - at;
    let leading_zero = digits > 1 && buf.get(at) == Some(&b'0');
    if digits == 0 || leading_zero || matches!(buf.get(pos), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((acc, pos))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(p: u8) -> Scale {
        Scale::new(p).unwrap()
    }

    /// `scan_decimal` on a body at the start of a buffer, the end relative to it.
    fn dec(body: &[u8], scale: Scale) -> Option<(i64, usize)> {
        scan_decimal(body, 0, scale)
    }

    fn uint(body: &[u8]) -> Option<(u64, usize)> {
        scan_uint(body, 0)
    }

    /// The byte-by-byte reading of a decimal string body at `buf[at]`: value and end.
    fn slow_decimal(buf: &[u8], at: usize, scale: Scale) -> Option<(i64, usize)> {
        let rest = &buf[at..];
        let end = rest.iter().position(|&c| c == b'"')?;
        super::super::parse_decimal(&rest[..end], scale).ok().map(|v| (v, at + end))
    }

    /// The cursor's byte-by-byte integer loop, restated.
    fn slow_uint(buf: &[u8], at: usize) -> Option<(u64, usize)> {
        let rest = &buf[at..];
        let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || (n > 1 && rest[0] == b'0') || matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        std::str::from_utf8(&rest[..n]).ok()?.parse().ok().map(|v| (v, at + n))
    }

    #[test]
    fn venue_strings() {
        let two = s(2);
        assert_eq!(dec(b"61837.63000000\"}}", two), Some((6_183_763, 14)));
        assert_eq!(dec(b"3.78826000\"", s(5)), Some((378_826, 10)));
        assert_eq!(dec(b"0.00000000\"", s(5)), Some((0, 10)));
        assert_eq!(dec(b"7\"", s(3)), Some((7_000, 1)));
        assert_eq!(dec(b"5.\"", two), Some((500, 2)));
        assert_eq!(dec(b".5\"", two), Some((50, 2)));
        // At the very end of a frame, and in a frame shorter than a word.
        let frame = br#"{"A":"1.54698000"}}"#;
        assert_eq!(scan_decimal(frame, 6, s(6)), Some((1_546_980, 16)));
        assert_eq!(scan_decimal(b"\"1.5\"", 1, two), Some((150, 4)));
        // Left to the byte-by-byte path, which names the error.
        for bad in [
            &b"61837.635\""[..],
            b"-1.5\"",
            b"+1.5\"",
            b"1.2.3\"",
            b"1e5\"",
            b".\"",
            b"\"",
            b"1.5",
            b"1.5}}",
            b"1\\u0030\"",
            b"99999999999999999.00\"",
        ] {
            assert_eq!(dec(bad, two), None, "{}", String::from_utf8_lossy(bad));
        }
        // 19 digits fit the accumulator; whether the value fits is checked once at the end.
        assert_eq!(dec(b"9223372036854775807\"", s(0)), Some((i64::MAX, 19)));
        assert_eq!(dec(b"9223372036854775808\"", s(0)), None);
        assert_eq!(dec(b"922337203685477580.7\"", s(1)), Some((i64::MAX, 20)));
        assert_eq!(dec(b"92233720368547758.08\"", s(2)), None);
        assert_eq!(dec(b"1\"", s(18)), Some((1_000_000_000_000_000_000, 1)));
        assert_eq!(dec(b"10\"", s(18)), None);
        assert_eq!(dec(b"99999999999999999999\"", s(0)), None);
        // Zeros past the scale, in one word and in several.
        assert_eq!(dec(b"1.500000\"", s(1)), Some((15, 8)));
        assert_eq!(dec(b"1.500001\"", s(1)), None);
        assert_eq!(dec(b"1.50000000000000000000000\"", s(1)), Some((15, 25)));
        assert_eq!(dec(b"1.50000000000000000000001\"", s(1)), None);
    }

    #[test]
    fn integers() {
        assert_eq!(uint(b"50093239212,"), Some((50_093_239_212, 11)));
        assert_eq!(uint(b"0}"), Some((0, 1)));
        assert_eq!(uint(b"1723161255343}}"), Some((1_723_161_255_343, 13)));
        assert_eq!(uint(b"9999999999999999999"), Some((9_999_999_999_999_999_999, 19)));
        assert_eq!(uint(b"18446744073709551615"), None);
        assert_eq!(scan_uint(b"{\"u\":5}", 5), Some((5, 6)));
        for bad in [&b"012"[..], b"00000000000000001", b"1.5", b"1e5", b"1E5", b"-1", b"", b"\"1\""]
        {
            assert_eq!(uint(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    /// A number body and what follows it, from a small alphabet that makes edge cases likely.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            // Anything from the number alphabet.
            proptest::collection::vec(
                prop_oneof![
                    8 => b'0'..=b'9',
                    2 => Just(b'0'),
                    1 => Just(b'.'),
                    1 => Just(b'"'),
                    1 => prop::sample::select(&b"-+eE\\ x\x00\xff"[..]),
                ],
                0..40,
            ),
            // Well-formed: 0..22 integer digits, 0..22 fraction digits, zero padding, and
            // what may follow the string in a frame.
            (
                "[0-9]{0,22}",
                prop::option::of("[0-9]{0,22}"),
                0usize..20,
                prop::sample::select(vec!["\"", "\"}}", "\",\"B\":\"1.5\"}}"]),
            )
                .prop_map(|(int, frac, pad, after)| {
                    let mut t = int.into_bytes();
                    if let Some(f) = frac {
                        t.push(b'.');
                        t.extend_from_slice(f.as_bytes());
                        t.extend(std::iter::repeat_n(b'0', pad));
                    }
                    t.extend_from_slice(after.as_bytes());
                    t
                }),
        ]
    }

    /// `body` after up to 20 bytes of frame before it.
    fn framed() -> impl Strategy<Value = (Vec<u8>, usize)> {
        ("[a-z\":,{]{0,20}", body()).prop_map(|(before, body)| {
            let at = before.len();
            let mut buf = before.into_bytes();
            buf.extend_from_slice(&body);
            (buf, at)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

        /// The fast path never gives a value the byte-by-byte path would not, and gives one
        /// for every plain number of up to 19 kept digits that fits.
        #[test]
        fn decimal_fast_path_agrees((buf, at) in framed(), places in 0u8..=18) {
            let scale = s(places);
            let fast = scan_decimal(&buf, at, scale);
            let slow = slow_decimal(&buf, at, scale);
            if fast.is_some() {
                prop_assert_eq!(fast, slow);
            } else if let Some((_, end)) = slow {
                // Declined: only for shapes outside the fast path or more than 19 kept digits.
                let text = &buf[at..end];
                let plain = text.iter().all(|c| c.is_ascii_digit() || *c == b'.');
                let (int, frac) = match text.iter().position(|&c| c == b'.') {
                    Some(d) => (d, text.len() - d - 1),
                    None => (text.len(), 0),
                };
                prop_assert!(
                    !plain || int + frac.min(usize::from(places)) > MAX_DIGITS,
                    "declined {}", String::from_utf8_lossy(text)
                );
            }
        }

        #[test]
        fn uint_fast_path_agrees((buf, at) in framed()) {
            let fast = scan_uint(&buf, at);
            if fast.is_some() {
                prop_assert_eq!(fast, slow_uint(&buf, at));
            } else if let Some((_, end)) = slow_uint(&buf, at) {
                prop_assert!(end - at > MAX_DIGITS);
            }
        }

        /// 17, 18 and 19 digit values up to `i64::MAX` and just past it, at every scale: the fast
        /// path decides all of them, with the same value or the same refusal.
        #[test]
        fn long_values_at_the_limit(
            raw in prop_oneof![
                Just(i64::MAX),
                Just(i64::MAX - 1),
                (i64::MAX / 10)..=i64::MAX,
                10_000_000_000_000_000i64..1_000_000_000_000_000_000,
            ],
            bump in 0u64..3,
            places in 0u8..=18,
        ) {
            let scale = s(places);
            // The value itself, then one to two units above it (possibly past i64::MAX).
            let v = raw.unsigned_abs() + bump;
            let digits = v.to_string();
            let p = usize::from(places).min(digits.len());
            let (int, frac) = digits.split_at(digits.len() - p);
            let text = format!("{}.{}\"", if int.is_empty() { "0" } else { int }, frac);
            // Every value here keeps at most 19 digits, so the fast path decides every one.
            let slow = slow_decimal(text.as_bytes(), 0, scale);
            prop_assert_eq!(dec(text.as_bytes(), scale), slow, "{}", text);
        }
    }
}
