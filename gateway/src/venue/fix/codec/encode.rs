//! Encoding FIX 4.4 messages into one preallocated buffer.
//!
//! The body is written first, after a reserved gap; `finish` then writes `8=FIX.4.4|9=len|`
//! right-aligned into the gap (so nothing is moved) and appends the checksum. Nothing
//! allocates after [`Encoder::new`].
//!
//! Short values (numbers, timestamps, symbols, the comp ids) go in as whole 8- and 16-byte
//! stores, which may write scratch past the value: the next field overwrites it, and the
//! buffer keeps [`SLACK`] bytes past the largest message for it.

use tickline_engine::types::{Nanos, OrdType, Side, TimeInForce};

use super::num::{eight_ascii, put_fixed, put_u64};
use super::tags::{ORIG_SENDING_TIME, POSS_DUP_FLAG};
use super::time::{TimestampCache, TIMESTAMP_LEN};

/// The one FIX version this encoder speaks.
pub const BEGIN_STRING: &[u8] = b"FIX.4.4";
/// Field separator.
pub const SOH: u8 = 0x01;

/// Bytes reserved before the body for `8=FIX.4.4|9=NNNNN|`.
const PREFIX_ROOM: usize = 32;
/// Largest message the encoder builds.
pub const MAX_MESSAGE: usize = 4096;
/// Bytes past [`MAX_MESSAGE`] that whole-word stores may scribble on.
const SLACK: usize = 64;
/// Room for a message and the slack.
const BUF_LEN: usize = MAX_MESSAGE + SLACK;
/// The comp ids take one 64-byte store when they fit in it.
const COMP_IDS_ROOM: usize = 64;

/// The sum of bytes modulo 256 (FIX `CheckSum`).
///
/// Added in `u8` lanes with wrap-around, which is the sum modulo 256 already: two 16-byte
/// accumulators the compiler keeps in vector registers (`paddb`), whole 32-byte steps, then
/// the last 16 bytes of the slice once, masked so that the bytes already added count zero,
/// and one horizontal sum. A plain fold ends in a 4-byte and a byte loop for the tail, which
/// took as long as the vector part on a 250-byte message.
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    /// `TAIL[r..r + 16]` keeps the last `r` of 16 bytes.
    const TAIL: [u8; 32] = {
        let mut t = [0u8; 32];
        let mut i = 16;
        while i < 32 {
            t[i] = 0xff;
            i += 1;
        }
        t
    };
    let n = bytes.len();
    if n < 16 {
        return bytes.iter().fold(0u8, |sum, &b| sum.wrapping_add(b));
    }
    let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
    let mut pairs = bytes.chunks_exact(32);
    for p in &mut pairs {
        add_lanes(&mut a, &p[..16]);
        add_lanes(&mut b, &p[16..]);
    }
    let rest = pairs.remainder();
    if rest.len() >= 16 {
        add_lanes(&mut a, &rest[..16]);
    }
    let r = rest.len() % 16;
    for ((s, &x), &m) in b.iter_mut().zip(&bytes[n - 16..]).zip(&TAIL[r..r + 16]) {
        *s = s.wrapping_add(x & m);
    }
    add_lanes(&mut a, &b);
    a.iter().fold(0u8, |sum, &x| sum.wrapping_add(x))
}

/// `acc[i] += bytes[i]`, wrapping, for 16 lanes.
#[inline(always)]
fn add_lanes(acc: &mut [u8; 16], bytes: &[u8]) {
    for (s, &x) in acc.iter_mut().zip(bytes) {
        *s = s.wrapping_add(x);
    }
}

/// A message under construction, then finished.
#[derive(Debug)]
pub struct Encoder {
    buf: Box<[u8; BUF_LEN]>,
    pos: usize,
    /// `49=SENDER|56=TARGET|`, built once, zero-padded to [`COMP_IDS_ROOM`] when it fits.
    comp_ids: Vec<u8>,
    comp_ids_len: usize,
    time: TimestampCache,
    /// The last timestamp written, by millisecond: a message's SendingTime and TransactTime,
    /// and back-to-back messages, format it once; within its second only the milliseconds
    /// change.
    last_ms: i64,
    last_sec: i64,
    last_ts: [u8; TIMESTAMP_LEN],
    overflow: bool,
}

/// The order fields of a NewOrderSingle, OrderCancelRequest or OrderCancelReplaceRequest.
#[derive(Clone, Copy, Debug)]
pub struct OrderFields<'a> {
    /// `ClOrdID` (11): the request's own id.
    pub cl_ord_id: u64,
    /// `OrigClOrdID` (41): the order a cancel or replace refers to.
    pub orig_cl_ord_id: u64,
    /// `Symbol` (55).
    pub symbol: &'a [u8],
    /// `Side` (54).
    pub side: Side,
    /// `OrderQty` (38), raw at `qty_scale`.
    pub qty: i64,
    /// Decimal places of `qty`.
    pub qty_scale: u8,
    /// `Price` (44), raw at `price_scale` (limit orders).
    pub price: i64,
    /// Decimal places of `price`.
    pub price_scale: u8,
    /// `OrdType` (40).
    pub ord_type: OrdType,
    /// `TimeInForce` (59); post-only goes as `ExecInst` (18) = 6.
    pub tif: TimeInForce,
    /// `Account` (1), if the venue wants one.
    pub account: Option<&'a [u8]>,
}

impl Encoder {
    /// An encoder for the session `sender` → `target`.
    pub fn new(sender: &str, target: &str) -> Encoder {
        let mut comp_ids = Vec::with_capacity(sender.len() + target.len() + 8);
        comp_ids.extend_from_slice(b"49=");
        comp_ids.extend_from_slice(sender.as_bytes());
        comp_ids.push(SOH);
        comp_ids.extend_from_slice(b"56=");
        comp_ids.extend_from_slice(target.as_bytes());
        comp_ids.push(SOH);
        let comp_ids_len = comp_ids.len();
        if comp_ids_len <= COMP_IDS_ROOM {
            comp_ids.resize(COMP_IDS_ROOM, 0);
        }
        Encoder {
            buf: Box::new([0; BUF_LEN]),
            pos: PREFIX_ROOM,
            comp_ids,
            comp_ids_len,
            time: TimestampCache::default(),
            last_ms: i64::MIN,
            last_sec: i64::MIN,
            last_ts: [0; TIMESTAMP_LEN],
            overflow: false,
        }
    }

    /// Appends raw bytes (a literal `tag=` prefix, a value); marks the message overflowed
    /// if they do not fit (8 bytes stay free for the trailer).
    #[inline(always)]
    fn put(&mut self, b: &[u8]) {
        let end = self.pos + b.len();
        match self.buf.get_mut(self.pos..end) {
            Some(dst) if end + 8 <= MAX_MESSAGE => {
                dst.copy_from_slice(b);
                self.pos = end;
            }
            _ => self.overflow = true,
        }
    }

    /// [`Encoder::put`] for a short value of any length (a symbol, an account): up to 16
    /// bytes by two overlapping word copies instead of a call to `memcpy`.
    #[inline(always)]
    fn put_short(&mut self, b: &[u8]) {
        let (n, pos) = (b.len(), self.pos);
        if n > 16 || pos + n + 8 > MAX_MESSAGE {
            return self.put(b);
        }
        let dst = &mut self.buf[pos..pos + 16];
        if n >= 8 {
            dst[..8].copy_from_slice(&b[..8]);
            dst[n - 8..n].copy_from_slice(&b[n - 8..]);
        } else if n >= 4 {
            dst[..4].copy_from_slice(&b[..4]);
            dst[n - 4..n].copy_from_slice(&b[n - 4..]);
        } else {
            for (d, &c) in dst.iter_mut().zip(b) {
                *d = c;
            }
        }
        self.pos = pos + n;
    }

    #[inline(always)]
    fn put_u64(&mut self, v: u64) {
        match put_u64(&mut self.buf[..MAX_MESSAGE - 8 + SLACK], self.pos, v) {
            Some(p) if p + 8 <= MAX_MESSAGE => self.pos = p,
            _ => self.overflow = true,
        }
    }

    #[inline(always)]
    fn put_fixed(&mut self, raw: i64, scale: u8) {
        match put_fixed(&mut self.buf[..MAX_MESSAGE - 8 + SLACK], self.pos, raw, scale) {
            Some(p) if p + 8 <= MAX_MESSAGE => self.pos = p,
            _ => self.overflow = true,
        }
    }

    #[inline(always)]
    fn put_time(&mut self, t: Nanos) {
        let ms = t.0.div_euclid(1_000_000);
        if ms != self.last_ms {
            self.set_time(t, ms);
        }
        let ts = self.last_ts;
        self.put(&ts);
    }

    /// Formats a new millisecond: only its last three digits if the second is the same.
    #[inline]
    fn set_time(&mut self, t: Nanos, ms: i64) {
        self.last_ms = ms;
        let sec = ms.div_euclid(1000);
        if sec == self.last_sec {
            let m = ms.rem_euclid(1000) as u32;
            self.last_ts[18] = b'0' + (m / 100) as u8;
            self.last_ts[19] = b'0' + (m / 10 % 10) as u8;
            self.last_ts[20] = b'0' + (m % 10) as u8;
        } else {
            self.last_sec = sec;
            self.time.write(t, &mut self.last_ts);
        }
    }

    #[inline]
    fn tag(&mut self, tag: u32) {
        self.put_u64(u64::from(tag));
        self.put(b"=");
    }

    /// Starts a message: `35`, the comp ids, `34` and `52`.
    #[inline]
    pub fn begin(&mut self, msg_type: &[u8], seq: u64, now: Nanos) {
        self.pos = PREFIX_ROOM;
        self.overflow = false;
        self.put(b"35=");
        self.put_short(msg_type);
        self.put(b"\x01");
        if let Ok(ids) = <&[u8; COMP_IDS_ROOM]>::try_from(&self.comp_ids[..]) {
            // One 64-byte store, the padding past the ids overwritten next.
            self.buf[self.pos..self.pos + COMP_IDS_ROOM].copy_from_slice(ids);
            self.pos += self.comp_ids_len;
        } else {
            // Disjoint borrow of the comp ids and the buffer.
            let end = self.pos + self.comp_ids.len();
            match self.buf.get_mut(self.pos..end) {
                Some(dst) => {
                    dst.copy_from_slice(&self.comp_ids);
                    self.pos = end;
                }
                None => self.overflow = true,
            }
        }
        self.put(b"34=");
        self.put_u64(seq);
        self.put(b"\x0152=");
        self.put_time(now);
        self.put(b"\x01");
    }

    /// Starts a resent message (`PossDupFlag=Y` and `OrigSendingTime`).
    pub fn begin_poss_dup(&mut self, msg_type: &[u8], seq: u64, now: Nanos, orig: Nanos) {
        self.begin(msg_type, seq, now);
        self.ch(POSS_DUP_FLAG, b'Y');
        self.time(ORIG_SENDING_TIME, orig);
    }

    /// An unsigned integer field.
    #[inline]
    pub fn u64(&mut self, tag: u32, v: u64) {
        self.tag(tag);
        self.put_u64(v);
        self.put(b"\x01");
    }

    /// A fixed-point decimal field.
    #[inline]
    pub fn fixed(&mut self, tag: u32, raw: i64, scale: u8) {
        self.tag(tag);
        self.put_fixed(raw, scale);
        self.put(b"\x01");
    }

    /// A text field (the value must not contain SOH).
    #[inline]
    pub fn bytes(&mut self, tag: u32, v: &[u8]) {
        self.tag(tag);
        self.put(v);
        self.put(b"\x01");
    }

    /// A one-character field.
    #[inline]
    pub fn ch(&mut self, tag: u32, c: u8) {
        self.bytes(tag, &[c]);
    }

    /// A `UTCTimestamp` field, millisecond precision.
    #[inline]
    pub fn time(&mut self, tag: u32, t: Nanos) {
        self.tag(tag);
        self.put_time(t);
        self.put(b"\x01");
    }

    /// Writes the header prefix and the checksum; returns the whole message, or `None` if a
    /// field did not fit (nothing should be sent then).
    #[inline]
    pub fn finish(&mut self) -> Option<&[u8]> {
        if self.overflow {
            return None;
        }
        let body_len = self.pos - PREFIX_ROOM;
        // "8=FIX.4.4|9=" + digits + "|", right-aligned against the body: the length as
        // eight zero-padded digits ending at the SOH, then the head over the padding.
        let nd = super::num::digits(body_len as u64);
        let start = PREFIX_ROOM - (HEAD_LEN + nd + 1);
        let b = &mut self.buf;
        b[PREFIX_ROOM - 9..PREFIX_ROOM - 1]
            .copy_from_slice(&eight_ascii(body_len as u64).to_le_bytes());
        b[PREFIX_ROOM - 1] = SOH;
        b[start..start + HEAD_LEN].copy_from_slice(HEAD);
        let sum = checksum(&b[start..self.pos]);
        let e = self.pos;
        let trailer =
            [b'1', b'0', b'=', b'0' + sum / 100, b'0' + sum / 10 % 10, b'0' + sum % 10, SOH, 0];
        b[e..e + 8].copy_from_slice(&trailer);
        Some(&self.buf[start..e + 7])
    }

    /// The fields every order message shares, in dictionary order, with literal tags.
    #[inline]
    fn order_body(&mut self, o: &OrderFields<'_>, now: Nanos, with_price: bool) {
        if let Some(a) = o.account {
            self.put(b"1=");
            self.put_short(a);
            self.put(b"\x01");
        }
        self.put(b"11=");
        self.put_u64(o.cl_ord_id);
        if o.orig_cl_ord_id != 0 {
            self.put(b"\x0141=");
            self.put_u64(o.orig_cl_ord_id);
        }
        if with_price && o.tif == TimeInForce::PostOnly {
            // Participate, don't initiate.
            self.put(b"\x0118=6");
        }
        self.put(b"\x0155=");
        self.put_short(o.symbol);
        self.put(if o.side == Side::Buy { b"\x0154=1\x0160=" } else { b"\x0154=2\x0160=" });
        self.put_time(now);
        self.put(b"\x0138=");
        self.put_fixed(o.qty, o.qty_scale);
        if with_price {
            if o.ord_type == OrdType::Market {
                self.put(b"\x0140=1");
            } else {
                self.put(b"\x0140=2\x0144=");
                self.put_fixed(o.price, o.price_scale);
            }
            self.put(b"\x0159=");
            self.put(&[tif_char(o.tif), SOH]);
        } else {
            self.put(b"\x01");
        }
    }
}

/// `8=FIX.4.4|9=`.
const HEAD: &[u8] = b"8=FIX.4.4\x019=";
const HEAD_LEN: usize = 12;

/// FIX `Side` (54).
#[inline]
pub const fn side_char(side: Side) -> u8 {
    match side {
        Side::Buy => b'1',
        Side::Sell => b'2',
    }
}

/// FIX `TimeInForce` (59). Post-only is a day/GTC order with `ExecInst=6`.
#[inline]
pub const fn tif_char(tif: TimeInForce) -> u8 {
    match tif {
        TimeInForce::Gtc | TimeInForce::PostOnly => b'1',
        TimeInForce::Ioc => b'3',
        TimeInForce::Fok => b'4',
    }
}

/// Encodes a NewOrderSingle (D).
#[inline]
pub fn new_order_single<'e>(
    enc: &'e mut Encoder,
    seq: u64,
    now: Nanos,
    o: &OrderFields<'_>,
) -> Option<&'e [u8]> {
    enc.begin(b"D", seq, now);
    enc.order_body(o, now, true);
    enc.finish()
}

/// Encodes an OrderCancelRequest (F).
#[inline]
pub fn order_cancel_request<'e>(
    enc: &'e mut Encoder,
    seq: u64,
    now: Nanos,
    o: &OrderFields<'_>,
) -> Option<&'e [u8]> {
    enc.begin(b"F", seq, now);
    enc.order_body(o, now, false);
    enc.finish()
}

/// Encodes an OrderCancelReplaceRequest (G).
#[inline]
pub fn order_cancel_replace_request<'e>(
    enc: &'e mut Encoder,
    seq: u64,
    now: Nanos,
    o: &OrderFields<'_>,
) -> Option<&'e [u8]> {
    enc.begin(b"G", seq, now);
    enc.order_body(o, now, true);
    enc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::tags::TEXT;
    use super::*;
    use proptest::prelude::*;

    /// Shows a message with `|` for SOH.
    pub(crate) fn show(m: &[u8]) -> String {
        String::from_utf8(m.iter().map(|&b| if b == SOH { b'|' } else { b }).collect()).unwrap()
    }

    #[test]
    fn new_order_single_is_byte_exact() {
        let mut enc = Encoder::new("TICKLINE", "EXEC");
        let o = OrderFields {
            cl_ord_id: 42,
            orig_cl_ord_id: 0,
            symbol: b"BTCUSDT",
            side: Side::Buy,
            qty: 150,
            qty_scale: 3,
            price: 6_183_763,
            price_scale: 2,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            account: None,
        };
        let m = new_order_single(&mut enc, 7, Nanos(1_723_161_255_208_000_000), &o).unwrap();
        let body = "35=D|49=TICKLINE|56=EXEC|34=7|52=20240808-23:54:15.208|11=42|55=BTCUSDT|54=1|60=20240808-23:54:15.208|38=0.150|40=2|44=61837.63|59=3|";
        let head = format!("8=FIX.4.4|9={}|", body.len());
        let sum = checksum((head.clone() + body).replace('|', "\u{1}").as_bytes());
        assert_eq!(show(m), format!("{head}{body}10={sum:03}|"));
    }

    /// The text an order message must be, written the plain way (`format!`, decimals
    /// through `rust_decimal`, the date from `civil_from_days`): what the encoder wrote
    /// before it went by words, and must still write byte for byte.
    fn reference(msg_type: &str, seq: u64, now: i64, o: &OrderFields<'_>) -> Vec<u8> {
        let ts = {
            let (day, in_day) =
                (now.div_euclid(86_400_000_000_000), now.rem_euclid(86_400_000_000_000));
            let (y, m, d) = super::super::time::civil_from_days(day);
            let ms = in_day / 1_000_000;
            format!(
                "{y:04}{m:02}{d:02}-{:02}:{:02}:{:02}.{:03}",
                ms / 3_600_000,
                ms / 60_000 % 60,
                ms / 1000 % 60,
                ms % 1000
            )
        };
        let dec = |raw: i64, scale: u8| {
            rust_decimal::Decimal::from_i128_with_scale(i128::from(raw), u32::from(scale))
                .to_string()
        };
        let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
        let with_price = msg_type != "F";
        let mut body = format!("35={msg_type}|49=TICKLINE|56=EXEC|34={seq}|52={ts}|");
        if let Some(a) = o.account {
            body += &format!("1={}|", text(a));
        }
        body += &format!("11={}|", o.cl_ord_id);
        if o.orig_cl_ord_id != 0 {
            body += &format!("41={}|", o.orig_cl_ord_id);
        }
        if with_price && o.tif == TimeInForce::PostOnly {
            body += "18=6|";
        }
        body += &format!(
            "55={}|54={}|60={ts}|38={}|",
            text(o.symbol),
            side_char(o.side) as char,
            dec(o.qty, o.qty_scale)
        );
        if with_price {
            if o.ord_type == OrdType::Market {
                body += "40=1|";
            } else {
                body += &format!("40=2|44={}|", dec(o.price, o.price_scale));
            }
            body += &format!("59={}|", tif_char(o.tif) as char);
        }
        let head = format!("8=FIX.4.4|9={}|", body.len());
        let mut m = (head + &body).replace('|', "\u{1}").into_bytes();
        let sum = m.iter().map(|&b| u32::from(b)).sum::<u32>() % 256;
        m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
        m
    }

    proptest! {
        #[test]
        fn orders_match_the_reference_byte_for_byte(
            orders in proptest::collection::vec((
                (any::<u64>(), prop_oneof![Just(0u64), any::<u64>(), 1u64..1000]),
                ("[A-Z0-9./-]{1,24}", proptest::option::of("[A-Za-z0-9]{1,20}")),
                (any::<bool>(), 0u8..4, 0u8..4, any::<bool>()),
                (prop_oneof![any::<i64>(), 0i64..100_000_000, -100_000_000i64..0], 0u8..=18),
                (prop_oneof![any::<i64>(), 0i64..100_000_000], 0u8..=18),
                (prop_oneof![any::<u64>(), 0u64..1000], any::<i64>(), 0i64..5_000_000_000, 0u8..3),
            ), 1..40),
        ) {
            let mut enc = Encoder::new("TICKLINE", "EXEC");
            let mut now = 1_723_161_255_208_000_000i64;
            for ((id, orig), (symbol, account), (buy, ord_type, tif, _), (qty, qty_scale), (price, price_scale), (seq, jump, small, msg)) in orders {
                // Time moving on by nothing, by less than a millisecond, by seconds, by days,
                // and backwards.
                now = match jump % 4 {
                    0 => now,
                    1 => now + small % 1_000_000,
                    2 => now + small,
                    _ => now.wrapping_add(jump % 400_000_000_000_000_000).clamp(0, 9_000_000_000_000_000_000),
                };
                let o = OrderFields {
                    cl_ord_id: id,
                    orig_cl_ord_id: orig,
                    symbol: symbol.as_bytes(),
                    side: if buy { Side::Buy } else { Side::Sell },
                    qty,
                    qty_scale,
                    price,
                    price_scale,
                    ord_type: if ord_type == 0 { OrdType::Market } else { OrdType::Limit },
                    tif: [TimeInForce::Gtc, TimeInForce::Ioc, TimeInForce::Fok, TimeInForce::PostOnly][usize::from(tif)],
                    account: account.as_deref().map(str::as_bytes),
                };
                let (m, t) = match msg {
                    0 => (new_order_single(&mut enc, seq, Nanos(now), &o), "D"),
                    1 => (order_cancel_request(&mut enc, seq, Nanos(now), &o), "F"),
                    _ => (order_cancel_replace_request(&mut enc, seq, Nanos(now), &o), "G"),
                };
                prop_assert_eq!(show(m.unwrap()), show(&reference(t, seq, now, &o)));
            }
        }
    }

    #[test]
    fn overflowing_messages_are_refused() {
        let mut enc = Encoder::new("S", "T");
        enc.begin(b"0", 1, Nanos(0));
        let big = vec![b'x'; MAX_MESSAGE];
        enc.bytes(TEXT, &big);
        assert!(enc.finish().is_none());
        // The next message is fine again.
        enc.begin(b"0", 2, Nanos(0));
        assert!(enc.finish().is_some());
    }

    #[test]
    fn checksum_matches_a_plain_sum() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8 | 0x80).collect();
        // Every tail length after whole 32-byte steps, with and without a 16-byte half.
        for at in [0, 1, 7] {
            for n in (0..200).chain([255, 256, 257, 1000 - at]) {
                let bytes = &data[at..at + n];
                let plain = bytes.iter().map(|&b| u32::from(b)).sum::<u32>() as u8;
                assert_eq!(checksum(bytes), plain, "{n} bytes from {at}");
            }
        }
    }
}
