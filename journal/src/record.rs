//! Records as readers hand them out.

/// One record, borrowed from the mapped segment it lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Sequence number: dense, from 0, one per record in the whole journal.
    pub seq: u64,
    /// Timestamp the engine gave the record, ns.
    pub ts_ns: i64,
    /// Record type the engine gave the record.
    pub kind: u16,
    /// Payload bytes, CRC-checked.
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// Copies the record out of the map.
    pub fn to_owned_record(&self) -> OwnedRecord {
        OwnedRecord {
            seq: self.seq,
            ts_ns: self.ts_ns,
            kind: self.kind,
            payload: self.payload.to_vec(),
        }
    }
}

/// A record copied out of its segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedRecord {
    /// Sequence number.
    pub seq: u64,
    /// Timestamp, ns.
    pub ts_ns: i64,
    /// Record type.
    pub kind: u16,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Where a reader or tailer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The first record still in the journal.
    Beginning,
    /// The record with this sequence number (or, for the next one to be written, the moment
    /// it is).
    Seq(u64),
    /// The first record whose timestamp is at or after this one, ns. Exact when timestamps
    /// never go backwards, which the search assumes.
    Time(i64),
    /// After the last record present: only records appended from now on.
    End,
}
