//! The fast path's strict byte cursor.
//!
//! It reads exactly the compact shape a venue sends and nothing else. Anything unexpected
//! (whitespace, another field order, an escape in a string, an unknown field) is a
//! [`Miss::Fallback`]: the caller retries the frame on the `simd-json` path, which accepts any
//! valid JSON. Only problems that are certain whatever the shape — a negative or overflowing
//! number, a price with too many decimals, an unknown symbol — are a [`Miss::Bad`]. Because
//! every string the cursor accepts is either compared byte for byte or parsed as a number,
//! a frame the fast path accepts is always valid JSON.

use tickline_engine::types::Scale;

use super::{number, swar};
use crate::decode_error::DecodeError;

/// Why the fast path stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Miss {
    /// Not the expected shape: decode the frame on the fallback path.
    Fallback,
    /// Definitely bad input.
    Bad(DecodeError),
}

impl From<DecodeError> for Miss {
    #[inline]
    fn from(e: DecodeError) -> Miss {
        Miss::Bad(e)
    }
}

/// A position in a frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    pub(crate) fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf, pos: 0 }
    }

    /// The bytes not yet read.
    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Whether the unread bytes start with `lit`.
    #[inline]
    pub(crate) fn peek(&self, lit: &[u8]) -> bool {
        self.rest().starts_with(lit)
    }

    /// Consumes exactly `lit`.
    #[inline]
    pub(crate) fn lit(&mut self, lit: &[u8]) -> Result<(), Miss> {
        if self.peek(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(Miss::Fallback)
        }
    }

    /// Consumes a plain-ASCII string without escapes and returns its contents. Anything else
    /// (escapes, control bytes, non-ASCII that might not be valid UTF-8) is left to the
    /// fallback, which validates it.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<&'a [u8], Miss> {
        self.lit(b"\"")?;
        // A word at a time to the first byte that ends or complicates the string; past the
        // end of the frame `load` reads zeros, which stop the scan.
        let start = self.pos;
        let mut at = start;
        let end = loop {
            let stops = swar::string_stops(swar::load(self.buf, at));
            if stops != 0 {
                break at + swar::leading(stops);
            }
            at += swar::WORD;
        };
        match (self.buf.get(end), self.buf.get(start..end)) {
            (Some(b'"'), Some(text)) => {
                self.pos = end + 1;
                Ok(text)
            }
            _ => Err(Miss::Fallback),
        }
    }

    /// Consumes a string equal to the first `len` bytes of `key` ignoring ASCII case, a word at
    /// a time; `key` is zero-padded past `len`. On any difference, or anything [`Cursor::string`]
    /// would not take as plain, it consumes nothing and returns false, and the caller reads
    /// the string the general way.
    #[inline]
    pub(crate) fn string_eq_ignore_case<const N: usize>(
        &mut self,
        key: &[u8; N],
        len: usize,
    ) -> bool {
        let start = self.pos + 1;
        if len > N
            || self.buf.get(self.pos) != Some(&b'"')
            || self.buf.get(start + len) != Some(&b'"')
        {
            return false;
        }
        let mut i = 0;
        while i < len {
            let w = swar::load(self.buf, start + i);
            let k = swar::load(key, i);
            let mask = swar::below((len - i).min(swar::WORD));
            if (swar::string_stops(w) | (swar::to_lower(w) ^ swar::to_lower(k))) & mask != 0 {
                return false;
            }
            i += swar::WORD;
        }
        self.pos = start + len + 1;
        true
    }

    /// Reads the start of a string up to the first `stop` byte: with the cursor on the
    /// opening quote, returns the bytes between it and `stop` and leaves the cursor on `stop`.
    /// `None`, consuming nothing, when the string ends or holds a byte [`Cursor::string`] would
    /// not take as plain before any `stop`.
    #[inline]
    pub(crate) fn string_until(&mut self, stop: u8) -> Option<&'a [u8]> {
        if self.buf.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut at = start;
        let end = loop {
            let w = swar::load(self.buf, at);
            let flags = swar::eq_byte(w, stop) | swar::string_stops(w);
            if flags != 0 {
                break at + swar::leading(flags);
            }
            at += swar::WORD;
        };
        if self.buf.get(end) != Some(&stop) {
            return None;
        }
        let text = self.buf.get(start..end)?;
        self.pos = end;
        Some(text)
    }

    /// Consumes a JSON integer that must be a `u64`.
    #[inline]
    pub(crate) fn uint(&mut self) -> Result<u64, Miss> {
        match number::scan_uint(self.buf, self.pos) {
            Some((v, end)) => {
                self.pos = end;
                Ok(v)
            }
            None => self.uint_slow(),
        }
    }

    /// [`Cursor::uint`] byte by byte: every integer the word scan declines, and the errors.
    #[cold]
    #[inline(never)]
    fn uint_slow(&mut self) -> Result<u64, Miss> {
        let rest = self.rest();
        match rest.first() {
            Some(b'0'..=b'9') => {}
            Some(b'-') if rest.get(1).is_some_and(u8::is_ascii_digit) => {
                return Err(Miss::Bad(DecodeError::Negative))
            }
            _ => return Err(Miss::Fallback),
        }
        let mut v: u64 = 0;
        let mut n = 0;
        for &c in rest {
            if !c.is_ascii_digit() {
                break;
            }
            v = v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .ok_or(Miss::Bad(DecodeError::Overflow))?;
            n += 1;
        }
        if n > 1 && rest[0] == b'0' {
            return Err(Miss::Fallback);
        }
        if matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return Err(Miss::Fallback);
        }
        self.pos += n;
        Ok(v)
    }

    /// Consumes `true` or `false`.
    #[inline]
    pub(crate) fn boolean(&mut self) -> Result<bool, Miss> {
        if self.peek(b"true") {
            self.pos += 4;
            Ok(true)
        } else if self.peek(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            Err(Miss::Fallback)
        }
    }

    /// Consumes the rest of a decimal string, the opening quote already read (as the end of
    /// the literal before it), and parses it at `scale`.
    ///
    /// The common shape (`digits[.digits]`, at most 19 digits kept) is read a word at a time
    /// in one pass that also finds the closing quote; everything else goes through
    /// [`Cursor::decimal_slow`], which names the error.
    #[inline]
    pub(crate) fn decimal_body(&mut self, scale: Scale) -> Result<i64, Miss> {
        match number::scan_decimal(self.buf, self.pos, scale) {
            Some((v, end)) => {
                self.pos = end + 1;
                Ok(v)
            }
            None => self.decimal_slow(scale),
        }
    }

    /// [`Cursor::decimal_body`] byte by byte: every string the word scan declines, and the errors.
    ///
    /// One scan to the closing quote, then the number parser, which accepts only digits, a
    /// sign and a point — so a string it accepts cannot hold an escape. When it refuses one
    /// that holds an escape or non-ASCII bytes, the fallback decides what the string meant.
    #[cold]
    #[inline(never)]
    fn decimal_slow(&mut self, scale: Scale) -> Result<i64, Miss> {
        let rest = self.rest();
        let end = rest.iter().position(|&c| c == b'"').ok_or(Miss::Fallback)?;
        let text = &rest[..end];
        match super::parse_decimal(text, scale) {
            Ok(v) => {
                self.pos += end + 1;
                Ok(v)
            }
            Err(_) if text.iter().any(|&c| c == b'\\' || !(0x20..0x80).contains(&c)) => {
                Err(Miss::Fallback)
            }
            Err(e) => Err(Miss::Bad(e)),
        }
    }

    /// Succeeds when only JSON whitespace is left.
    #[inline]
    pub(crate) fn end(&mut self) -> Result<(), Miss> {
        if self.rest().iter().all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            self.pos = self.buf.len();
            Ok(())
        } else {
            Err(Miss::Fallback)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(Cursor::new(b"123,").uint(), Ok(123));
        assert_eq!(Cursor::new(b"0}").uint(), Ok(0));
        assert_eq!(Cursor::new(b"012").uint(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"1.5").uint(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"1e5").uint(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"1\"").uint(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"-1").uint(), Err(Miss::Bad(DecodeError::Negative)));
        assert_eq!(Cursor::new(b"-").uint(), Err(Miss::Fallback));
        assert_eq!(
            Cursor::new(b"18446744073709551616").uint(),
            Err(Miss::Bad(DecodeError::Overflow))
        );
        assert_eq!(Cursor::new(b"18446744073709551615").uint(), Ok(u64::MAX));
        assert_eq!(Cursor::new(b"").uint(), Err(Miss::Fallback));
    }

    #[test]
    fn strings_and_literals() {
        let mut c = Cursor::new(br#""abc","d\"e""#);
        assert_eq!(c.string(), Ok(&b"abc"[..]));
        c.lit(b",").unwrap();
        assert_eq!(c.string(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"abc").string(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"a\nb\"").string(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"a\xc3\xa9\"").string(), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"true,").boolean(), Ok(true));
        assert_eq!(Cursor::new(b"fals").boolean(), Err(Miss::Fallback));
        assert!(Cursor::new(b" \r\n").end().is_ok());
        assert!(Cursor::new(b" x").end().is_err());
    }

    /// `decimal_body` on a string's body (the cursor past the opening quote).
    fn decimal(body: &[u8], places: u8) -> (Result<i64, Miss>, usize) {
        let mut c = Cursor::new(body);
        let r = c.decimal_body(Scale::new(places).unwrap());
        (r, c.pos)
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal(b"1.50\",", 2), (Ok(150), 5));
        assert_eq!(decimal(b"61837.63000000\"}}", 2), (Ok(6_183_763), 15));
        // Declined by the word scan, decided byte by byte; the cursor only moves on success.
        assert_eq!(decimal(b"+1.50\"", 2), (Ok(150), 6));
        assert_eq!(decimal(b"1.5x\"", 2), (Err(Miss::Bad(DecodeError::BadNumber)), 0));
        assert_eq!(decimal(b"1.505\"", 2), (Err(Miss::Bad(DecodeError::TooPrecise)), 0));
        assert_eq!(decimal(b"-1.5\"", 2), (Err(Miss::Bad(DecodeError::Negative)), 0));
        assert_eq!(
            decimal(b"99999999999999999999\"", 0),
            (Err(Miss::Bad(DecodeError::Overflow)), 0)
        );
        assert_eq!(decimal(b"\\u0031\"", 2), (Err(Miss::Fallback), 0));
        assert_eq!(decimal(b"1\xff\"", 2), (Err(Miss::Fallback), 0));
        assert_eq!(decimal(b"1.5", 2), (Err(Miss::Fallback), 0));
    }

    #[test]
    fn strings_compared_a_word_at_a_time() {
        let eq = |key: &[u8], frame: &[u8]| {
            let mut padded = [0u8; 32];
            padded[..key.len()].copy_from_slice(key);
            let mut c = Cursor::new(frame);
            let hit = c.string_eq_ignore_case(&padded, key.len());
            (hit, c.pos)
        };
        assert_eq!(eq(b"btcusdt", br#""BTCUSDT","#), (true, 9));
        assert_eq!(eq(b"btcusdt", br#""btcUsdt""#), (true, 9));
        assert_eq!(eq(b"btcusdt", br#""BTCUSDC""#), (false, 0));
        assert_eq!(eq(b"btcusdt", br#""BTCUSD""#), (false, 0));
        assert_eq!(eq(b"btcusdt", br#""BTCUSDTX""#), (false, 0));
        assert_eq!(eq(b"btcusdt", br#"BTCUSDT""#), (false, 0));
        assert_eq!(eq(b"btcusdt", br#""BTCUSDT"#), (false, 0));
        // Case folds letters only: '@' (0x40) is not '`' (0x60).
        assert_eq!(eq(b"btc`sdt", br#""BTC@SDT""#), (false, 0));
        // Bytes a plain string may not hold never match, even where the key has them.
        assert_eq!(eq(b"btc\\sdt", br#""btc\sdt""#), (false, 0));
        // Longer than a word.
        let mut long = [0u8; 32];
        long[..20].copy_from_slice(b"1000shibusdt-perp-xy");
        let mut c = Cursor::new(br#""1000SHIBUSDT-PERP-XY"}"#);
        assert!(c.string_eq_ignore_case(&long, 20));
        assert_eq!(c.pos, 22);
        let mut c = Cursor::new(br#""1000SHIBUSDT-PERP-XZ"}"#);
        assert!(!c.string_eq_ignore_case(&long, 20));
        assert!(!Cursor::new(b"\"ab\"").string_eq_ignore_case(&long, 40));

        let mut c = Cursor::new(br#""btcusdt@bookTicker","#);
        assert_eq!(c.string_until(b'@'), Some(&b"btcusdt"[..]));
        assert!(c.peek(b"@bookTicker"));
        let mut c = Cursor::new(br#""averyveryverylongsymbol@trade""#);
        assert_eq!(c.string_until(b'@'), Some(&b"averyveryverylongsymbol"[..]));
        for frame in
            [&br#""btcusdt","#[..], br#""btc\u0040x@trade""#, br#"btcusdt@"#, br#""btcusdt"#]
        {
            let mut c = Cursor::new(frame);
            assert_eq!(c.string_until(b'@'), None, "{}", String::from_utf8_lossy(frame));
            assert_eq!(c.pos, 0);
        }
    }
}
