//! Word-at-a-time (SWAR) scanning for the parser: where the SOHs are in a block of 64 bytes,
//! and a field's tag read out of one little-endian word, without a loop per byte.
//!
//! A byte loop carries a dependency from each field's end to the next field's start and
//! mispredicts at every field end; one SOH mask per 64 bytes is branch-free to build and
//! hands the field ends out with `trailing_zeros`.

use super::num::{eight_digits, right_align};

/// Bytes per [`soh_mask`] block.
pub const BLOCK: usize = 64;

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// The high bit of every byte of `x` that is zero, exactly (no false positives).
#[inline(always)]
pub fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// Bit `i` set where byte `i` of `word` (little-endian) is `b`.
#[inline(always)]
pub fn byte_mask(word: u64, b: u8) -> u64 {
    let hits = zero_bytes(word ^ (ONES * u64::from(b))) >> 7;
    // Gathers bit 8i into bit 56+i; the partial products never overlap, so nothing carries.
    hits.wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Bit `i` set where `block[i]` is SOH.
///
/// The compare is a plain loop over the block, which the compiler turns into 16-byte vector
/// compares; each 8 bytes of 0/1 are then gathered into 8 bits by one multiply.
#[inline(always)]
pub fn soh_mask(block: &[u8; BLOCK]) -> u64 {
    let mut is_soh = [0u8; BLOCK];
    for (e, &b) in is_soh.iter_mut().zip(block) {
        *e = u8::from(b == super::encode::SOH);
    }
    // From the last eight bytes to the first, each eight shifting the others up: no masks.
    let mut m = 0;
    for w in is_soh.chunks_exact(8).rev() {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        // Gathers bit 8i into bit 56+i; the partial products never overlap, so nothing carries.
        m = m << 8 | u64::from_le_bytes(word).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    }
    m
}

/// [`soh_mask`] of `bytes[base..]`, at most [`BLOCK`] bytes of it (bits past the end clear).
#[inline(always)]
pub fn soh_mask_at(bytes: &[u8], base: usize) -> u64 {
    let n = bytes.len();
    if let Some(block) = bytes.get(base..base + BLOCK) {
        soh_mask(block.try_into().unwrap_or(&[0; BLOCK]))
    } else if let Some(last) = n.checked_sub(8).filter(|&last| last <= base && base < n) {
        // At most a word left (a message's CheckSum field, or its SOH alone): the last word
        // of the buffer, shifted past what was already seen.
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[last..]);
        byte_mask(u64::from_le_bytes(word), super::encode::SOH) >> (base - last)
    } else {
        soh_mask_tail(bytes, base)
    }
}

/// [`soh_mask_at`] where less than a block is left: once a message, out of line so that
/// the loop over blocks keeps nothing for it.
#[inline(never)]
fn soh_mask_tail(bytes: &[u8], base: usize) -> u64 {
    let n = bytes.len();
    let rest = n.saturating_sub(base);
    if rest == 0 {
        0
    } else if rest <= 24 && n >= 24 {
        // A few bytes (often the CheckSum field's SOH alone): the words that cover them,
        // counted back from the end, then shifted past what was already seen.
        let words = rest.div_ceil(8);
        let from = n - 8 * words;
        let mut m = 0;
        for (k, w) in bytes[from..].chunks_exact(8).enumerate() {
            let mut word = [0u8; 8];
            word.copy_from_slice(w);
            m |= byte_mask(u64::from_le_bytes(word), super::encode::SOH) << (8 * k);
        }
        m >> (base - from)
    } else if n >= BLOCK {
        // The last whole block of the buffer, shifted past what was already seen.
        let last = &bytes[n - BLOCK..];
        soh_mask(last.try_into().unwrap_or(&[0; BLOCK])) >> (BLOCK - rest)
    } else {
        soh_mask_short(bytes, base)
    }
}

#[cold]
#[inline(never)]
fn soh_mask_short(bytes: &[u8], base: usize) -> u64 {
    let mut block = [0u8; BLOCK];
    let rest = bytes.get(base..).unwrap_or_default();
    let n = rest.len().min(BLOCK);
    block[..n].copy_from_slice(&rest[..n]);
    soh_mask(&block)
}

/// The eight bytes at `bytes[i..]` as a little-endian word, zeros past the end.
#[inline(always)]
pub fn word_at(bytes: &[u8], i: usize) -> u64 {
    let n = bytes.len();
    if let Some(w) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        u64::from_le_bytes(*w)
    } else if let Some(w) = n
        .checked_sub(8)
        .filter(|&last| i < n && i >= last)
        .and_then(|last| bytes[last..].first_chunk::<8>())
    {
        // The last word of the buffer, moved down: zeros come in past the end.
        u64::from_le_bytes(*w) >> (8 * (i + 8 - n))
    } else {
        word_at_short(bytes, i)
    }
}

#[cold]
#[inline(never)]
fn word_at_short(bytes: &[u8], i: usize) -> u64 {
    let mut word = [0u8; 8];
    let rest = bytes.get(i..).unwrap_or_default();
    let n = rest.len().min(8);
    word[..n].copy_from_slice(&rest[..n]);
    u64::from_le_bytes(word)
}

/// A tag's digits and its `=` as the word [`word_at`] reads at its field's start, cut after
/// the `=` (`b"35="` is `0x3d3533`): what [`TagTable`] is keyed on. With the `=` in it, no
/// two different tag texts give the same key.
pub const fn tag_key(n: u32) -> u64 {
    let mut digits = [0u8; 10];
    let (mut k, mut v) = (0, n);
    loop {
        digits[k] = b'0' + (v % 10) as u8;
        v /= 10;
        k += 1;
        if v == 0 {
            break;
        }
    }
    let (mut key, mut i) = (0u64, 0);
    while i < k {
        key |= (digits[k - 1 - i] as u64) << (8 * i);
        i += 1;
    }
    key | (b'=' as u64) << (8 * k)
}

/// An empty [`TagTable`] entry: the key `=` alone (a field with no tag), with the table's
/// `empty` data.
const EMPTY_KEY: u32 = b'=' as u32;

/// Bits of a [`TagTable`] index.
const TABLE_BITS: u32 = 8;

/// A perfect hash from a tag's bytes ([`tag_key`], 1 to 3 digits and `=`, one 32-bit word)
/// to a byte of data (the parser's slot for it) and where the field's value starts, built at
/// compile time: a field whose tag is in the table is identified by one multiply, one load
/// and one compare, with no digit-by-digit read.
///
/// Everything is 32-bit so that the constants are instruction immediates: the parser's loop
/// keeps its registers for itself.
#[derive(Debug)]
pub struct TagTable {
    /// Each entry's key; `=` alone where empty.
    keys: [u32; 1 << TABLE_BITS],
    /// Each entry's data.
    data: [u8; 1 << TABLE_BITS],
    /// Each entry's key length: where the value starts, counted from the field's start.
    lens: [u8; 1 << TABLE_BITS],
    mul: u32,
}

impl TagTable {
    /// A table of `(tag, data)`; the multiplier is searched for at compile time until no two
    /// tags share an entry; the key `=` alone finds `empty`. Panics (a compile error in a
    /// `const`) if none is found or a tag has more than 3 digits.
    pub const fn build(tags: &[(u32, u8)], empty: u8) -> TagTable {
        let mut seed = 1u32;
        while seed < 100_000 {
            let mul = seed.wrapping_mul(0x9e37_79b9) | 1;
            let mut keys = [EMPTY_KEY; 1 << TABLE_BITS];
            let mut data = [empty; 1 << TABLE_BITS];
            let mut lens = [1; 1 << TABLE_BITS];
            let mut ok = true;
            let mut k = 0;
            while k < tags.len() {
                let key = tag_key(tags[k].0);
                assert!(key >> 32 == 0, "a tag of more than 3 digits");
                let key = key as u32;
                let h = Self::index(mul, key);
                if keys[h] != EMPTY_KEY {
                    ok = false;
                    break;
                }
                keys[h] = key;
                data[h] = tags[k].1;
                lens[h] = (32 - key.leading_zeros()).div_ceil(8) as u8;
                k += 1;
            }
            if ok {
                return TagTable { keys, data, lens, mul };
            }
            seed += 1;
        }
        panic!("no perfect hash for the tag table");
    }

    #[inline(always)]
    const fn index(mul: u32, key: u32) -> usize {
        (key.wrapping_mul(mul) >> (32 - TABLE_BITS)) as usize
    }

    /// The data of the tag whose [`tag_key`] is `key` (as [`key32`] cuts it), with where the
    /// field's value starts (the key's length), if it is in the table; the `empty` data for
    /// the key `=` alone.
    #[inline(always)]
    pub fn find(&self, key: u32) -> Option<(u8, u8)> {
        let h = Self::index(self.mul, key);
        if self.keys[h] == key {
            Some((self.data[h], self.lens[h]))
        } else {
            None
        }
    }
}

/// A field's tag and its `=` from the first eight bytes of the field (`word`, little-endian):
/// its first four bytes cut after the first `=` in them, what a [`TagTable`] is keyed on. A
/// tag of 4 or more digits keeps no `=` and matches no key.
///
/// The `=` is found with one subtraction: a `=` byte borrows and is flagged, and nothing
/// borrows before the first one. A byte with bit 7 set before it may be flagged too; the key
/// then ends with that byte, holds no `=` and matches nothing. A key that matches is
/// therefore exactly the field's tag digits and its `=`, and a field that starts with a tag
/// in the table is always cut after its `=`. The constants fit in instruction immediates.
#[inline(always)]
pub fn key32(word: u64) -> u32 {
    let w = word as u32;
    let flags = (w ^ 0x3d3d_3d3d).wrapping_sub(0x0101_0101) & 0x8080_8080;
    // Every byte up to the lowest flag.
    w & (flags ^ flags.wrapping_sub(1))
}

/// The tag of the field `f` (its bytes up to, not including, its SOH), whose first eight
/// bytes are `word`: `Some((tag, offset of the '='))` for 1 to 9 digits before an `=`,
/// `None` for anything else.
#[inline(always)]
pub fn tag(word: u64, f: &[u8]) -> Option<(u32, usize)> {
    let q = (byte_mask(word, b'=').trailing_zeros()) as usize;
    if q != 0 && q < f.len().min(8) {
        // 1 to 7 digits: the tag is the word's first q bytes.
        let v = eight_digits(right_align(word, q))?;
        return Some((v as u32, q));
    }
    tag_slow(f)
}

/// [`tag`] one byte at a time: the eight- and nine-digit tags and every malformed one.
#[cold]
#[inline(never)]
pub fn tag_slow(f: &[u8]) -> Option<(u32, usize)> {
    let mut tag: u32 = 0;
    let mut i = 0;
    while let Some(&b) = f.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 || i >= 9 {
            break;
        }
        tag = tag * 10 + u32::from(d);
        i += 1;
    }
    if i == 0 || f.get(i) != Some(&b'=') {
        return None;
    }
    Some((tag, i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn soh_mask_matches_a_byte_loop(block in proptest::array::uniform32(prop_oneof![Just(1u8), Just(0u8), Just(0x81u8), any::<u8>()]), more in proptest::array::uniform32(any::<u8>())) {
            let mut b = [0u8; BLOCK];
            b[..32].copy_from_slice(&block);
            b[32..].copy_from_slice(&more);
            b[40] = 1;
            let want = b.iter().enumerate().fold(0u64, |m, (i, &x)| m | (u64::from(x == 1) << i));
            prop_assert_eq!(soh_mask(&b), want);
            // Any window of a longer buffer, whole, cut by its end, or short.
            let mut long = b.to_vec();
            long.extend_from_slice(&more);
            for base in 0..long.len() {
                for end in [base + 1, base + 30, long.len()] {
                    let buf = &long[..end.min(long.len())];
                    let want = buf[base..].iter().take(BLOCK).enumerate().fold(0u64, |m, (i, &x)| m | (u64::from(x == 1) << i));
                    prop_assert_eq!(soh_mask_at(buf, base), want, "base {} end {}", base, end);
                }
            }
        }

        #[test]
        fn tag_matches_the_byte_loop(f in "[0-9]{0,11}(=[ -~]{0,10})?|[0-9=a\u{1}]{0,12}") {
            let f = f.as_bytes();
            prop_assert_eq!(tag(word_at(f, 0), f), tag_slow(f), "{:?}", f);
        }
    }

    #[test]
    fn tags() {
        let t = |s: &[u8]| tag(word_at(s, 0), s);
        assert_eq!(t(b"35=D"), Some((35, 2)));
        assert_eq!(t(b"035=D"), Some((35, 3)));
        assert_eq!(t(b"1234567=x"), Some((1_234_567, 7)));
        assert_eq!(t(b"12345678=x"), Some((12_345_678, 8)));
        assert_eq!(t(b"123456789=x"), Some((123_456_789, 9)));
        assert_eq!(t(b"1234567890=x"), None);
        assert_eq!(t(b"=x"), None);
        assert_eq!(t(b"3a=x"), None);
        assert_eq!(t(b"35"), None);
        assert_eq!(t(b""), None);
        // The '=' past the field's end does not count.
        assert_eq!(tag(word_at(b"35\x01=", 0), b"35"), None);
        assert_eq!(word_at(b"ab", 0), u64::from_le_bytes(*b"ab\0\0\0\0\0\0"));
        assert_eq!(word_at(b"ab", 5), 0);
        let text = b"0123456789abcdef";
        for i in 0..=text.len() + 2 {
            let mut want = [0u8; 8];
            for (k, w) in want.iter_mut().enumerate() {
                *w = text.get(i + k).copied().unwrap_or(0);
            }
            assert_eq!(word_at(text, i), u64::from_le_bytes(want), "at {i}");
        }
    }

    #[test]
    fn tag_table_finds_exactly_its_tags() {
        const T: TagTable = TagTable::build(&[(8, 0), (35, 1), (150, 2), (9, 3), (999, 4)], 255);
        assert_eq!(tag_key(35), 0x3d_3533);
        assert_eq!(tag_key(0), 0x3d30);
        // A tag's key, where it fits the table's 32 bits (tags of up to 3 digits).
        let get = |key: u64| u32::try_from(key).ok().and_then(|k| T.find(k));
        for (tag, data) in [(8, 0), (35, 1), (150, 2), (9, 3), (999, 4)] {
            let len = tag.to_string().len() as u8 + 1;
            assert_eq!(get(tag_key(tag)), Some((data, len)), "{tag}");
        }
        assert_eq!(T.find(u32::from(b'=')), Some((255, 1)));
        for tag in (0..1_000_000).filter(|t| ![8, 35, 150, 9, 999].contains(t)) {
            assert_eq!(get(tag_key(tag)), None, "{tag}");
        }
        assert_eq!(T.find(0), None);
        assert_eq!(T.find(u32::MAX), None);
        // The parser's key, cut from a field's first four bytes.
        let found = |t: &[u8]| T.find(key32(word_at(t, 0))).map(|(d, _)| d);
        for (text, want) in [
            (&b"=35"[..], Some(255)),
            (b"35\x01=", None),
            (b"35", None),
            (b"1234567=", None),
            (b"12345678", None),
            (b"35=x", Some(1)),
            (b"35\0=x", None),
            (b"\x0035=x", None),
            (b"035=x", None),
            (b"999=1", Some(4)),
            (b"9999=1", None),
            (b"9=", Some(3)),
            (b"8=FIX.4.4", Some(0)),
            (b"150=F", Some(2)),
            (b"=", Some(255)),
            (b"", None),
        ] {
            assert_eq!(found(text), want, "{text:?}");
        }
        // Every four bytes from digits, '=', and bytes with bit 7 set (0xbd is '=' | 0x80):
        // a key is found exactly when the field starts with a table tag and its '='.
        let alphabet =
            [b'0', b'1', b'3', b'5', b'8', b'9', b'=', b'x', 0x01, 0x80, 0xbd, 0xbc, 0xff];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    for d in alphabet {
                        let f = [a, b, c, d, b'z', 0, 0, 0];
                        // The bytes up to the first '=' in the four, if they are a tag's
                        // text exactly (no leading zero).
                        let want = match f[..4].iter().position(|&x| x == b'=') {
                            Some(0) => Some(255),
                            Some(q) if f[..q].iter().all(u8::is_ascii_digit) => {
                                let t = std::str::from_utf8(&f[..q]).unwrap().parse().unwrap();
                                let mut text = [0u8; 8];
                                text[..=q].copy_from_slice(&f[..=q]);
                                if tag_key(t) == u64::from_le_bytes(text) {
                                    get(tag_key(t)).map(|(d, _)| d)
                                } else {
                                    None
                                }
                            }
                            _ => None,
                        };
                        let got = T.find(key32(u64::from_le_bytes(f))).map(|(d, _)| d);
                        assert_eq!(got, want, "{f:?}");
                    }
                }
            }
        }
    }
}
