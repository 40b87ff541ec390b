//! Records: what hot threads hand the journal, one fixed-size slot per event.
//!
//! Each hot thread publishes a [`Record`] per event it handles on its record ring; the journal
//! thread is that ring's consumer. A record is the event's own bytes behind an 8-byte header,
//! so recording is the ring hand-off itself and nothing else.

use crate::risk::RiskReject;
use crate::types::{ExecReport, Nanos, Order, OrderIntent, Tick};

/// Largest event payload, bytes.
pub const MAX_RECORD_PAYLOAD: usize = 80;

/// What a record holds. The numbers are the journal's record types: never reuse one.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, bytemuck::NoUninit, bytemuck::CheckedBitPattern,
)]
#[repr(u16)]
pub enum RecordKind {
    /// A [`Tick`] the strategy stage received.
    Tick = 1,
    /// An [`OrderIntent`] a strategy emitted.
    Intent = 2,
    /// An [`Order`] risk approved (the decision "approved").
    Approved = 3,
    /// A [`RiskReject`] (the decision "rejected", with its reason).
    Rejected = 4,
    /// An [`ExecReport`] from a venue.
    Exec = 5,
    /// A [`ControlRecord`]: an operator command and what became of it.
    Control = 6,
    /// The engine halted trading on its own account, where no command or risk decision
    /// records it (shutdown): a [`ControlRecord`] whose `command` is the
    /// [`crate::risk::HaltCause`] code, so a replay halts at the same point.
    Halt = 7,
    /// The effective config at start-up (JSON written by `tools`; never on a ring).
    Config = 8,
    /// A session start: process, time, first client order id (JSON written by `tools`;
    /// never on a ring).
    Session = 9,
    /// The venue session's sequence numbers as the gateway last saved them
    /// ([`VenueSeqRecord`]): a FIX session's, checkpointed by the recorder when they move
    /// (written by `tools`; never on a ring).
    VenueSeq = 10,
}

impl RecordKind {
    /// Stable lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            RecordKind::Tick => "tick",
            RecordKind::Intent => "intent",
            RecordKind::Approved => "approved",
            RecordKind::Rejected => "rejected",
            RecordKind::Exec => "exec",
            RecordKind::Control => "control",
            RecordKind::Halt => "halt",
            RecordKind::Config => "config",
            RecordKind::Session => "session",
            RecordKind::VenueSeq => "venue_seq",
        }
    }

    /// From the journal's record type number.
    pub const fn from_u16(v: u16) -> Option<RecordKind> {
        Some(match v {
            1 => RecordKind::Tick,
            2 => RecordKind::Intent,
            3 => RecordKind::Approved,
            4 => RecordKind::Rejected,
            5 => RecordKind::Exec,
            6 => RecordKind::Control,
            7 => RecordKind::Halt,
            8 => RecordKind::Config,
            9 => RecordKind::Session,
            10 => RecordKind::VenueSeq,
            _ => return None,
        })
    }
}

/// An operator command as journaled: what, when, from where, and whether it was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::AnyBitPattern)]
#[repr(C)]
pub struct ControlRecord {
    /// When it was applied (or refused).
    pub ts: Nanos,
    /// [`crate::runtime::Command::code`].
    pub command: u8,
    /// 1 if applied, 0 if refused.
    pub accepted: u8,
    /// Bytes of `text` used.
    pub text_len: u8,
    /// Reserved, zero.
    pub reserved: [u8; 5],
    /// `"<command> | <origin> | <result>"`, UTF-8, truncated to 64 bytes.
    pub text: [u8; 64],
}

const _: () = assert!(std::mem::size_of::<ControlRecord>() == 80);

impl ControlRecord {
    /// A record of `text` (truncated at a character boundary to 64 bytes).
    pub fn new(ts: Nanos, command: u8, accepted: bool, text: &str) -> ControlRecord {
        let mut end = text.len().min(64);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut buf = [0u8; 64];
        buf[..end].copy_from_slice(&text.as_bytes()[..end]);
        ControlRecord {
            ts,
            command,
            accepted: u8::from(accepted),
            text_len: end as u8,
            reserved: [0; 5],
            text: buf,
        }
    }

    /// The text.
    pub fn text(&self) -> &str {
        let n = usize::from(self.text_len).min(64);
        std::str::from_utf8(&self.text[..n]).unwrap_or("<invalid utf-8>")
    }
}

/// A venue session's sequence numbers: the next outbound and the next expected inbound
/// (FIX `MsgSeqNum`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit, bytemuck::AnyBitPattern)]
#[repr(C)]
pub struct VenueSeqRecord {
    /// Next outbound sequence number.
    pub next_out: u64,
    /// Next inbound sequence number expected.
    pub next_in: u64,
}

const _: () = assert!(std::mem::size_of::<VenueSeqRecord>() == 16);

/// One event on its way to the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit)]
#[repr(C)]
pub struct Record {
    /// When the event was handled.
    pub ts: Nanos,
    /// What it is.
    pub kind: RecordKind,
    /// Payload bytes used.
    pub len: u16,
    /// Reserved, zero.
    pub reserved: u32,
    payload: [u64; MAX_RECORD_PAYLOAD / 8],
}

const _: () = assert!(std::mem::size_of::<Record>() == 96);

/// A decoded record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordBody {
    /// A tick.
    Tick(Tick),
    /// An intent.
    Intent(OrderIntent),
    /// An approved order.
    Approved(Order),
    /// A rejected intent.
    Rejected(RiskReject),
    /// An execution report.
    Exec(ExecReport),
    /// An operator command.
    Control(ControlRecord),
    /// A halt the engine made on its own account.
    Halt(ControlRecord),
    /// A venue session's sequence numbers.
    VenueSeq(VenueSeqRecord),
}

impl Record {
    #[inline(always)]
    fn of<T: bytemuck::NoUninit>(kind: RecordKind, ts: Nanos, value: &T) -> Record {
        const { assert!(std::mem::size_of::<T>() <= MAX_RECORD_PAYLOAD) };
        let mut payload = [0u64; MAX_RECORD_PAYLOAD / 8];
        let bytes = bytemuck::bytes_of(value);
        bytemuck::cast_slice_mut::<u64, u8>(&mut payload)[..bytes.len()].copy_from_slice(bytes);
        Record { ts, kind, len: bytes.len() as u16, reserved: 0, payload }
    }

    /// A tick record.
    #[inline]
    pub fn tick(ts: Nanos, t: &Tick) -> Record {
        Record::of(RecordKind::Tick, ts, t)
    }
    /// An intent record.
    #[inline]
    pub fn intent(ts: Nanos, i: &OrderIntent) -> Record {
        Record::of(RecordKind::Intent, ts, i)
    }
    /// An approval record.
    #[inline]
    pub fn approved(ts: Nanos, o: &Order) -> Record {
        Record::of(RecordKind::Approved, ts, o)
    }
    /// A reject record.
    #[inline]
    pub fn rejected(ts: Nanos, r: &RiskReject) -> Record {
        Record::of(RecordKind::Rejected, ts, r)
    }
    /// An execution report record.
    #[inline]
    pub fn exec(ts: Nanos, r: &ExecReport) -> Record {
        Record::of(RecordKind::Exec, ts, r)
    }

    /// A control record.
    #[inline]
    pub fn control(ts: Nanos, c: &ControlRecord) -> Record {
        Record::of(RecordKind::Control, ts, c)
    }

    /// A record of a halt the engine made on its own account (shutdown).
    #[inline]
    pub fn halt(ts: Nanos, c: &ControlRecord) -> Record {
        Record::of(RecordKind::Halt, ts, c)
    }

    /// A venue sequence-number checkpoint.
    #[inline]
    pub fn venue_seq(ts: Nanos, v: &VenueSeqRecord) -> Record {
        Record::of(RecordKind::VenueSeq, ts, v)
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        let all = bytemuck::cast_slice::<u64, u8>(&self.payload);
        &all[..usize::from(self.len).min(MAX_RECORD_PAYLOAD)]
    }

    /// Decodes a payload read back from the journal; `None` if the bytes are not a valid value
    /// of the kind (wrong length, invalid enum byte).
    pub fn decode(kind: RecordKind, payload: &[u8]) -> Option<RecordBody> {
        fn read<T: bytemuck::CheckedBitPattern>(b: &[u8]) -> Option<T> {
            bytemuck::checked::try_pod_read_unaligned::<T>(b).ok()
        }
        Some(match kind {
            RecordKind::Tick => RecordBody::Tick(read(payload)?),
            RecordKind::Intent => RecordBody::Intent(read(payload)?),
            RecordKind::Approved => RecordBody::Approved(read(payload)?),
            RecordKind::Rejected => RecordBody::Rejected(read(payload)?),
            RecordKind::Exec => RecordBody::Exec(read(payload)?),
            RecordKind::Control => RecordBody::Control(read(payload)?),
            RecordKind::Halt => RecordBody::Halt(read(payload)?),
            RecordKind::VenueSeq => RecordBody::VenueSeq(read(payload)?),
            // Variable-length JSON, decoded by `tools`.
            RecordKind::Config | RecordKind::Session => return None,
        })
    }
}

/// Where a recorder thread puts records (the journal implements it).
pub trait RecordSink: Send {
    /// Stores one record. An error stops recording and halts trading: nothing unrecorded may
    /// reach a venue.
    fn record(&mut self, record: &Record) -> std::io::Result<()>;

    /// Makes what was recorded durable per the sink's mode (called when idle and at shutdown).
    fn flush(&mut self) -> std::io::Result<()>;

    /// The OS thread ids of threads the sink runs beside the recorder (a journal's segment
    /// and msync threads). A pipeline whose hot threads are pinned moves them to its cold
    /// core ([`crate::runtime::Plan::cold_core`]).
    fn helper_threads(&self) -> Vec<i32> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Aggressor, InstrumentId, Level, Px, Qty};

    #[test]
    fn round_trips_through_bytes_and_rejects_garbage() {
        let l = Level { px: Px::from_raw(5), qty: Qty::from_raw(2) };
        let t = Tick::trade(InstrumentId(4), l, Aggressor::Buy, 77, Nanos(1), Nanos(2));
        let r = Record::tick(Nanos(3), &t);
        assert_eq!(r.payload().len(), 64);
        assert_eq!(Record::decode(r.kind, r.payload()), Some(RecordBody::Tick(t)));
        let mut bad = r.payload().to_vec();
        bad[62] = 9; // invalid TickKind
        assert_eq!(Record::decode(RecordKind::Tick, &bad), None);
        assert_eq!(Record::decode(RecordKind::Exec, r.payload()), None, "wrong length");
        assert_eq!(RecordKind::from_u16(4), Some(RecordKind::Rejected));
        assert_eq!(RecordKind::from_u16(0), None);
    }
}
