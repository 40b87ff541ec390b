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
        let rest = self.rest();
        for (i, &c) in rest.iter().enumerate() {
            if c == b'"' {
                self.pos += i + 1;
                return Ok(&rest[..i]);
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return Err(Miss::Fallback);
            }
        }
        Err(Miss::Fallback)
    }

    /// Consumes a JSON integer that must be a `u64`.
    #[inline]
    pub(crate) fn uint(&mut self) -> Result<u64, Miss> {
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

    /// Consumes a decimal string and parses it at `scale`.
    ///
    /// One scan to the closing quote, then the number parser, which accepts only digits, a
    /// sign and a point — so a string it accepts cannot hold an escape. When it refuses one
    /// that holds an escape or non-ASCII bytes, the fallback decides what the string meant.
    #[inline]
    pub(crate) fn decimal(&mut self, scale: Scale) -> Result<i64, Miss> {
        self.lit(b"\"")?;
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
        let two = Scale::new(2).unwrap();
        assert_eq!(Cursor::new(b"\"1.50\"").decimal(two), Ok(150));
        assert_eq!(Cursor::new(b"\"1.5x\"").decimal(two), Err(Miss::Bad(DecodeError::BadNumber)));
        assert_eq!(Cursor::new(b"\"1.505\"").decimal(two), Err(Miss::Bad(DecodeError::TooPrecise)));
        assert_eq!(Cursor::new(b"\"\\u0031\"").decimal(two), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"1\xff\"").decimal(two), Err(Miss::Fallback));
        assert_eq!(Cursor::new(b"\"1.5").decimal(two), Err(Miss::Fallback));
        assert!(Cursor::new(b" x").end().is_err());
    }
}
