//! Framing and parsing FIX 4.4 messages from a byte stream, without allocating.
//!
//! [`frame`] finds one complete message at the front of a buffer and checks `BeginString`,
//! `BodyLength` and `CheckSum`; anything else is garbled and says how many bytes to skip to
//! the next plausible message start. [`Message::parse`] then splits the fields once, keeping
//! the position of every tag the gateway reads (a fixed table, no map), and records the first
//! problem a session-level `Reject` would name (a non-numeric tag, a tag without a value, a
//! tag twice, `MsgType` not third).

use tickline_engine::types::Scale;

use super::encode::{checksum, SOH};
use super::num::{self, parse_fixed, parse_fixed_word, parse_u64_long, parse_u64_word};
use super::scan;
use super::tags;

/// `8=FIX.4.4|9=`: how every message we accept begins.
const HEAD: &[u8] = b"8=FIX.4.4\x019=";
/// What resynchronisation looks for.
const MARK: &[u8] = b"8=FIX.4.4\x01";
/// Largest `BodyLength` accepted (spans are `u16`).
pub const MAX_BODY: usize = 60_000;

/// Why bytes were discarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Garble {
    /// Not `8=FIX.4.4|9=` where a message must start (garbage, another version).
    BadBeginString,
    /// `BodyLength` missing, not a number, or pointing somewhere other than `10=`.
    BadBodyLength,
    /// `BodyLength` past [`MAX_BODY`].
    TooLong,
    /// `CheckSum` does not match.
    BadCheckSum,
}

/// What [`frame`] found at the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A complete, checked message of this many bytes.
    Complete(usize),
    /// A message has started but more bytes are needed.
    Incomplete,
    /// Discard this many bytes (at least one) and look again.
    Garbled {
        /// Bytes to discard.
        skip: usize,
        /// Why.
        why: Garble,
    },
}

/// Where the next plausible message start is, at or after `from`: the first `8=FIX.4.4|`, or
/// a tail that could still become one.
fn resync(buf: &[u8], from: usize) -> usize {
    let mut p = from;
    while p < buf.len() {
        if buf[p] == b'8' {
            let rest = &buf[p..];
            let n = rest.len().min(MARK.len());
            if rest[..n] == MARK[..n] {
                return p;
            }
        }
        p += 1;
    }
    buf.len()
}

#[inline]
fn garbled(buf: &[u8], why: Garble) -> Frame {
    Frame::Garbled { skip: resync(buf, 1).max(1), why }
}

/// Finds the message at the front of `buf`.
#[inline]
pub fn frame(buf: &[u8]) -> Frame {
    match whole_message(buf) {
        Some(total) => Frame::Complete(total),
        None => frame_other(buf),
    }
}

/// The length of the good message at the front of `buf`, when it is all there and its
/// `BodyLength` has three digits (a body of 100 to 999 bytes, most application messages):
/// the shortest path to the trailer, which is then compared whole with the one the body's
/// checksum gives. `None` for anything else, which [`frame_other`] looks at.
#[inline(always)]
fn whole_message(buf: &[u8]) -> Option<usize> {
    let head = buf.get(..HEAD.len() + 4)?;
    let (a, b, c) =
        (head[12].wrapping_sub(b'0'), head[13].wrapping_sub(b'0'), head[14].wrapping_sub(b'0'));
    if head[..HEAD.len()] != *HEAD || head[15] != SOH || a > 9 || b > 9 || c > 9 {
        return None;
    }
    let body_end = HEAD.len() + 4 + usize::from(a) * 100 + usize::from(b) * 10 + usize::from(c);
    let total = body_end + 7;
    // `|10=ddd|` as one word (the SOH that ends the body, then the CheckSum field).
    let t = word(buf.get(body_end - 1..total)?);
    (t == trailer(checksum(&buf[..body_end]))).then_some(total)
}

/// [`frame`] of anything [`whole_message`] does not take: a part of a message, another
/// length of `BodyLength`, garbage, a bad checksum.
#[inline(never)]
fn frame_other(buf: &[u8]) -> Frame {
    if buf.len() < HEAD.len() {
        return if HEAD.starts_with(buf) {
            Frame::Incomplete
        } else {
            garbled(buf, Garble::BadBeginString)
        };
    }
    if &buf[..HEAD.len()] != HEAD {
        return garbled(buf, Garble::BadBeginString);
    }
    let (body_len, body_start) = match body_length(buf) {
        Ok(b) => b,
        Err(f) => return f,
    };
    if body_len > MAX_BODY {
        return garbled(buf, Garble::TooLong);
    }
    let body_end = body_start + body_len;
    let total = body_end + 7;
    if buf.len() < total {
        // If another message starts inside what BodyLength claims, this one is cut short or
        // its BodyLength is wrong: waiting would swallow the next one.
        if let Some(p) = find(&buf[body_start..], b"\x018=FIX.4.4\x01") {
            if body_start + p + 1 < total {
                return Frame::Garbled { skip: body_start + p + 1, why: Garble::BadBodyLength };
            }
        }
        return Frame::Incomplete;
    }
    // `|10=ddd|` as one word (the SOH that ends the body, then the CheckSum field), compared
    // with the one a good message has: no digits to read on the way.
    let t = word(&buf[body_end - 1..total]);
    let sum = checksum(&buf[..body_end]);
    if t != trailer(sum) {
        return bad_trailer(buf, t, sum, total);
    }
    Frame::Complete(total)
}

/// `|10=` and the last SOH of a trailer, as [`word`] reads `|10=ddd|`.
const TRAILER: u64 = u64::from_le_bytes(*b"\x0110=\0\0\0\x01");

/// The trailer word, as [`word`] reads `|10=ddd|`, of a message whose body sums to `sum`.
#[inline(always)]
fn trailer(sum: u8) -> u64 {
    TRAILER | u64::from(CHECKSUM_TEXT[usize::from(sum)]) << 32
}

/// Each checksum as its three ASCII digits, first digit in the low byte.
const CHECKSUM_TEXT: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, o) = (i as u32 / 100, i as u32 / 10 % 10, i as u32 % 10);
        t[i] = (0x30 + h) | (0x30 + d) << 8 | (0x30 + o) << 16;
        i += 1;
    }
    t
};

/// Why the trailer word `t` of a message of `total` bytes whose body sums to `sum` is not the
/// expected one: not `|10=ddd|` (a wrong `BodyLength`), or another checksum.
#[cold]
#[inline(never)]
fn bad_trailer(buf: &[u8], t: u64, sum: u8, total: usize) -> Frame {
    const SHAPE: u64 = u64::from_le_bytes([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff]);
    let want = num::eight_digits(num::right_align(t >> 32, 3)).filter(|_| t & SHAPE == TRAILER);
    match want {
        None => garbled(buf, Garble::BadBodyLength),
        // Well delimited: drop exactly this message.
        Some(w) if w != u64::from(sum) => Frame::Garbled { skip: total, why: Garble::BadCheckSum },
        Some(_) => Frame::Complete(total),
    }
}

/// `BodyLength` (1 to 6 digits, then SOH, after [`HEAD`]) and where the body starts, or what
/// [`frame`] answers when it is not there.
///
/// One word: the first SOH in it ([`scan::byte_mask`]), the digits before it read together.
/// Anything else (a short buffer, no SOH in the word, a non-digit) is left to
/// [`body_length_bytes`].
#[inline(always)]
fn body_length(buf: &[u8]) -> Result<(usize, usize), Frame> {
    if let Some(w) = buf.get(HEAD.len()..HEAD.len() + 8) {
        let w = word(w);
        let k = scan::byte_mask(w, SOH).trailing_zeros() as usize;
        if (1..=6).contains(&k) {
            if let Some(v) = num::eight_digits(num::right_align(w, k)) {
                return Ok((v as usize, HEAD.len() + k + 1));
            }
        }
    }
    body_length_bytes(buf)
}

/// [`body_length`] one byte at a time: an incomplete or malformed `BodyLength`.
#[cold]
#[inline(never)]
fn body_length_bytes(buf: &[u8]) -> Result<(usize, usize), Frame> {
    let mut i = HEAD.len();
    let mut body_len: usize = 0;
    loop {
        let Some(&b) = buf.get(i) else { return Err(Frame::Incomplete) };
        if b == SOH {
            break;
        }
        let d = b.wrapping_sub(b'0');
        if d > 9 || i - HEAD.len() >= 6 {
            return Err(garbled(buf, Garble::BadBodyLength));
        }
        body_len = body_len * 10 + usize::from(d);
        i += 1;
    }
    if i == HEAD.len() {
        return Err(garbled(buf, Garble::BadBodyLength));
    }
    Ok((body_len, i + 1))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

macro_rules! known_tags {
    ($($name:ident = $num:path),* $(,)?) => {
        /// The tags whose positions a parsed message keeps.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum Tag { $($name),* }

        impl Tag {
            /// Every known tag.
            pub const ALL: &'static [Tag] = &[$(Tag::$name),*];

            /// The FIX tag number.
            #[inline]
            pub const fn number(self) -> u32 {
                match self { $(Tag::$name => $num),* }
            }

            /// The known tag with this number.
            #[inline]
            pub const fn of(n: u32) -> Option<Tag> {
                match n { $($num => Some(Tag::$name),)* _ => None }
            }
        }
    };
}

known_tags! {
    MsgType = tags::MSG_TYPE,
    MsgSeqNum = tags::MSG_SEQ_NUM,
    SenderCompId = tags::SENDER_COMP_ID,
    TargetCompId = tags::TARGET_COMP_ID,
    SendingTime = tags::SENDING_TIME,
    PossDupFlag = tags::POSS_DUP_FLAG,
    OrigSendingTime = tags::ORIG_SENDING_TIME,
    TestReqId = tags::TEST_REQ_ID,
    BeginSeqNo = tags::BEGIN_SEQ_NO,
    EndSeqNo = tags::END_SEQ_NO,
    NewSeqNo = tags::NEW_SEQ_NO,
    GapFillFlag = tags::GAP_FILL_FLAG,
    RefSeqNum = tags::REF_SEQ_NUM,
    RefTagId = tags::REF_TAG_ID,
    RefMsgType = tags::REF_MSG_TYPE,
    SessionRejectReason = tags::SESSION_REJECT_REASON,
    Text = tags::TEXT,
    ResetSeqNumFlag = tags::RESET_SEQ_NUM_FLAG,
    HeartBtInt = tags::HEART_BT_INT,
    EncryptMethod = tags::ENCRYPT_METHOD,
    ClOrdId = tags::CL_ORD_ID,
    OrigClOrdId = tags::ORIG_CL_ORD_ID,
    OrderId = tags::ORDER_ID,
    ExecId = tags::EXEC_ID,
    ExecType = tags::EXEC_TYPE,
    OrdStatus = tags::ORD_STATUS,
    Symbol = tags::SYMBOL,
    Side = tags::SIDE,
    OrderQty = tags::ORDER_QTY,
    Price = tags::PRICE,
    LastPx = tags::LAST_PX,
    LastQty = tags::LAST_QTY,
    CumQty = tags::CUM_QTY,
    LeavesQty = tags::LEAVES_QTY,
    AvgPx = tags::AVG_PX,
    Commission = tags::COMMISSION,
    CommType = tags::COMM_TYPE,
    CxlRejResponseTo = tags::CXL_REJ_RESPONSE_TO,
    CxlRejReason = tags::CXL_REJ_REASON,
    OrdRejReason = tags::ORD_REJ_REASON,
    BusinessRejectRefId = tags::BUSINESS_REJECT_REF_ID,
    BusinessRejectReason = tags::BUSINESS_REJECT_REASON,
}

const N_TAGS: usize = Tag::ALL.len();

/// Tags that are not kept but that most messages carry (the header's and trailer's, the
/// order fields'): in [`TAGS`] too, so their fields are recognised without reading digits.
const COMMON_TAGS: [u32; 9] = [
    tags::BEGIN_STRING,
    tags::BODY_LENGTH,
    tags::CHECK_SUM,
    tags::ACCOUNT,
    tags::EXEC_INST,
    tags::ORD_TYPE,
    tags::TIME_IN_FORCE,
    tags::TRANSACT_TIME,
    tags::POSS_RESEND,
];

/// Span slots: one per known tag (`Tag as usize`), then one per common tag (written by the
/// fast pass to see a tag twice, never read).
const N_SLOTS: usize = N_TAGS + COMMON_TAGS.len();

/// The span array's length, a power of two so that a slot from [`TAGS`] needs no bounds
/// check; its last entry is [`JUNK`].
const SPANS: usize = 64;

/// Where [`TAGS`] sends the key `=` alone (a field without a tag): the fast pass keeps it
/// non-zero, so landing there reads as a tag seen twice.
const JUNK: usize = SPANS - 1;

const _: () = assert!(N_SLOTS < JUNK);

/// Tag digits and `=` → span slot, for every known tag and the [`COMMON_TAGS`]; a field
/// without a tag finds [`JUNK`].
const TAGS: scan::TagTable = {
    let mut all = [(0u32, 0u8); N_SLOTS];
    let mut k = 0;
    while k < N_TAGS {
        all[k] = (Tag::ALL[k].number(), Tag::ALL[k] as u8);
        k += 1;
    }
    while k < N_SLOTS {
        all[k] = (COMMON_TAGS[k - N_TAGS], k as u8);
        k += 1;
    }
    scan::TagTable::build(&all, JUNK as u8)
};

/// Where each slot's value is: its start, and its end (the SOH after it). A start of 0 is
/// absent (no value starts at 0).
#[derive(Clone, Copy, Debug)]
struct Spans {
    starts: [u16; SPANS],
    ends: [u16; SPANS],
}

impl Spans {
    const EMPTY: Spans = Spans { starts: [0; SPANS], ends: [0; SPANS] };

    #[inline(always)]
    fn set(&mut self, slot: usize, start: usize, end: usize) {
        self.starts[slot % SPANS] = start as u16;
        self.ends[slot % SPANS] = end as u16;
    }
}

/// The span slots of `BeginString`, `BodyLength` and `CheckSum` (common tags).
const BEGIN_STRING_SLOT: usize = N_TAGS;
const BODY_LENGTH_SLOT: usize = N_TAGS + 1;
const CHECK_SUM_SLOT: usize = N_TAGS + 2;
const _: () = assert!(
    COMMON_TAGS[BEGIN_STRING_SLOT - N_TAGS] == tags::BEGIN_STRING
        && COMMON_TAGS[BODY_LENGTH_SLOT - N_TAGS] == tags::BODY_LENGTH
        && COMMON_TAGS[CHECK_SUM_SLOT - N_TAGS] == tags::CHECK_SUM
);

/// The fast pass of [`Message::parse`]: every field's value span into `spans`; `false` if
/// the message needs the exact reading (a problem, or a kept tag not found in [`TAGS`]).
#[inline(always)]
fn split(bytes: &[u8], spans: &mut Spans) -> bool {
    let n = bytes.len();
    if n < 8 {
        return false;
    }
    // Fields that start at or before this have eight bytes to read.
    let last_word = n - 8;
    // Not 0 if anything needs the exact reading: the spans fields overwrote (a tag seen
    // twice, or the junk slot, where empty values go too), fields of the slow path that
    // were not fine.
    let mut bad: u16 = 0;
    spans.starts[JUNK] = 1;
    // `|10=ddd|`, as every frame ends: the CheckSum field is fine (three bytes of value, no
    // SOH among them), only its slot needs marking, and the fields before it end here.
    let mut fields_end = n;
    let t = word(&bytes[last_word..]);
    let soh_in_digits = scan::zero_bytes((t >> 32) ^ u64::from_le_bytes([SOH; 8])) & 0x0080_8080;
    if t & 0xff00_0000_ffff_ffff == TRAILER && soh_in_digits == 0 {
        spans.starts[CHECK_SUM_SLOT] = 1;
        fields_end = n - 7;
    }
    // The last block with fields, and the bits of its mask that are theirs.
    let last_base = (fields_end - 1) & !(scan::BLOCK - 1);
    let last_bits = u64::MAX >> (scan::BLOCK - (fields_end - last_base));
    let mut start = 0;
    let mut base = 0;
    let mut third = None;
    while base < fields_end {
        let mut ends = scan::soh_mask_at(bytes, base);
        if base == last_base {
            ends &= last_bits;
        }
        if base == 0 {
            // The third field starts after the second SOH: it must be MsgType.
            let second = ends & ends.wrapping_sub(1);
            third = (second != 0).then(|| second.trailing_zeros() as usize + 1);
            // `8=FIX.4.4|9=` and a BodyLength value (the second SOH past it), as every frame
            // starts: both fields are fine, and only their slots need marking.
            if let Some(t) = third.filter(|&t| t > HEAD.len() + 1) {
                if bytes.get(..HEAD.len()) == Some(HEAD) {
                    spans.starts[BEGIN_STRING_SLOT] = 1;
                    spans.starts[BODY_LENGTH_SLOT] = 1;
                    ends &= !(second ^ second.wrapping_sub(1));
                    start = t;
                }
            }
        }
        while ends != 0 {
            let end = base + ends.trailing_zeros() as usize;
            ends &= ends - 1;
            let w = if start <= last_word {
                word(&bytes[start..])
            } else {
                // The last field(s): the buffer's last word, moved down (zeros past the end).
                word(&bytes[last_word..]) >> ((8 * (start - last_word)) & 63)
            };
            bad |= take(bytes, w, spans, start, end);
            start = end + 1;
        }
        base += scan::BLOCK;
    }
    spans.starts[JUNK] = 0;
    let msg_type_third = third.is_some_and(|t| bytes.get(t..t + 3) == Some(b"35="));
    bad == 0 && start == fields_end && msg_type_third
}

/// The first eight bytes of `b` (at least eight) as a little-endian word.
#[inline(always)]
fn word(b: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[..8]);
    u64::from_le_bytes(w)
}

/// [`scan::word_at`] in the last eight bytes of `bytes`, where no value of a frame is.
#[cold]
#[inline(never)]
fn word_at_end(bytes: &[u8], at: usize) -> u64 {
    scan::word_at(bytes, at)
}

/// Takes the field `bytes[start..end]` (`end` at its SOH), whose first eight bytes (zeros
/// past the buffer's end) are `word`: not 0 if it needs the exact reading.
#[inline(always)]
fn take(bytes: &[u8], word: u64, spans: &mut Spans, start: usize, end: usize) -> u16 {
    match TAGS.find(scan::key32(word)) {
        Some((slot, key_len)) => {
            // Found, so the '=' is inside the field (no key holds an SOH): v <= end.
            let v = start + usize::from(key_len);
            // An empty value goes to the junk slot, which is never empty: seen twice.
            let slot = if v == end { JUNK } else { usize::from(slot) };
            let before = spans.starts[slot % SPANS];
            spans.set(slot, v, end);
            before
        }
        None => u16::from(!take_other(&bytes[start..end])),
    }
}

/// A field of the fast pass whose tag is not in [`TAGS`]: fine if it is a well-formed tag
/// that is not kept, with a value.
#[cold]
#[inline(never)]
fn take_other(f: &[u8]) -> bool {
    match scan::tag(scan::word_at(f, 0), f) {
        Some((tag, q)) => Tag::of(tag).is_none() && q + 1 < f.len(),
        None => false,
    }
}

/// What a session-level `Reject` of this message would say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    /// A tag that is not a number (`SessionRejectReason` 0).
    InvalidTag,
    /// A tag with no value (4).
    NoValue(u32),
    /// A tag that appears twice (13).
    Duplicate(u32),
    /// `MsgType` is not the third field.
    MsgTypeNotThird,
}

impl FieldProblem {
    /// `SessionRejectReason` and `RefTagID` (0 when none) for a `Reject`.
    pub const fn reject_reason(self) -> (u32, u32) {
        match self {
            FieldProblem::InvalidTag => (tags::reject::INVALID_TAG_NUMBER, 0),
            FieldProblem::NoValue(t) => (tags::reject::TAG_WITHOUT_VALUE, t),
            FieldProblem::Duplicate(t) => (tags::reject::TAG_APPEARS_MORE_THAN_ONCE, t),
            FieldProblem::MsgTypeNotThird => (tags::reject::REQUIRED_TAG_MISSING, tags::MSG_TYPE),
        }
    }
}

/// One parsed message: the frame and where each known tag's value is.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    bytes: &'a [u8],
    /// Per known tag, then scratch for the common tags.
    spans: Spans,
    problem: Option<FieldProblem>,
}

impl<'a> Message<'a> {
    /// Splits a frame that [`frame`] accepted.
    ///
    /// One pass: an SOH mask per 64 bytes ([`scan::soh_mask`]) gives every field's end, and
    /// each tag is looked up by its bytes ([`TAGS`]). Anything out of the ordinary (a
    /// problem, a kept tag written with leading zeros) sends the message to
    /// [`Message::parse_exact`], which reads it field by field and names the first problem.
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Message<'a> {
        // One value, returned on every path and never lent out, so that it is built where the
        // caller keeps it: a copy after the narrow stores of the fast pass would read them
        // back with wide loads, which wait for the stores to reach the cache.
        let mut m = Message { bytes, spans: Spans::EMPTY, problem: None };
        if !split(bytes, &mut m.spans) {
            m = Message::parse_exact(bytes);
        }
        m
    }

    /// Reads a message field by field, noting the first problem: what [`Message::parse`]
    /// falls back to, and the reference its fast pass is tested against.
    pub fn parse_exact(bytes: &'a [u8]) -> Message<'a> {
        let mut m = Message { bytes, spans: Spans::EMPTY, problem: None };
        m.read_exact();
        m
    }

    /// [`Message::parse_exact`] in place.
    #[cold]
    #[inline(never)]
    fn read_exact(&mut self) {
        self.spans = Spans::EMPTY;
        self.problem = None;
        let bytes = self.bytes;
        let n = bytes.len();
        let (mut start, mut index, mut base) = (0, 0u32, 0);
        while base < n {
            let mut ends = scan::soh_mask_at(bytes, base);
            while ends != 0 {
                let end = base + ends.trailing_zeros() as usize;
                ends &= ends - 1;
                self.field(start, end, index);
                index += 1;
                start = end + 1;
            }
            base += scan::BLOCK;
        }
        // A last field without its SOH (never in a frame).
        if start < n {
            self.field(start, n, index);
        }
    }

    /// Takes the `index`th field, `bytes[start..end]` (`end` at its SOH), noting a problem.
    fn field(&mut self, start: usize, end: usize, index: u32) {
        let Some((tag, q)) = scan::tag(scan::word_at(self.bytes, start), &self.bytes[start..end])
        else {
            return self.note(FieldProblem::InvalidTag);
        };
        if index == 2 && tag != tags::MSG_TYPE {
            self.note(FieldProblem::MsgTypeNotThird);
        }
        let v = start + q + 1;
        if v == end {
            return self.note(FieldProblem::NoValue(tag));
        }
        if let Some(t) = Tag::of(tag) {
            if self.spans.starts[t as usize] != 0 {
                self.note(FieldProblem::Duplicate(tag));
            } else {
                self.spans.set(t as usize, v, end);
            }
        }
    }

    #[inline]
    fn note(&mut self, p: FieldProblem) {
        if self.problem.is_none() {
            self.problem = Some(p);
        }
    }

    /// The first structural problem, if any.
    #[inline]
    pub fn problem(&self) -> Option<FieldProblem> {
        self.problem
    }

    /// The whole frame.
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The eight bytes from `at` (a value's start), zeros past the end. A value in a frame
    /// is never in its last eight bytes (the CheckSum field is), so one load does.
    #[inline(always)]
    fn word_at(&self, at: u16) -> u64 {
        let at = usize::from(at);
        match self.bytes.get(at..at + 8) {
            Some(w) => word(w),
            None => word_at_end(self.bytes, at),
        }
    }

    /// Where a known tag's value is: (start, length); start 0 when absent.
    #[inline(always)]
    fn span(&self, t: Tag) -> (u16, u16) {
        let (s, e) = (self.spans.starts[t as usize], self.spans.ends[t as usize]);
        (s, e.wrapping_sub(s))
    }

    /// A known tag's value.
    #[inline]
    pub fn get(&self, t: Tag) -> Option<&'a [u8]> {
        let (s, e) = (self.spans.starts[t as usize], self.spans.ends[t as usize]);
        if s == 0 {
            None
        } else {
            self.bytes.get(usize::from(s)..usize::from(e))
        }
    }

    /// The first byte of a known tag's value (`None` if absent; a value is never empty).
    #[inline(always)]
    pub fn first_byte(&self, t: Tag) -> Option<u8> {
        match self.spans.starts[t as usize] {
            0 => None,
            s => self.bytes.get(usize::from(s)).copied(),
        }
    }

    /// A known tag's value as an unsigned integer (`None` if absent or not a number).
    #[inline(always)]
    pub fn u64(&self, t: Tag) -> Option<u64> {
        let (s, l) = self.span(t);
        match (s, l) {
            (0, _) => None,
            (_, 0..=8) => parse_u64_word(self.word_at(s), usize::from(l)),
            _ => self.get(t).and_then(parse_u64_long),
        }
    }

    /// A known tag's value as a fixed-point decimal at `scale` places: `None` if absent,
    /// `Some(None)` if not such a number (see [`parse_fixed`]).
    #[inline(always)]
    pub fn fixed(&self, t: Tag, scale: u8) -> Option<Option<i64>> {
        let (s, l) = self.span(t);
        match (s, l) {
            (0, _) => None,
            (_, 0..=8) => Some(parse_fixed_word(self.word_at(s), usize::from(l), scale)),
            _ => self.get(t).map(|v| parse_fixed(v, scale)),
        }
    }

    /// `MsgType` (empty if absent).
    #[inline]
    pub fn msg_type(&self) -> &'a [u8] {
        self.get(Tag::MsgType).unwrap_or(b"")
    }

    /// Whether `PossDupFlag=Y`.
    #[inline]
    pub fn poss_dup(&self) -> bool {
        self.get(Tag::PossDupFlag) == Some(b"Y")
    }

    /// The first of `required` that is absent.
    #[inline]
    pub fn missing(&self, required: &[Tag]) -> Option<Tag> {
        required.iter().copied().find(|&t| self.span(t).0 == 0)
    }
}

/// Why an application message's fields could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// A required tag is absent (`SessionRejectReason` 1).
    Missing(u32),
    /// A value is not in the right format (6).
    Format(u32),
}

/// The fields of an ExecutionReport (8) or OrderCancelReject (9) the gateway uses, with
/// prices and quantities in fixed point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecFields {
    /// `ClOrdID` (11), when it is one of ours (a decimal `u64`).
    pub cl_ord_id: Option<u64>,
    /// `OrigClOrdID` (41), when present and ours.
    pub orig_cl_ord_id: Option<u64>,
    /// `OrderID` (37): its value if decimal, else a hash of it.
    pub order_id: u64,
    /// `ExecType` (150), first byte (ExecutionReport only).
    pub exec_type: u8,
    /// `OrdStatus` (39), first byte.
    pub ord_status: u8,
    /// `LastPx` (31), raw at the price scale.
    pub last_px: i64,
    /// `LastQty` (32), raw at the quantity scale.
    pub last_qty: i64,
    /// `CumQty` (14).
    pub cum_qty: i64,
    /// `LeavesQty` (151).
    pub leaves_qty: i64,
    /// `Commission` (12) when `CommType` (13) is absolute (3), at the notional scale.
    pub fee: i64,
}

/// Tags an ExecutionReport must carry (FIX 4.4 dictionary).
pub const EXEC_REPORT_REQUIRED: &[Tag] = &[
    Tag::OrderId,
    Tag::ExecId,
    Tag::ExecType,
    Tag::OrdStatus,
    Tag::Side,
    Tag::LeavesQty,
    Tag::CumQty,
    Tag::AvgPx,
];

/// Tags an OrderCancelReject must carry.
pub const CANCEL_REJECT_REQUIRED: &[Tag] =
    &[Tag::OrderId, Tag::ClOrdId, Tag::OrigClOrdId, Tag::OrdStatus, Tag::CxlRejResponseTo];

/// A `ClOrdID` as one of ours.
#[inline]
pub fn cl_ord_id(m: &Message<'_>, t: Tag) -> Option<u64> {
    m.u64(t)
}

/// `OrderID`: decimal as is, anything else hashed (FNV-1a) to a stable number; 0 if absent.
#[inline]
fn order_id(m: &Message<'_>) -> u64 {
    m.u64(Tag::OrderId).unwrap_or_else(|| order_id_hash(m.get(Tag::OrderId)))
}

/// [`order_id`] of an absent or non-decimal `OrderID`. (Given the value, not the message,
/// so that the message is not lent out of line.)
#[cold]
#[inline(never)]
fn order_id_hash(v: Option<&[u8]>) -> u64 {
    v.map_or(0, |v| {
        v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    })
}

/// A fixed-point field at `scale`: 0 if absent, a format error if not a number.
#[inline(always)]
fn optional_fixed(m: &Message<'_>, t: Tag, scale: Scale) -> Result<i64, DecodeError> {
    match m.fixed(t, scale.places()) {
        None => Ok(0),
        Some(v) => v.ok_or(DecodeError::Format(t.number())),
    }
}

/// Reads an ExecutionReport's fields at the order's scales.
///
/// Always inlined: the message is then read where [`Message::parse`] built it, not copied
/// to be lent to a call (a copy right after the parse reads the parse's narrow stores back
/// with wide loads, which wait for the stores to reach the cache).
#[inline(always)]
pub fn decode_execution_report(
    m: &Message<'_>,
    price: Scale,
    qty: Scale,
) -> Result<ExecFields, DecodeError> {
    if let Some(t) = m.missing(EXEC_REPORT_REQUIRED) {
        return Err(DecodeError::Missing(t.number()));
    }
    let first = |t: Tag| m.first_byte(t).unwrap_or(0);
    let mut fee = 0;
    if m.get(Tag::CommType) == Some(b"3") {
        if let Some(s) = Scale::new(price.places().saturating_add(qty.places())) {
            fee = optional_fixed(m, Tag::Commission, s)?;
        }
    }
    Ok(ExecFields {
        cl_ord_id: cl_ord_id(m, Tag::ClOrdId),
        orig_cl_ord_id: cl_ord_id(m, Tag::OrigClOrdId),
        order_id: order_id(m),
        exec_type: first(Tag::ExecType),
        ord_status: first(Tag::OrdStatus),
        last_px: optional_fixed(m, Tag::LastPx, price)?,
        last_qty: optional_fixed(m, Tag::LastQty, qty)?,
        cum_qty: optional_fixed(m, Tag::CumQty, qty)?,
        leaves_qty: optional_fixed(m, Tag::LeavesQty, qty)?,
        fee,
    })
}

/// Reads an OrderCancelReject's fields.
pub fn decode_cancel_reject(m: &Message<'_>) -> Result<ExecFields, DecodeError> {
    if let Some(t) = m.missing(CANCEL_REJECT_REQUIRED) {
        return Err(DecodeError::Missing(t.number()));
    }
    Ok(ExecFields {
        cl_ord_id: cl_ord_id(m, Tag::ClOrdId),
        orig_cl_ord_id: cl_ord_id(m, Tag::OrigClOrdId),
        order_id: order_id(m),
        ord_status: m.first_byte(Tag::OrdStatus).unwrap_or(0),
        ..ExecFields::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::venue::fix::codec::num::parse_u64;
    use proptest::prelude::*;

    /// A message with `|` for SOH, BodyLength and CheckSum filled in.
    pub(crate) fn msg(body: &str) -> Vec<u8> {
        let body = body.replace('|', "\u{1}");
        let head = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len());
        let mut m = (head + &body).into_bytes();
        let sum = checksum(&m);
        m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
        m
    }

    const ER: &str = "35=8|34=5|49=EXEC|52=20240808-23:54:15.208|56=TL|11=42|17=9|37=7|38=10|39=1|54=1|55=A|150=F|151=4|14=6|6=100.5|31=100.50|32=6|12=0.25|13=3|";

    #[test]
    fn frames_parses_and_decodes_an_execution_report() {
        let m = msg(ER);
        assert_eq!(frame(&m), Frame::Complete(m.len()));
        // An ordinary report takes the fast pass.
        let mut spans = Spans::EMPTY;
        assert!(split(&m, &mut spans));
        let p = Message::parse(&m);
        assert_eq!(p.problem(), None);
        assert_eq!(p.msg_type(), b"8");
        assert_eq!(p.u64(Tag::MsgSeqNum), Some(5));
        let s = |n| Scale::new(n).unwrap();
        let e = decode_execution_report(&p, s(2), s(0)).unwrap();
        assert_eq!(
            e,
            ExecFields {
                cl_ord_id: Some(42),
                orig_cl_ord_id: None,
                order_id: 7,
                exec_type: b'F',
                ord_status: b'1',
                last_px: 10_050,
                last_qty: 6,
                cum_qty: 6,
                leaves_qty: 4,
                fee: 25,
            }
        );
        let bad = msg("35=8|34=5|11=x|17=9|39=1|54=1|150=F|151=4|14=6|6=1|");
        let bad = Message::parse(&bad);
        assert_eq!(decode_execution_report(&bad, s(2), s(0)), Err(DecodeError::Missing(37)));
        let bad = msg("35=8|34=5|11=1|37=1|17=9|39=1|54=1|150=F|151=4|14=6|6=1|32=1.5|");
        let bad = Message::parse(&bad);
        assert_eq!(decode_execution_report(&bad, s(2), s(0)), Err(DecodeError::Format(32)));
    }

    #[test]
    fn split_and_joined_messages() {
        let a = msg("35=0|34=1|49=E|56=T|52=20240808-23:54:15.208|");
        for cut in 0..a.len() {
            assert_eq!(frame(&a[..cut]), Frame::Incomplete, "cut at {cut}");
        }
        let mut two = a.clone();
        two.extend_from_slice(&a);
        assert_eq!(frame(&two), Frame::Complete(a.len()));
    }

    #[test]
    fn garbled_input_is_skipped_to_the_next_message() {
        let good = msg("35=0|34=1|49=E|56=T|52=20240808-23:54:15.208|");
        // Garbage before a message.
        let mut buf = b"garbage\x01\x02 8=FI".to_vec();
        buf.extend_from_slice(&good);
        let Frame::Garbled { skip, why } = frame(&buf) else { panic!() };
        assert_eq!((why, &buf[skip..]), (Garble::BadBeginString, &good[..]));
        // A bad checksum drops exactly one message.
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 2] = if bad[n - 2] == b'0' { b'1' } else { b'0' };
        bad.extend_from_slice(&good);
        assert_eq!(frame(&bad), Frame::Garbled { skip: good.len(), why: Garble::BadCheckSum });
        // BodyLength too short: 10= is not where it says.
        let mut short = good.clone();
        short[12] = b'1';
        let Frame::Garbled { why, .. } = frame(&short) else { panic!() };
        assert_eq!(why, Garble::BadBodyLength);
        // BodyLength too long, with the next message already here: not waited for.
        let body = "35=0|34=1|49=E|56=T|52=20240808-23:54:15.208|".replace('|', "\u{1}");
        let mut long =
            format!("8=FIX.4.4\u{1}9={}\u{1}{body}10=000\u{1}", body.len() + 40).into_bytes();
        let first = long.len();
        long.extend_from_slice(&good);
        assert_eq!(frame(&long), Frame::Garbled { skip: first, why: Garble::BadBodyLength });
        // Non-numeric BodyLength, another version.
        assert!(matches!(
            frame(b"8=FIX.4.4\x019=1x\x01"),
            Frame::Garbled { why: Garble::BadBodyLength, .. }
        ));
        assert!(matches!(
            frame(b"8=FIX.4.2\x019=5\x01"),
            Frame::Garbled { why: Garble::BadBeginString, .. }
        ));
        assert!(matches!(
            frame(b"8=FIX.4.4\x019=9999999\x01"),
            Frame::Garbled { why: Garble::BadBodyLength, .. }
        ));
        assert!(matches!(
            frame(b"8=FIX.4.4\x019=99999\x01"),
            Frame::Garbled { why: Garble::TooLong, .. }
        ));
    }

    #[test]
    fn field_problems_are_reported() {
        let p = |b: &str| Message::parse(&msg(b)).problem();
        assert_eq!(p("35=0|34=1|x5=1|"), Some(FieldProblem::InvalidTag));
        assert_eq!(p("35=0|34=1|58=|"), Some(FieldProblem::NoValue(58)));
        assert_eq!(p("35=0|34=1|34=2|"), Some(FieldProblem::Duplicate(34)));
        assert_eq!(p("34=1|35=0|"), Some(FieldProblem::MsgTypeNotThird));
        assert_eq!(p("35=0|34=1|9999=unknown tags are fine|"), None);
        assert_eq!(Tag::of(150), Some(Tag::ExecType));
        assert!(Tag::ALL.iter().all(|&t| Tag::of(t.number()) == Some(t)));
        for n in 0..100_000 {
            let key = u32::try_from(scan::tag_key(n)).ok();
            let slot = key.and_then(|k| TAGS.find(k)).map(|(slot, _)| usize::from(slot));
            let want = Tag::of(n)
                .map(|t| t as usize)
                .or_else(|| COMMON_TAGS.iter().position(|&c| c == n).map(|i| N_TAGS + i));
            assert_eq!(slot, want, "tag {n}");
        }
    }

    /// The byte-at-a-time parser [`Message::parse`] replaced, kept as the reference its
    /// answers are checked against: the value of every known tag and the first problem.
    fn reference(bytes: &[u8]) -> (Vec<Option<Vec<u8>>>, Option<FieldProblem>) {
        let mut values: Vec<Option<Vec<u8>>> = vec![None; N_TAGS];
        let mut problem = None;
        let mut note = |p| {
            if problem.is_none() {
                problem = Some(p);
            }
        };
        let field = |i: usize| -> Result<(u32, usize, usize), usize> {
            let start = i;
            let mut i = i;
            let mut tag: u32 = 0;
            while let Some(&b) = bytes.get(i) {
                let d = b.wrapping_sub(b'0');
                if d > 9 || i - start >= 9 {
                    break;
                }
                tag = tag * 10 + u32::from(d);
                i += 1;
            }
            let soh_from = |i: usize| {
                i + bytes[i.min(bytes.len())..].iter().take_while(|&&b| b != SOH).count()
            };
            if i == start || bytes.get(i) != Some(&b'=') {
                return Err(soh_from(i) + 1);
            }
            Ok((tag, i + 1, soh_from(i + 1)))
        };
        let (mut i, mut index) = (0, 0u32);
        while i < bytes.len() {
            let (tag, v, end) = match field(i) {
                Ok(f) => f,
                Err(next) => {
                    note(FieldProblem::InvalidTag);
                    i = next;
                    index += 1;
                    continue;
                }
            };
            i = end + 1;
            if index == 2 && tag != tags::MSG_TYPE {
                note(FieldProblem::MsgTypeNotThird);
            }
            index += 1;
            if v == end {
                note(FieldProblem::NoValue(tag));
                continue;
            }
            if let Some(t) = Tag::of(tag) {
                if values[t as usize].is_some() {
                    note(FieldProblem::Duplicate(tag));
                } else {
                    values[t as usize] = Some(bytes[v..end].to_vec());
                }
            }
        }
        (values, problem)
    }

    /// Checks [`Message::parse`] and [`Message::parse_exact`] against [`reference`].
    fn agrees_with_reference(bytes: &[u8]) -> Result<(), TestCaseError> {
        let (values, problem) = reference(bytes);
        for m in [Message::parse(bytes), Message::parse_exact(bytes)] {
            prop_assert_eq!(m.problem(), problem, "{:?}", String::from_utf8_lossy(bytes));
            for &t in Tag::ALL {
                prop_assert_eq!(
                    m.get(t),
                    values[t as usize].as_deref(),
                    "tag {} in {:?}",
                    t.number(),
                    String::from_utf8_lossy(bytes)
                );
            }
        }
        Ok(())
    }

    /// A field for the generated messages: known, common and unknown tags, values of any
    /// length, and now and then something malformed.
    fn any_field() -> impl Strategy<Value = Vec<u8>> {
        let tag = prop_oneof![
            4 => proptest::sample::select(Tag::ALL).prop_map(|t| t.number().to_string()),
            2 => proptest::sample::select(&COMMON_TAGS[..]).prop_map(|t| t.to_string()),
            2 => (1u32..100_000).prop_map(|t| t.to_string()),
            1 => "[0-9]{6,11}",
            1 => proptest::sample::select(Tag::ALL).prop_map(|t| format!("0{}", t.number())),
            1 => "[0-9a=\x00\x01]{0,4}",
        ];
        let value = prop_oneof![
            6 => "[ -~]{1,12}",
            2 => "[-0-9.]{1,30}",
            1 => Just(String::new()),
            1 => "[ -~\x00]{13,80}",
        ];
        (tag, value).prop_map(|(t, v)| format!("{t}={v}\u{1}").into_bytes())
    }

    /// Damage to a message: a byte replaced, removed or put in.
    /// Applies [`damage`]s in turn: overwrite, remove or insert a byte at a position.
    fn apply_damage(m: &mut Vec<u8>, damages: &[(usize, u8, u8)]) {
        for &(at, how, byte) in damages {
            let at = at % (m.len() + 1);
            match how {
                0 if at < m.len() => m[at] = byte,
                1 if at < m.len() => {
                    m.remove(at);
                }
                _ => m.insert(at, byte),
            }
        }
    }

    fn damage() -> impl Strategy<Value = (usize, u8, u8)> {
        (
            any::<usize>(),
            0u8..3,
            prop_oneof![Just(SOH), Just(b'='), Just(0u8), Just(b'0'), Just(b'x'), any::<u8>()],
        )
    }

    proptest! {
        #[test]
        fn parse_agrees_with_a_naive_split(
            fields in proptest::collection::vec(("[0-9]{1,4}", "[ -~]{1,24}"), 1..30),
        ) {
            let mut text = Vec::new();
            for (tag, value) in &fields {
                text.extend_from_slice(format!("{tag}={value}").as_bytes());
                text.push(SOH);
            }
            let m = Message::parse(&text);
            // The naive reading: split on SOH, then on the first '='.
            let mut seen = std::collections::HashMap::new();
            let mut dup = false;
            for f in text.split(|&b| b == SOH).filter(|f| !f.is_empty()) {
                let eq = f.iter().position(|&b| b == b'=').unwrap();
                let tag: u32 = std::str::from_utf8(&f[..eq]).unwrap().parse().unwrap();
                if Tag::of(tag).is_some() && seen.insert(tag, f[eq + 1..].to_vec()).is_some() {
                    dup = true;
                }
            }
            for &t in Tag::ALL {
                let want = seen.get(&t.number()).map(|v| v.as_slice());
                if !dup {
                    prop_assert_eq!(m.get(t), want, "tag {}", t.number());
                }
            }
            if dup {
                prop_assert!(m.problem().is_some(), "a duplicate tag is a problem");
            }
        }

        #[test]
        fn parse_agrees_with_the_reference_on_valid_messages(
            fields in proptest::collection::vec(any_field(), 0..40),
            msg_type in proptest::sample::select(&["0", "8", "9", "3", "j", "AB"][..]),
        ) {
            let mut body = format!("35={msg_type}\u{1}").into_bytes();
            body.extend(fields.concat());
            let m = msg(std::str::from_utf8(&body).unwrap());
            agrees_with_reference(&m)?;
        }

        #[test]
        fn parse_agrees_with_the_reference_on_damaged_messages(
            fields in proptest::collection::vec(any_field(), 0..30),
            damages in proptest::collection::vec(damage(), 1..4),
            swap in any::<Option<(usize, usize)>>(),
        ) {
            let mut fields = fields;
            fields.insert(0, b"35=8\x01".to_vec());
            if let Some((a, b)) = swap {
                let n = fields.len();
                fields.swap(a % n, b % n);
            }
            let mut m = msg(std::str::from_utf8(&fields.concat()).unwrap());
            apply_damage(&mut m, &damages);
            agrees_with_reference(&m)?;
            // And every prefix and suffix: fields cut anywhere, blocks of every alignment.
            for cut in [1, 7, 8, 9, 63, 64, 65, m.len() / 2] {
                agrees_with_reference(&m[..m.len().saturating_sub(cut)])?;
                agrees_with_reference(&m[cut.min(m.len())..])?;
            }
        }

        #[test]
        fn parse_agrees_with_the_reference_on_arbitrary_bytes(data in proptest::collection::vec(prop_oneof![Just(SOH), Just(b'='), Just(b'3'), Just(b'5'), any::<u8>()], 0..300)) {
            agrees_with_reference(&data)?;
        }

        #[test]
        fn decode_agrees_with_the_byte_loop_parsers(
            values in proptest::collection::vec(prop_oneof![
                4 => "[0-9]{1,6}\\.[0-9]{0,7}",
                2 => "-?[0-9]{1,12}(\\.[0-9]{1,10})?",
                1 => "[-+0-9.a]{1,9}",
                1 => "[0-9]{15,21}",
            ], 9),
            absent in proptest::collection::vec(any::<bool>(), 9),
            comm_type in proptest::sample::select(&["3", "1", ""][..]),
            price in 0u8..=9,
            qty in 0u8..=9,
        ) {
            // 11, 41, 37, 31, 32, 14, 151, 12, 6 in dictionary order with the other required tags.
            let tags = [11, 41, 37, 31, 32, 14, 151, 12, 6];
            let mut body = String::from("35=8|34=5|49=EXEC|56=TL|17=9|39=1|54=1|150=F|");
            for ((t, v), gone) in tags.iter().zip(&values).zip(&absent) {
                if !gone || *t == 14 {
                    body.push_str(&format!("{t}={v}|"));
                }
            }
            if !comm_type.is_empty() {
                body.push_str(&format!("13={comm_type}|"));
            }
            let m = msg(&body);
            let p = Message::parse(&m);
            prop_assert_eq!(p.problem(), None);
            let (price, qty) = (Scale::new(price).unwrap(), Scale::new(qty).unwrap());
            // The reference: the byte loops on the values as the reference parser finds them.
            let (vals, _) = reference(&m);
            let val = |t: Tag| vals[t as usize].clone();
            let fixed = |t: Tag, s: Scale| match val(t) {
                None => Ok(0),
                Some(v) => parse_fixed(&v, s.places()).ok_or(DecodeError::Format(t.number())),
            };
            let want = (|| {
                if let Some(t) = EXEC_REPORT_REQUIRED.iter().find(|&&t| val(t).is_none()) {
                    return Err(DecodeError::Missing(t.number()));
                }
                let mut fee = 0;
                if val(Tag::CommType).as_deref() == Some(b"3") {
                    if let Some(s) = Scale::new(price.places() + qty.places()) {
                        fee = fixed(Tag::Commission, s)?;
                    }
                }
                let id = |t: Tag| val(t).and_then(|v| parse_u64(&v));
                Ok(ExecFields {
                    cl_ord_id: id(Tag::ClOrdId),
                    orig_cl_ord_id: id(Tag::OrigClOrdId),
                    order_id: val(Tag::OrderId).map_or(0, |v| parse_u64(&v).unwrap_or_else(|| v.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)))),
                    exec_type: b'F',
                    ord_status: b'1',
                    last_px: fixed(Tag::LastPx, price)?,
                    last_qty: fixed(Tag::LastQty, qty)?,
                    cum_qty: fixed(Tag::CumQty, qty)?,
                    leaves_qty: fixed(Tag::LeavesQty, qty)?,
                    fee,
                })
            })();
            prop_assert_eq!(decode_execution_report(&p, price, qty), want);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_always_progress(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut buf = &data[..];
            let mut steps = 0;
            while !buf.is_empty() {
                steps += 1;
                prop_assert!(steps <= data.len() + 1);
                match frame(buf) {
                    Frame::Complete(n) => { let _ = Message::parse(&buf[..n]); buf = &buf[n..]; }
                    Frame::Incomplete => break,
                    Frame::Garbled { skip, .. } => { prop_assert!(skip >= 1 && skip <= buf.len()); buf = &buf[skip..]; }
                }
            }
        }

        #[test]
        fn whole_messages_are_framed_as_the_general_path_frames_them(
            body_len in 0usize..1100,
            damages in proptest::collection::vec(damage(), 0..3),
            cut in prop_oneof![Just(0usize), 1usize..10],
            more in proptest::collection::vec(any::<u8>(), 0..12),
        ) {
            // Bodies with 1 to 4 digits of BodyLength, damaged now and then, cut short, or
            // followed by more bytes.
            let mut body = String::from("35=0|");
            while body.len() < body_len {
                body.push_str(&format!("58={}|", "x".repeat(body.len() % 7 + 1)));
            }
            let mut m = msg(&body);
            apply_damage(&mut m, &damages);
            m.truncate(m.len().saturating_sub(cut));
            m.extend_from_slice(&more);
            prop_assert_eq!(frame(&m), frame_other(&m), "{:?}", String::from_utf8_lossy(&m));
        }

        #[test]
        fn valid_messages_survive_any_split(cut in 0usize..200, junk in proptest::collection::vec(any::<u8>(), 0..20)) {
            let m = msg(ER);
            let cut = cut.min(m.len());
            prop_assert_eq!(frame(&m[..cut]), if cut == m.len() { Frame::Complete(m.len()) } else { Frame::Incomplete });
            // Junk in front is skipped and the message is still found.
            let mut buf = junk.clone();
            buf.extend_from_slice(&m);
            let mut at = 0;
            loop {
                match frame(&buf[at..]) {
                    Frame::Complete(n) => { prop_assert_eq!(&buf[at..at + n], &m[..]); break; }
                    Frame::Garbled { skip, .. } => at += skip,
                    Frame::Incomplete => prop_assert!(false, "stalled at {}", at),
                }
            }
        }
    }
}
