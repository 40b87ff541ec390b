//! The on-disk layout: segment files, their header, and record frames.
//!
//! A journal is a directory of segment files named `{index:020}.tlj`, each pre-allocated to
//! its capacity and filled front to back. All integers are little-endian.
//!
//! ```text
//! segment file
//! +--------+-------+---------------------------------------------------------------+
//! | offset | bytes | segment header (64 bytes)                                     |
//! +--------+-------+---------------------------------------------------------------+
//! |      0 |     8 | magic "TICKLJNL" (all zero: segment prepared, not started)    |
//! |      8 |     2 | format version (1)                                            |
//! |     10 |     2 | segment header length (64)                                    |
//! |     12 |     2 | record header length (32)                                     |
//! |     14 |     2 | reserved, 0                                                   |
//! |     16 |     8 | segment index (matches the file name)                         |
//! |     24 |     8 | sequence number of the first record in this segment           |
//! |     32 |     8 | created: wall clock, ns since the Unix epoch (i64)            |
//! |     40 |     8 | capacity: file size in bytes                                  |
//! |     48 |    12 | reserved, 0                                                   |
//! |     60 |     4 | CRC32C of bytes 0..60                                         |
//! +--------+-------+---------------------------------------------------------------+
//! |     64 |   ... | records, back to back, each 8-byte aligned; then zeros        |
//! +--------+-------+---------------------------------------------------------------+
//!
//! record frame (offsets from the frame start, which is 8-byte aligned)
//! +--------+-------+---------------------------------------------------------------+
//! |      0 |     4 | payload length in bytes (u32)                                 |
//! |      4 |     2 | record type (u16, chosen by the engine)                       |
//! |      6 |     2 | marker 0x544c; bytes 0..8 all zero mean "no record here yet"  |
//! |      8 |     8 | sequence number (u64), one more than the previous record's    |
//! |     16 |     8 | timestamp, ns (i64, chosen by the engine)                     |
//! |     24 |     4 | CRC32C of bytes 0..24 followed by the payload                 |
//! |     28 |     4 | reserved, 0                                                   |
//! |     32 |   len | payload                                                       |
//! |  32+len|  0..7 | zero padding to the next multiple of 8                        |
//! +--------+-------+---------------------------------------------------------------+
//! ```
//!
//! The writer fills in bytes 8.. of a frame first and its first 8 bytes last, behind a release
//! fence; readers load those 8 bytes, then an acquire fence, then the rest. So a reader in
//! another process sees a record whole or not at all, and a writer killed mid-record leaves
//! a zero first word that recovery treats as the end of data (and zeroes what follows).
//! The segment header is published the same way, magic last.

use std::sync::atomic::{fence, Ordering};

use crate::crc;
use crate::error::Problem;
use crate::prefetch;

/// Segment file magic, bytes 0..8 of every started segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"TICKLJNL";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Bytes in a segment header; the first record starts here.
pub const SEGMENT_HEADER_LEN: usize = 64;
/// Bytes in a record frame header, before the payload.
pub const FRAME_HEADER_LEN: usize = 32;
/// Record marker, bytes 6..8 of every frame.
pub const FRAME_MAGIC: u16 = 0x544c;
/// Alignment of every frame.
pub const FRAME_ALIGN: usize = 8;
/// Segment file name extension.
pub const SEGMENT_EXT: &str = "tlj";

/// Bytes a record with `payload_len` bytes of payload takes in a segment, header and padding
/// included. `payload_len` must be a valid payload length (at most `u32::MAX`).
#[inline]
pub const fn frame_len(payload_len: usize) -> usize {
    FRAME_HEADER_LEN + align8(payload_len)
}

/// The largest payload a segment of `capacity` bytes can hold.
pub const fn max_payload(capacity: u64) -> usize {
    let room = capacity.saturating_sub((SEGMENT_HEADER_LEN + FRAME_HEADER_LEN) as u64) & !7;
    if room > u32::MAX as u64 {
        (u32::MAX as usize) & !7
    } else {
        room as usize
    }
}

#[inline]
const fn align8(n: usize) -> usize {
    (n + (FRAME_ALIGN - 1)) & !(FRAME_ALIGN - 1)
}

/// The length of every segment's file name: 20 digits (`u64::MAX` has 20), a dot, the
/// extension.
pub const SEGMENT_FILE_NAME_LEN: usize = 20 + 1 + SEGMENT_EXT.len();

/// The file name of segment `index`.
pub fn segment_file_name(index: u64) -> String {
    let mut buf = [0u8; SEGMENT_FILE_NAME_LEN];
    write_segment_file_name(index, &mut buf).to_owned()
}

/// Writes the file name of segment `index` into `buf` and returns it, without allocating
/// (the segment preparer names a file on every roll).
pub fn write_segment_file_name(index: u64, buf: &mut [u8; SEGMENT_FILE_NAME_LEN]) -> &str {
    use std::io::Write as _;
    // Every name is exactly the buffer's length, so the write cannot fall short; it writes
    // only ASCII, so the bytes are UTF-8.
    let _ = write!(&mut buf[..], "{index:020}.{SEGMENT_EXT}");
    std::str::from_utf8(buf).unwrap_or_default()
}

/// The segment index in a file name, if the name is a segment's.
pub fn parse_segment_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(SEGMENT_EXT)?.strip_suffix('.')?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Segment index, as in the file name.
    pub index: u64,
    /// Sequence number of the segment's first record.
    pub first_seq: u64,
    /// When the writer started the segment, ns since the Unix epoch.
    pub created_ns: i64,
    /// Segment file size in bytes.
    pub capacity: u64,
}

impl SegmentHeader {
    /// The header's 64 bytes.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&SEGMENT_MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[10..12].copy_from_slice(&(SEGMENT_HEADER_LEN as u16).to_le_bytes());
        b[12..14].copy_from_slice(&(FRAME_HEADER_LEN as u16).to_le_bytes());
        b[16..24].copy_from_slice(&self.index.to_le_bytes());
        b[24..32].copy_from_slice(&self.first_seq.to_le_bytes());
        b[32..40].copy_from_slice(&self.created_ns.to_le_bytes());
        b[40..48].copy_from_slice(&self.capacity.to_le_bytes());
        let crc = crc32c::crc32c(&b[..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes the first bytes of a segment file. `Ok(None)` means the segment was prepared
    /// but never started (zero magic).
    pub fn decode(b: &[u8]) -> Result<Option<SegmentHeader>, Problem> {
        let magic = &b[..b.len().min(8)];
        if magic.iter().all(|&x| x == 0) {
            return Ok(None);
        }
        if b.len() < SEGMENT_HEADER_LEN {
            return Err(Problem::HeaderTooShort { len: b.len() as u64 });
        }
        if magic != SEGMENT_MAGIC {
            return Err(Problem::BadSegmentMagic);
        }
        let version = u16_at(b, 8);
        if version != FORMAT_VERSION {
            return Err(Problem::UnsupportedVersion { found: version });
        }
        let stored = u32_at(b, 60);
        let computed = crc32c::crc32c(&b[..60]);
        if stored != computed {
            return Err(Problem::HeaderCrcMismatch { stored, computed });
        }
        if usize::from(u16_at(b, 10)) != SEGMENT_HEADER_LEN
            || usize::from(u16_at(b, 12)) != FRAME_HEADER_LEN
        {
            return Err(Problem::BadHeaderField { what: "header lengths" });
        }
        if u16_at(b, 14) != 0 || b[48..60].iter().any(|&x| x != 0) {
            return Err(Problem::BadHeaderField { what: "reserved bytes" });
        }
        let capacity = u64_at(b, 40);
        if capacity < (SEGMENT_HEADER_LEN + FRAME_HEADER_LEN) as u64 {
            return Err(Problem::BadHeaderField { what: "capacity" });
        }
        Ok(Some(SegmentHeader {
            index: u64_at(b, 16),
            first_seq: u64_at(b, 24),
            created_ns: u64_at(b, 32) as i64,
            capacity,
        }))
    }
}

/// Publishes a segment header into a mapped, zeroed segment: everything but the magic first,
/// then the magic behind a release fence, so a header is seen whole or not at all.
pub(crate) fn write_segment_header(dst: &mut [u8], header: &SegmentHeader) {
    let bytes = header.encode();
    dst[8..SEGMENT_HEADER_LEN].copy_from_slice(&bytes[8..]);
    fence(Ordering::Release);
    dst[..8].copy_from_slice(&bytes[..8]);
}

/// A record frame that passed its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameInfo {
    pub kind: u16,
    pub seq: u64,
    pub ts: i64,
    pub payload_len: usize,
    pub frame_len: usize,
}

/// What is at an offset of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FrameRead {
    /// A valid record.
    Frame(FrameInfo),
    /// No record: a zero first word, or no room left for a frame header.
    End,
    /// Something that is not a valid record.
    Bad(Problem),
}

/// Writes one frame at the start of `dst`, which must be `frame_len(payload.len())` bytes of
/// a mapped segment, all zero. The first 8 bytes go last, behind a release fence.
#[inline]
pub(crate) fn write_frame(dst: &mut [u8], kind: u16, seq: u64, ts: i64, payload: &[u8]) {
    let len = payload.len();
    let word = (len as u64) | (u64::from(kind) << 32) | (u64::from(FRAME_MAGIC) << 48);
    let (hdr, body) = dst.split_at_mut(FRAME_HEADER_LEN);
    hdr[8..16].copy_from_slice(&seq.to_le_bytes());
    hdr[16..24].copy_from_slice(&ts.to_le_bytes());
    hdr[28..32].fill(0);
    // The padding as one word store, before the payload that overwrites the rest of that
    // word (a variable-length fill would be a `memset` call on every append).
    if let Some(last) = body.len().checked_sub(FRAME_ALIGN) {
        body[last..last + FRAME_ALIGN].copy_from_slice(&[0; FRAME_ALIGN]);
    }
    let data = &mut body[..len];
    data.copy_from_slice(payload);
    // Checksum what landed in the map (still in L1), so the CRC vouches for those bytes.
    let crc = crc::frame([word, seq, ts as u64], data);
    hdr[24..28].copy_from_slice(&crc.to_le_bytes());
    fence(Ordering::Release);
    hdr[0..8].copy_from_slice(&word.to_le_bytes());
}

/// Reads the frame at `off` of `seg`. `expect` is the sequence the frame must carry, when
/// known; `check_crc` also checks the CRC and padding (hops that only need offsets skip it).
/// Never panics, whatever the bytes.
///
/// Every recovery scan, reader step and verify pass runs this once per record, so each
/// header field is read from the map exactly once (the CRC is computed over those values,
/// not over a second read) and the bounds are checked once per frame, not per field.
#[inline]
pub(crate) fn read_frame(
    seg: &[u8],
    off: usize,
    expect: Option<u64>,
    check_crc: bool,
) -> FrameRead {
    let Some((head, after)) =
        seg.get(off..).and_then(<[u8]>::split_first_chunk::<FRAME_HEADER_LEN>)
    else {
        return FrameRead::End;
    };
    let word = le64(head, 0);
    if word == 0 {
        return FrameRead::End;
    }
    // Scans call this record after record; start loading the next page now.
    prefetch::page_ahead(seg, off);
    // Pairs with the writer's release fence before it stored `word`.
    fence(Ordering::Acquire);
    let magic = (word >> 48) as u16;
    if magic != FRAME_MAGIC {
        return FrameRead::Bad(Problem::BadFrameMagic { found: magic });
    }
    let reserved = le32(head, 28);
    if reserved != 0 {
        return FrameRead::Bad(Problem::ReservedNonZero { found: reserved });
    }
    let len = word as u32;
    let padded = (u64::from(len) + 7) & !7;
    let Some(body) = usize::try_from(padded).ok().and_then(|p| after.get(..p)) else {
        return FrameRead::Bad(Problem::LengthOutOfBounds { len, room: after.len() as u64 });
    };
    let payload_len = len as usize;
    let seq = le64(head, 8);
    let ts = le64(head, 16);
    if check_crc {
        let (payload, pad) = body.split_at(payload_len.min(body.len()));
        let stored = le32(head, 24);
        let computed = crc::frame([word, seq, ts], payload);
        if stored != computed {
            return FrameRead::Bad(Problem::CrcMismatch { stored, computed });
        }
        if pad.iter().any(|&b| b != 0) {
            return FrameRead::Bad(Problem::PaddingNonZero);
        }
    }
    if let Some(expected) = expect {
        if seq != expected {
            return FrameRead::Bad(Problem::SequenceMismatch { expected, found: seq });
        }
    }
    FrameRead::Frame(FrameInfo {
        kind: (word >> 32) as u16,
        seq,
        ts: ts as i64,
        payload_len,
        frame_len: FRAME_HEADER_LEN + body.len(),
    })
}

/// The first valid frame (CRC checked) at or after `from` whose sequence is at least
/// `min_seq`: where data resumes after a bad record, if it does.
pub(crate) fn find_next_frame(seg: &[u8], from: usize, min_seq: u64) -> Option<(usize, FrameInfo)> {
    let mut off = align8(from);
    while off.checked_add(FRAME_HEADER_LEN).is_some_and(|end| end <= seg.len()) {
        // Cheap pre-filter: marker and reserved word, before paying for a CRC.
        if u16_at(seg, off + 6) == FRAME_MAGIC && u32_at(seg, off + 28) == 0 {
            if let FrameRead::Frame(f) = read_frame(seg, off, None, true) {
                if f.seq >= min_seq {
                    return Some((off, f));
                }
            }
        }
        off += FRAME_ALIGN;
    }
    None
}

/// The first and last non-zero byte offsets in `b`, if any.
pub(crate) fn nonzero_span(b: &[u8]) -> Option<(usize, usize)> {
    let first = first_nonzero(b)?;
    // Search back from the end only as far as `first`: after a torn record near the start
    // of a large segment, the rest of it is zeros.
    let last = last_nonzero(&b[first..]).map_or(first, |i| first + i);
    Some((first, last))
}

/// Bytes tested together by the zero scans: a block the compiler ORs together with vector
/// instructions, so the scans (recovery and verify run them over the unused rest of a
/// segment, up to a whole segment) go at memory speed.
const ZERO_BLOCK: usize = 64;

/// Whether `block` is all zero. A fixed-size array, so the OR is unrolled into vector
/// instructions (over a slice of unknown length it stays a byte loop). A chunk that is not
/// `ZERO_BLOCK` long (never, from the exact chunkers below) counts as non-zero, which only
/// sends the caller to its byte-wise search.
#[inline]
fn is_zero(block: &[u8]) -> bool {
    <&[u8; ZERO_BLOCK]>::try_from(block).is_ok_and(|b| b.iter().fold(0, |acc, &x| acc | x) == 0)
}

fn first_nonzero(b: &[u8]) -> Option<usize> {
    let mut blocks = b.chunks_exact(ZERO_BLOCK);
    let mut base = 0;
    for c in blocks.by_ref() {
        if !is_zero(c) {
            return c.iter().position(|&x| x != 0).map(|i| base + i);
        }
        base += ZERO_BLOCK;
    }
    blocks.remainder().iter().position(|&x| x != 0).map(|i| base + i)
}

fn last_nonzero(b: &[u8]) -> Option<usize> {
    let mut blocks = b.rchunks_exact(ZERO_BLOCK);
    let mut end = b.len();
    for c in blocks.by_ref() {
        if !is_zero(c) {
            return c.iter().rposition(|&x| x != 0).map(|i| end - ZERO_BLOCK + i);
        }
        end -= ZERO_BLOCK;
    }
    // `rchunks_exact` leaves its remainder at the front.
    blocks.remainder().iter().rposition(|&x| x != 0)
}

/// Little-endian fields of a frame header already bounds-checked as a whole.
#[inline]
fn le64(head: &[u8; FRAME_HEADER_LEN], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&head[at..at + 8]);
    u64::from_le_bytes(x)
}

#[inline]
fn le32(head: &[u8; FRAME_HEADER_LEN], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&head[at..at + 4]);
    u32::from_le_bytes(x)
}

#[inline]
fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

#[inline]
fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(kind: u16, seq: u64, ts: i64, payload: &[u8]) -> Vec<u8> {
        let mut buf = vec![0u8; frame_len(payload.len())];
        write_frame(&mut buf, kind, seq, ts, payload);
        buf
    }

    #[test]
    fn header_round_trip() {
        let h = SegmentHeader { index: 7, first_seq: 12345, created_ns: -5, capacity: 1 << 20 };
        assert_eq!(SegmentHeader::decode(&h.encode()), Ok(Some(h)));
        assert_eq!(SegmentHeader::decode(&[0u8; 64]), Ok(None));
        assert_eq!(SegmentHeader::decode(&[]), Ok(None));
    }

    #[test]
    fn header_damage_is_named() {
        let h = SegmentHeader { index: 1, first_seq: 2, created_ns: 3, capacity: 1 << 16 };
        let mut b = h.encode();
        b[20] ^= 1;
        assert!(matches!(SegmentHeader::decode(&b), Err(Problem::HeaderCrcMismatch { .. })));
        let mut b = h.encode();
        b[0] = b'X';
        assert_eq!(SegmentHeader::decode(&b), Err(Problem::BadSegmentMagic));
        let mut b = h.encode();
        b[8] = 9;
        assert_eq!(SegmentHeader::decode(&b), Err(Problem::UnsupportedVersion { found: 9 }));
        assert_eq!(
            SegmentHeader::decode(&h.encode()[..30]),
            Err(Problem::HeaderTooShort { len: 30 })
        );
    }

    #[test]
    fn names() {
        assert_eq!(segment_file_name(42), "00000000000000000042.tlj");
        assert_eq!(parse_segment_file_name("00000000000000000042.tlj"), Some(42));
        assert_eq!(parse_segment_file_name("0000000000000000042.tlj"), None);
        assert_eq!(parse_segment_file_name("00000000000000000042.tlx"), None);
        assert_eq!(parse_segment_file_name("+0000000000000000042.tlj"), None);
        assert_eq!(parse_segment_file_name(&segment_file_name(u64::MAX)), Some(u64::MAX));
        assert_eq!(segment_file_name(0), "00000000000000000000.tlj");
        assert_eq!(segment_file_name(u64::MAX), "18446744073709551615.tlj");
        for i in [1, 9, 10, 99, 12_345_678_901, u64::MAX / 7] {
            assert_eq!(segment_file_name(i), format!("{i:020}.tlj"));
        }
    }

    /// Every byte of a frame is written (padding and reserved word included), so a frame is
    /// valid whatever the bytes under it were; and its CRC is the documented one,
    /// CRC32C(bytes 0..24 ++ payload), which is what other readers of the format compute.
    #[test]
    fn frame_bytes_and_crc_are_the_documented_ones() {
        for len in 0..=40 {
            let payload: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(31) ^ 0xa5).collect();
            let mut buf = vec![0xffu8; frame_len(len) + 8];
            write_frame(&mut buf[..frame_len(len)], 9, 77, -3, &payload);
            let f = match read_frame(&buf, 0, Some(77), true) {
                FrameRead::Frame(f) => f,
                other => panic!("len {len}: {other:?}"),
            };
            assert_eq!((f.kind, f.seq, f.ts, f.payload_len), (9, 77, -3, len));
            assert_eq!(&buf[frame_len(len)..], &[0xff; 8], "len {len}: wrote past the frame");
            let crc = crc32c::crc32c_append(crc32c::crc32c(&buf[..24]), &payload);
            assert_eq!(u32_at(&buf, 24), crc, "len {len}");
            assert_eq!(
                buf,
                encode(9, 77, -3, &payload).into_iter().chain([0xff; 8]).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn zero_word_is_end_and_short_room_is_end() {
        let buf = [0u8; 64];
        assert_eq!(read_frame(&buf, 0, Some(0), true), FrameRead::End);
        assert_eq!(read_frame(&buf, 40, Some(0), true), FrameRead::End);
        assert_eq!(read_frame(&buf, usize::MAX - 3, Some(0), true), FrameRead::End);
    }

    #[test]
    fn nonzero_span_finds_edges() {
        let mut b = vec![0u8; 100];
        assert_eq!(nonzero_span(&b), None);
        b[13] = 1;
        b[97] = 2;
        assert_eq!(nonzero_span(&b), Some((13, 97)));
    }

    proptest! {
        /// The block-wise zero scans agree with a byte-wise search, whatever the length
        /// (blocks and remainders at either end) and wherever the non-zero bytes are.
        #[test]
        fn nonzero_span_matches_bytewise(len in 0usize..400, marks in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 0..4)) {
            let mut b = vec![0u8; len];
            if len > 0 {
                for (at, v) in &marks {
                    b[at.index(len)] = *v;
                }
            }
            let first = b.iter().position(|&x| x != 0);
            let want = first.map(|f| (f, b.iter().rposition(|&x| x != 0).unwrap()));
            prop_assert_eq!(nonzero_span(&b), want);
        }
    }

    proptest! {
        #[test]
        fn frame_round_trip(kind: u16, seq: u64, ts: i64, payload in proptest::collection::vec(any::<u8>(), 0..300)) {
            let buf = encode(kind, seq, ts, &payload);
            prop_assert_eq!(buf.len() % 8, 0);
            let f = match read_frame(&buf, 0, Some(seq), true) {
                FrameRead::Frame(f) => f,
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            prop_assert_eq!((f.kind, f.seq, f.ts, f.payload_len, f.frame_len),
                (kind, seq, ts, payload.len(), buf.len()));
            prop_assert_eq!(&buf[FRAME_HEADER_LEN..FRAME_HEADER_LEN + payload.len()], &payload[..]);
        }

        /// Every byte of a frame is covered: flipping any bit makes it invalid or the end.
        #[test]
        fn any_bit_flip_is_caught(seq: u64, payload in proptest::collection::vec(any::<u8>(), 0..64), at: prop::sample::Index, bit in 0u8..8) {
            let mut buf = encode(3, seq, 99, &payload);
            let i = at.index(buf.len());
            buf[i] ^= 1 << bit;
            prop_assert!(!matches!(read_frame(&buf, 0, Some(seq), true), FrameRead::Frame(_)));
        }

        #[test]
        fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256), off in 0usize..300) {
            let _ = read_frame(&bytes, off, None, true);
            let _ = find_next_frame(&bytes, off, 0);
            let _ = SegmentHeader::decode(&bytes);
        }
    }
}
