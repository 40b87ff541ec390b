//! Encoding FIX 4.4 messages into one preallocated buffer.
//!
//! The body is written first, after a reserved gap; `finish` then writes `8=FIX.4.4|9=len|`
//! right-aligned into the gap (so nothing is moved) and appends the checksum. Nothing
//! allocates after [`Encoder::new`].

use tickline_engine::types::{Nanos, OrdType, Side, TimeInForce};

use super::num::{put_fixed, put_u64};
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

/// The sum of bytes modulo 256 (FIX `CheckSum`).
#[inline]
pub fn checksum(bytes: &[u8]) -> u8 {
    // Wide lanes so the loop vectorises; the total fits a u32 for any message we accept.
    let mut lanes = [0u32; 16];
    let mut chunks = bytes.chunks_exact(16);
    for c in &mut chunks {
        for (l, &b) in lanes.iter_mut().zip(c) {
            *l += u32::from(b);
        }
    }
    let mut sum: u32 = lanes.iter().sum();
    for &b in chunks.remainder() {
        sum += u32::from(b);
    }
    sum as u8
}

/// A message under construction, then finished.
#[derive(Debug)]
pub struct Encoder {
    buf: Vec<u8>,
    pos: usize,
    /// `49=SENDER|56=TARGET|`, built once.
    comp_ids: Vec<u8>,
    time: TimestampCache,
    /// The last timestamp written, by millisecond: a message's SendingTime and TransactTime,
    /// and back-to-back messages, format it once.
    last_ms: i64,
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
        Encoder {
            buf: vec![0; MAX_MESSAGE],
            pos: PREFIX_ROOM,
            comp_ids,
            time: TimestampCache::default(),
            last_ms: i64::MIN,
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

    #[inline(always)]
    fn put_u64(&mut self, v: u64) {
        match put_u64(&mut self.buf[..MAX_MESSAGE - 8], self.pos, v) {
            Some(p) => self.pos = p,
            None => self.overflow = true,
        }
    }

    #[inline(always)]
    fn put_fixed(&mut self, raw: i64, scale: u8) {
        match put_fixed(&mut self.buf[..MAX_MESSAGE - 8], self.pos, raw, scale) {
            Some(p) => self.pos = p,
            None => self.overflow = true,
        }
    }

    #[inline(always)]
    fn put_time(&mut self, t: Nanos) {
        let ms = t.0.div_euclid(1_000_000);
        if ms != self.last_ms {
            self.last_ms = ms;
            self.time.write(t, &mut self.last_ts);
        }
        let ts = self.last_ts;
        self.put(&ts);
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
        self.put(msg_type);
        self.put(b"\x01");
        // Disjoint borrow of the comp ids and the buffer.
        let end = self.pos + self.comp_ids.len();
        match self.buf.get_mut(self.pos..end) {
            Some(dst) => {
                dst.copy_from_slice(&self.comp_ids);
                self.pos = end;
            }
            None => self.overflow = true,
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
        // "8=FIX.4.4|9=" + digits + "|", right-aligned against the body.
        let nd = super::num::digits(body_len as u64);
        let start = PREFIX_ROOM - (HEAD_LEN + nd + 1);
        let b = &mut self.buf;
        b[start..start + HEAD_LEN].copy_from_slice(HEAD);
        put_u64(&mut b[..PREFIX_ROOM], start + HEAD_LEN, body_len as u64)?;
        b[PREFIX_ROOM - 1] = SOH;
        let sum = checksum(&b[start..self.pos]);
        let e = self.pos;
        let t = b.get_mut(e..e + 7)?;
        t[..3].copy_from_slice(b"10=");
        t[3] = b'0' + sum / 100;
        t[4] = b'0' + sum / 10 % 10;
        t[5] = b'0' + sum % 10;
        t[6] = SOH;
        Some(&self.buf[start..e + 7])
    }

    /// The fields every order message shares, in dictionary order, with literal tags.
    #[inline]
    fn order_body(&mut self, o: &OrderFields<'_>, now: Nanos, with_price: bool) {
        if let Some(a) = o.account {
            self.put(b"1=");
            self.put(a);
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
        self.put(o.symbol);
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
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in [0, 1, 15, 16, 17, 255, 1000] {
            let plain = data[..n].iter().map(|&b| u32::from(b)).sum::<u32>() as u8;
            assert_eq!(checksum(&data[..n]), plain);
        }
    }
}
