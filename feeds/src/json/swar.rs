//! Eight bytes at a time: the word primitives behind the cursor's number and string scans.
//!
//! A word is eight consecutive input bytes loaded little-endian into a `u64`, so the first
//! byte is the lowest. Every class mask here is exact per byte: the high bit of a mask byte is
//! computed from that input byte alone, never from a carry out of a neighbour (additions work
//! on the low seven bits of each byte, which cannot carry out of it). A mask can therefore be
//! read at any byte, not only at its first flagged one.

/// Bytes in a word.
pub(crate) const WORD: usize = 8;

const ONES: u64 = u64::MAX / 0xff;
const HIGH: u64 = ONES * 0x80;
const LOW7: u64 = ONES * 0x7f;

/// Eight ASCII `'0'`s. `word ^ ZEROS` turns digit bytes into their values 0..=9.
pub(crate) const ZEROS: u64 = ONES * 0x30;

/// The eight bytes of `buf` from `at`; bytes past its end read as 0x00, which no class here
/// matches, so a scan stops at the end of the input.
///
/// Near the end of `buf` this loads the last eight bytes and shifts the ones before `at`
/// out, so only a buffer shorter than a word needs a copy.
#[inline(always)]
pub(crate) fn load(buf: &[u8], at: usize) -> u64 {
    if let Some(chunk) = buf.get(at..).and_then(<[u8]>::first_chunk::<WORD>) {
        return u64::from_le_bytes(*chunk);
    }
    match buf.len().checked_sub(WORD).and_then(|start| buf.get(start..)?.first_chunk::<WORD>()) {
        // `at` is past the start of the last word here; shift out the bytes before it.
        Some(last) => {
            let skip = at.saturating_sub(buf.len() - WORD).min(WORD);
            u64::from_le_bytes(*last).checked_shr(8 * skip as u32).unwrap_or(0)
        }
        None => load_short(buf.get(at..).unwrap_or(&[])),
    }
}

/// A zero-padded load for a buffer shorter than a word.
#[cold]
#[inline(never)]
fn load_short(tail: &[u8]) -> u64 {
    let mut bytes = [0u8; WORD];
    let n = tail.len().min(WORD);
    bytes[..n].copy_from_slice(&tail[..n]);
    u64::from_le_bytes(bytes)
}

/// High bit set in each byte that is not an ASCII digit.
#[inline(always)]
pub(crate) fn non_digits(w: u64) -> u64 {
    let low = w & LOW7;
    // The high bit of `low + (0x80 - c)` is set exactly when the byte's low seven bits are
    // at least `c`; bytes at or above 0x80 (the `| w`) are never digits.
    let at_least_zero = low + ONES * (0x80 - u64::from(b'0'));
    let above_nine = low + ONES * (0x80 - u64::from(b'9') - 1);
    (!at_least_zero | above_nine | w) & HIGH
}

/// High bit set in each byte equal to `c`.
#[inline(always)]
pub(crate) fn eq_byte(w: u64, c: u8) -> u64 {
    let x = w ^ (ONES * u64::from(c));
    // A byte of `x` is zero exactly when neither its low seven bits plus 0x7f nor the byte
    // itself reach the high bit.
    !(((x & LOW7) + LOW7) | x) & HIGH
}

/// High bit set in each byte that may not appear raw inside a JSON string the fast path
/// reads: the quote, the backslash, control bytes and anything outside ASCII.
#[inline(always)]
pub(crate) fn string_stops(w: u64) -> u64 {
    let at_least_space = (w & LOW7) + ONES * (0x80 - u64::from(b' '));
    (eq_byte(w, b'"') | eq_byte(w, b'\\') | !at_least_space | w) & HIGH
}

/// `w` with its ASCII capitals in lower case, as `u8::to_ascii_lowercase` does byte by byte.
#[inline(always)]
pub(crate) fn to_lower(w: u64) -> u64 {
    let low = w & LOW7;
    let at_least_a = low + ONES * (0x80 - u64::from(b'A'));
    let above_z = low + ONES * (0x80 - u64::from(b'Z') - 1);
    let capitals = at_least_a & !above_z & !w & HIGH;
    // 0x80 >> 2 is 0x20, the case bit.
    w | (capitals >> 2)
}

/// Bytes before the first one flagged in `mask` (8 when none is).
#[inline(always)]
pub(crate) fn leading(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The low `n` bytes set (`n` at most 8).
#[inline(always)]
pub(crate) fn below(n: usize) -> u64 {
    1u64.checked_shl(8 * n as u32).map_or(u64::MAX, |bit| bit - 1)
}

/// The number written by the first `k` bytes of `w` (`k` at most 8), which must be digits.
#[inline(always)]
pub(crate) fn take_digits(w: u64, k: usize) -> u64 {
    // Shifting the wanted bytes to the top leaves zero digits below them: leading zeros.
    match (w ^ ZEROS).checked_shl(8 * (WORD - k) as u32) {
        Some(v) if k > 0 => eight_digits(v),
        _ => 0,
    }
}

/// Eight digit values (0..=9 per byte, the first byte most significant) as a number.
#[inline(always)]
fn eight_digits(v: u64) -> u64 {
    const MASK: u64 = 0x0000_00ff_0000_00ff;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    // Pairs: each byte becomes 10 * itself + the next byte (at most 99, so no carries).
    let v = v * 10 + (v >> 8);
    // Then pairs of pairs and the two halves, in the high 32 bits of the sum.
    let v1 = (v & MASK).wrapping_mul(MUL1);
    let v2 = ((v >> 16) & MASK).wrapping_mul(MUL2);
    u64::from((v1.wrapping_add(v2) >> 32) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn word(bytes: &[u8]) -> u64 {
        load(bytes, 0)
    }

    #[test]
    fn classes_and_digits() {
        assert_eq!(leading(non_digits(word(b"61837.63"))), 5);
        assert_eq!(leading(non_digits(word(b"12345678"))), 8);
        assert_eq!(leading(non_digits(word(b"/:09\x80\xb0"))), 0);
        assert_eq!(leading(eq_byte(word(b"abcde\"f\""), b'"')), 5);
        assert_eq!(leading(string_stops(word(b"btc\\usdt"))), 3);
        assert_eq!(leading(string_stops(word(b"btc\x1fusdt"))), 3);
        assert_eq!(leading(string_stops(word(b"btcusdt@\xc3"))), 8);
        assert_eq!(leading(string_stops(word(b"btcusdt\xc3"))), 7);
        assert_eq!(leading(string_stops(word(b"btc"))), 3);
        assert_eq!(take_digits(word(b"61837.63"), 5), 61_837);
        assert_eq!(take_digits(word(b"99999999"), 8), 99_999_999);
        assert_eq!(take_digits(word(b"00000001"), 8), 1);
        assert_eq!(take_digits(word(b"7"), 1), 7);
        assert_eq!(take_digits(word(b"7"), 0), 0);
        assert_eq!(below(0), 0);
        assert_eq!(below(1), 0xff);
        assert_eq!(below(8), u64::MAX);
    }

    #[test]
    fn loads_stop_at_the_end_of_the_buffer() {
        let buf = b"0123456789abcdefghij";
        assert_eq!(load(buf, 2), u64::from_le_bytes(*b"23456789"));
        assert_eq!(load(buf, 12), u64::from_le_bytes(*b"cdefghij"));
        // Near the end: the last word shifted, zeros after the last byte.
        let mut want = [0u8; WORD];
        want[..3].copy_from_slice(b"hij");
        assert_eq!(load(buf, 17), u64::from_le_bytes(want));
        assert_eq!(load(buf, 20), 0);
        assert_eq!(load(buf, 99), 0);
        // Shorter than a word: copied.
        let mut want = [0u8; WORD];
        want[..2].copy_from_slice(b"bc");
        assert_eq!(load(b"abc", 1), u64::from_le_bytes(want));
        assert_eq!(load(b"", 0), 0);
    }

    proptest! {
        /// Every mask agrees with the byte-by-byte definition at every byte.
        #[test]
        fn masks_are_exact_per_byte(bytes in any::<[u8; WORD]>(), c in any::<u8>()) {
            let w = u64::from_le_bytes(bytes);
            for (i, &b) in bytes.iter().enumerate() {
                let at = |m: u64| m >> (8 * i) & 0x80 != 0;
                prop_assert_eq!(at(non_digits(w)), !b.is_ascii_digit());
                prop_assert_eq!(at(eq_byte(w, c)), b == c);
                prop_assert_eq!(
                    at(string_stops(w)),
                    b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b)
                );
                prop_assert_eq!((to_lower(w) >> (8 * i)) as u8, b.to_ascii_lowercase());
            }
        }

        #[test]
        fn digits_match_the_scalar_value(digits in "[0-9]{1,8}", junk in any::<[u8; WORD]>()) {
            let mut bytes = junk;
            bytes[..digits.len()].copy_from_slice(digits.as_bytes());
            let w = u64::from_le_bytes(bytes);
            for k in 0..=digits.len() {
                let want = digits[..k].parse::<u64>().unwrap_or(0);
                prop_assert_eq!(take_digits(w, k), want);
            }
        }

        /// A load anywhere is the bytes from there, zero-padded.
        #[test]
        fn loads_anywhere(buf in proptest::collection::vec(any::<u8>(), 0..24), at in 0usize..32) {
            let mut want = [0u8; WORD];
            for (i, b) in buf.iter().skip(at).take(WORD).enumerate() {
                want[i] = *b;
            }
            prop_assert_eq!(load(&buf, at), u64::from_le_bytes(want));
        }
    }
}
