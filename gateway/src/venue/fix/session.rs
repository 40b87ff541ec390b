//! The FIX 4.4 session layer, without I/O: bytes in, bytes out, events to the adapter.
//!
//! The transport copies socket bytes into [`Session::recv_buf`] and socket-ready output out of
//! [`Session::output`]; [`Session::process`] applies the session rules to every complete
//! message and hands in-sequence application messages to the adapter; [`Session::timer`]
//! sends heartbeats and test requests and notices a silent peer. Tests drive it with crafted
//! bytes and no socket.
//!
//! Rules (FIX 4.4 session layer):
//! - garbled messages (bad `BeginString`, `BodyLength`, `CheckSum`) are discarded without
//!   touching the expected sequence number;
//! - a message without a usable `MsgSeqNum`, with the wrong comp ids, or a sequence number
//!   lower than expected without `PossDupFlag=Y`, ends the session with a `Logout`;
//! - a sequence number higher than expected sends one `ResendRequest` (begin = expected,
//!   end = 0) and discards the message (it will be resent); `Logout` and `ResendRequest` are
//!   acted on even then;
//! - a `PossDupFlag=Y` duplicate below the expected number is ignored;
//! - a message with a structural problem, a missing required tag or an unknown `MsgType`
//!   gets a session `Reject` and consumes its sequence number;
//! - our side answers a `ResendRequest` with a `SequenceReset-GapFill` to the next number:
//!   orders are never replayed (a stale order resent is worse than a gap);
//! - `SequenceReset` with `GapFillFlag=Y` moves the expected number up when in sequence;
//!   without it (reset mode) it moves it regardless of `MsgSeqNum`, never down.
//!
//! Every case is counted in [`SessionStats`].

use std::sync::Arc;

use tickline_engine::telemetry::Counter;
use tickline_engine::types::{Action, ClientOrderId, Nanos};

use super::codec::decode::{
    frame, Frame, Garble, Message, Tag, CANCEL_REJECT_REQUIRED, EXEC_REPORT_REQUIRED,
};
use super::codec::encode::{
    new_order_single, order_cancel_replace_request, order_cancel_request, Encoder, OrderFields,
};
use super::codec::num::put_u64;
use super::codec::tags::{self, reject};

/// Receive buffer: two of the largest messages accepted.
const RECV_BUF: usize = 128 * 1024;
/// Send buffer: what may wait for a slow socket before the session gives up.
const SEND_BUF: usize = 256 * 1024;
/// Application messages remembered for mapping a `Reject`'s `RefSeqNum` to an order.
const SENT_RING: usize = 1024;

/// Session settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our `SenderCompID` (49).
    pub sender_comp_id: String,
    /// The venue's `CompID`: our `TargetCompID` (56).
    pub target_comp_id: String,
    /// `HeartBtInt` (108) in seconds, at least 1.
    pub heartbeat_secs: u32,
    /// Send `ResetSeqNumFlag=Y` on every Logon (both sides restart at 1).
    pub reset_on_logon: bool,
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// No connection.
    Disconnected,
    /// Connected, our Logon sent, the venue's not received.
    LogonSent,
    /// Logged on: orders may be sent.
    Active,
    /// Our Logout sent, waiting for the venue's.
    LogoutSent,
}

/// Why the session asked for the connection to be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DisconnectReason {
    /// No Logon answer in time.
    LogonTimeout,
    /// The venue did not answer a TestRequest within a heartbeat interval.
    HeartbeatTimeout,
    /// The venue logged out.
    LogoutReceived,
    /// Our Logout was answered (or not, in time).
    LoggedOut,
    /// A message below the expected sequence number without `PossDupFlag`.
    SeqTooLow,
    /// No usable `MsgSeqNum`.
    SeqMissing,
    /// The first message was not a Logon, or the Logon was unusable.
    BadLogon,
    /// `SenderCompID`/`TargetCompID` are not this session's.
    CompIdMismatch,
    /// The venue stopped reading and the send buffer filled.
    SendBufferFull,
}

/// A request of ours that the venue refused at the session level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SentApp {
    /// Its `MsgSeqNum`.
    pub seq: u64,
    /// New, cancel or replace.
    pub action: Action,
    /// Its `ClOrdID`.
    pub id: ClientOrderId,
    /// The order a cancel or replace was for.
    pub target: ClientOrderId,
}

/// What the session tells the adapter.
#[derive(Debug)]
pub enum SessionEvent<'a> {
    /// The venue accepted our Logon: orders may flow.
    LoggedOn,
    /// An in-sequence application message (ExecutionReport, OrderCancelReject).
    App(&'a Message<'a>),
    /// A `Reject` (3) or `BusinessMessageReject` (j) naming one of our requests.
    Refused(SentApp),
}

/// The adapter's verdict on an application message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Taken.
    Ok,
    /// Send a session `Reject` with this `SessionRejectReason` and `RefTagID`.
    Reject {
        /// `SessionRejectReason`.
        reason: u32,
        /// `RefTagID` (0 for none).
        tag: u32,
    },
}

/// Session counters, readable from any thread.
#[derive(Debug, Default)]
pub struct SessionStats {
    /// Messages received whole (any checksum-valid frame).
    pub messages_in: Counter,
    /// Messages sent.
    pub messages_out: Counter,
    /// Bytes discarded before a `8=FIX.4.4` (garbage, another version).
    pub bad_begin_string: Counter,
    /// Messages discarded for a bad `BodyLength`.
    pub bad_body_length: Counter,
    /// Messages discarded for a bad `CheckSum`.
    pub bad_checksum: Counter,
    /// Session `Reject`s we sent.
    pub rejects_sent: Counter,
    /// `Reject`s and `BusinessMessageReject`s we received.
    pub rejects_received: Counter,
    /// Messages with a required tag missing.
    pub required_tag_missing: Counter,
    /// Messages with an unknown `MsgType`.
    pub unknown_msg_types: Counter,
    /// Messages below the expected sequence number without `PossDupFlag` (session ended).
    pub seq_too_low: Counter,
    /// Sequence gaps detected.
    pub gaps: Counter,
    /// `ResendRequest`s we sent.
    pub resend_requests_sent: Counter,
    /// `ResendRequest`s we answered (with a gap fill).
    pub resend_requests_received: Counter,
    /// `SequenceReset`s applied (gap fill or reset).
    pub sequence_resets: Counter,
    /// `PossDupFlag=Y` duplicates ignored.
    pub duplicates_ignored: Counter,
    /// TestRequests we sent.
    pub test_requests_sent: Counter,
    /// TestRequests we answered.
    pub test_requests_received: Counter,
    /// Heartbeats that answered our TestRequest.
    pub test_requests_answered: Counter,
    /// Heartbeats received.
    pub heartbeats_in: Counter,
    /// Logons completed.
    pub logons: Counter,
    /// Logouts received.
    pub logouts_received: Counter,
}

/// Bytes waiting for the socket.
#[derive(Debug)]
struct OutBuf {
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl OutBuf {
    fn push(&mut self, msg: &[u8]) -> bool {
        if self.buf.len() - self.end < msg.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end < msg.len() {
                return false;
            }
        }
        self.buf[self.end..self.end + msg.len()].copy_from_slice(msg);
        self.end += msg.len();
        true
    }
}

/// One FIX session, initiator side.
#[derive(Debug)]
pub struct Session {
    cfg: SessionConfig,
    hb_ns: i64,
    state: SessionState,
    since: Nanos,
    next_out: u64,
    next_in: u64,
    seq_dirty: bool,
    enc: Encoder,
    inb: Box<[u8]>,
    in_len: usize,
    out: OutBuf,
    last_recv: Nanos,
    last_sent: Nanos,
    /// Our outstanding TestRequest: its id and when it went.
    test_req: Option<(u64, Nanos)>,
    test_req_counter: u64,
    /// A ResendRequest of ours is outstanding until the expected number passes this.
    resend_until: Option<u64>,
    resend_at: Nanos,
    sent: Vec<SentApp>,
    disconnect: Option<DisconnectReason>,
    stats: Arc<SessionStats>,
}

impl Session {
    /// A session that will continue from these sequence numbers.
    pub fn new(cfg: SessionConfig, next_out: u64, next_in: u64) -> Session {
        let hb = i64::from(cfg.heartbeat_secs.max(1)) * 1_000_000_000;
        let enc = Encoder::new(&cfg.sender_comp_id, &cfg.target_comp_id);
        let empty =
            SentApp { seq: 0, action: Action::New, id: ClientOrderId(0), target: ClientOrderId(0) };
        Session {
            cfg,
            hb_ns: hb,
            state: SessionState::Disconnected,
            since: Nanos::ZERO,
            next_out: next_out.max(1),
            next_in: next_in.max(1),
            seq_dirty: false,
            enc,
            inb: vec![0; RECV_BUF].into_boxed_slice(),
            in_len: 0,
            out: OutBuf { buf: vec![0; SEND_BUF].into_boxed_slice(), start: 0, end: 0 },
            last_recv: Nanos::ZERO,
            last_sent: Nanos::ZERO,
            test_req: None,
            test_req_counter: 0,
            resend_until: None,
            resend_at: Nanos::ZERO,
            sent: vec![empty; SENT_RING],
            disconnect: None,
            stats: Arc::new(SessionStats::default()),
        }
    }

    /// Counters.
    pub fn stats(&self) -> Arc<SessionStats> {
        Arc::clone(&self.stats)
    }

    /// Where the session is.
    #[inline]
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Whether orders may be sent.
    #[inline]
    pub fn is_active(&self) -> bool {
        self.state == SessionState::Active
    }

    /// `(next outbound, next expected inbound)` sequence numbers.
    #[inline]
    pub fn seqs(&self) -> (u64, u64) {
        (self.next_out, self.next_in)
    }

    /// Whether the sequence numbers moved since the last call.
    #[inline]
    pub fn take_seq_dirty(&mut self) -> bool {
        std::mem::take(&mut self.seq_dirty)
    }

    /// The connection the session asked to close, and why.
    #[inline]
    pub fn take_disconnect(&mut self) -> Option<DisconnectReason> {
        self.disconnect.take()
    }

    /// Whether a ResendRequest of ours is outstanding.
    pub fn resend_pending(&self) -> bool {
        self.resend_until.is_some()
    }

    // --- transport side -----------------------------------------------------------------

    /// The TCP connection is up: sends our Logon.
    pub fn connected(&mut self, now: Nanos) {
        self.in_len = 0;
        self.out.start = 0;
        self.out.end = 0;
        self.disconnect = None;
        self.test_req = None;
        self.resend_until = None;
        if self.cfg.reset_on_logon {
            self.next_out = 1;
            self.next_in = 1;
            self.seq_dirty = true;
        }
        self.state = SessionState::LogonSent;
        self.since = now;
        self.last_recv = now;
        let seq = self.take_out_seq();
        self.enc.begin(b"A", seq, now);
        self.enc.u64(tags::ENCRYPT_METHOD, 0);
        self.enc.u64(tags::HEART_BT_INT, u64::from(self.cfg.heartbeat_secs.max(1)));
        if self.cfg.reset_on_logon {
            self.enc.ch(tags::RESET_SEQ_NUM_FLAG, b'Y');
        }
        self.flush_encoded(now);
    }

    /// The TCP connection is gone.
    pub fn disconnected(&mut self) {
        self.state = SessionState::Disconnected;
        self.in_len = 0;
        self.out.start = 0;
        self.out.end = 0;
        self.test_req = None;
        self.resend_until = None;
    }

    /// Free space for received bytes.
    #[inline]
    pub fn recv_buf(&mut self) -> &mut [u8] {
        &mut self.inb[self.in_len..]
    }

    /// `n` bytes were written into [`Session::recv_buf`].
    #[inline]
    pub fn received(&mut self, n: usize) {
        self.in_len = (self.in_len + n).min(self.inb.len());
    }

    /// Bytes ready for the socket.
    #[inline]
    pub fn output(&self) -> &[u8] {
        &self.out.buf[self.out.start..self.out.end]
    }

    /// `n` bytes of [`Session::output`] went to the socket.
    #[inline]
    pub fn consume_output(&mut self, n: usize) {
        self.out.start = (self.out.start + n).min(self.out.end);
        if self.out.start == self.out.end {
            self.out.start = 0;
            self.out.end = 0;
        }
    }

    // --- sending ------------------------------------------------------------------------

    #[inline]
    fn take_out_seq(&mut self) -> u64 {
        let s = self.next_out;
        self.next_out += 1;
        self.seq_dirty = true;
        s
    }

    #[inline]
    fn flush_encoded(&mut self, now: Nanos) -> bool {
        let Some(msg) = self.enc.finish() else { return false };
        if !self.out.push(msg) {
            self.disconnect = Some(DisconnectReason::SendBufferFull);
            return false;
        }
        self.stats.messages_out.inc();
        self.last_sent = now;
        true
    }

    /// Sends a NewOrderSingle, OrderCancelRequest or OrderCancelReplaceRequest; returns its
    /// sequence number, or `None` if the session cannot send it.
    #[inline]
    pub fn send_order(
        &mut self,
        now: Nanos,
        action: Action,
        target: ClientOrderId,
        o: &OrderFields<'_>,
    ) -> Option<u64> {
        if self.state != SessionState::Active {
            return None;
        }
        let seq = self.take_out_seq();
        let msg = match action {
            Action::New => new_order_single(&mut self.enc, seq, now, o),
            Action::Cancel => order_cancel_request(&mut self.enc, seq, now, o),
            Action::Replace => order_cancel_replace_request(&mut self.enc, seq, now, o),
        };
        let msg = msg?;
        if !self.out.push(msg) {
            self.disconnect = Some(DisconnectReason::SendBufferFull);
            return None;
        }
        self.stats.messages_out.inc();
        self.last_sent = now;
        self.sent[(seq % SENT_RING as u64) as usize] =
            SentApp { seq, action, id: ClientOrderId(o.cl_ord_id), target };
        Some(seq)
    }

    /// Sends a TestRequest now (the timer sends one on its own when the venue goes quiet).
    pub fn send_test_request(&mut self, now: Nanos) {
        if self.state != SessionState::Active {
            return;
        }
        self.test_req_counter += 1;
        let id = self.test_req_counter;
        let mut text = *b"TL-00000000000000000000";
        let n = put_u64(&mut text, 3, id).unwrap_or(3);
        let seq = self.take_out_seq();
        self.enc.begin(b"1", seq, now);
        self.enc.bytes(tags::TEST_REQ_ID, &text[..n]);
        if self.flush_encoded(now) {
            self.test_req = Some((id, now));
            self.stats.test_requests_sent.inc();
        }
    }

    fn send_heartbeat(&mut self, now: Nanos, test_req_id: Option<&[u8]>) {
        let seq = self.take_out_seq();
        self.enc.begin(b"0", seq, now);
        if let Some(id) = test_req_id {
            self.enc.bytes(tags::TEST_REQ_ID, id);
        }
        self.flush_encoded(now);
    }

    /// Sends a Logout; the session ends when the venue answers (or after a heartbeat).
    pub fn logout(&mut self, now: Nanos, text: &[u8]) {
        if !matches!(self.state, SessionState::Active | SessionState::LogonSent) {
            return;
        }
        let seq = self.take_out_seq();
        self.enc.begin(b"5", seq, now);
        if !text.is_empty() {
            self.enc.bytes(tags::TEXT, text);
        }
        self.flush_encoded(now);
        self.state = SessionState::LogoutSent;
        self.since = now;
    }

    /// A Logout, then the connection closes as soon as the output is flushed.
    fn logout_and_close(&mut self, now: Nanos, text: &[u8], why: DisconnectReason) {
        if self.state != SessionState::Disconnected {
            let seq = self.take_out_seq();
            self.enc.begin(b"5", seq, now);
            self.enc.bytes(tags::TEXT, text);
            self.flush_encoded(now);
        }
        self.state = SessionState::LogoutSent;
        self.disconnect = Some(why);
    }

    /// Sends a session-level Reject of message `ref_seq`.
    pub fn send_reject(
        &mut self,
        now: Nanos,
        ref_seq: u64,
        reason: u32,
        ref_tag: u32,
        ref_type: &[u8],
    ) {
        let seq = self.take_out_seq();
        self.enc.begin(b"3", seq, now);
        self.enc.u64(tags::REF_SEQ_NUM, ref_seq);
        if ref_tag != 0 {
            self.enc.u64(tags::REF_TAG_ID, u64::from(ref_tag));
        }
        if !ref_type.is_empty() && ref_type.len() <= 4 && !ref_type.contains(&super::codec::SOH) {
            self.enc.bytes(tags::REF_MSG_TYPE, ref_type);
        }
        self.enc.u64(tags::SESSION_REJECT_REASON, u64::from(reason));
        if self.flush_encoded(now) {
            self.stats.rejects_sent.inc();
        }
    }

    fn request_resend(&mut self, now: Nanos, seen: u64) {
        self.stats.gaps.inc();
        match self.resend_until {
            Some(until) if until >= seen => return,
            Some(_) => {
                // A later gap while one is outstanding: the open-ended request covers it.
                self.resend_until = Some(seen);
                return;
            }
            None => {}
        }
        self.resend_until = Some(seen);
        self.send_resend_request(now);
    }

    fn send_resend_request(&mut self, now: Nanos) {
        let seq = self.take_out_seq();
        self.enc.begin(b"2", seq, now);
        self.enc.u64(tags::BEGIN_SEQ_NO, self.next_in);
        self.enc.u64(tags::END_SEQ_NO, 0);
        if self.flush_encoded(now) {
            self.resend_at = now;
            self.stats.resend_requests_sent.inc();
        }
    }

    /// Answers a ResendRequest from `begin` with one gap fill to our next number.
    fn gap_fill(&mut self, now: Nanos, begin: u64) {
        self.stats.resend_requests_received.inc();
        if begin == 0 || begin >= self.next_out {
            return;
        }
        // Not a new message: it takes the first requested number and consumes none.
        self.enc.begin_poss_dup(b"4", begin, now, now);
        self.enc.ch(tags::GAP_FILL_FLAG, b'Y');
        self.enc.u64(tags::NEW_SEQ_NO, self.next_out);
        self.flush_encoded(now);
    }

    // --- receiving ----------------------------------------------------------------------

    /// Applies the session rules to every complete message received; application messages
    /// and refusals go to `on_event`.
    pub fn process(&mut self, now: Nanos, on_event: &mut impl FnMut(SessionEvent<'_>) -> Verdict) {
        let inb = std::mem::take(&mut self.inb);
        let mut at = 0;
        while at < self.in_len
            && self.disconnect.is_none()
            && self.state != SessionState::Disconnected
        {
            match frame(&inb[at..self.in_len]) {
                Frame::Incomplete => {
                    if at == 0 && self.in_len == inb.len() {
                        // A message larger than the buffer: cannot be whole, drop it all.
                        self.stats.bad_body_length.inc();
                        at = self.in_len;
                    }
                    break;
                }
                Frame::Garbled { skip, why } => {
                    match why {
                        Garble::BadBeginString => &self.stats.bad_begin_string,
                        Garble::BadBodyLength | Garble::TooLong => &self.stats.bad_body_length,
                        Garble::BadCheckSum => &self.stats.bad_checksum,
                    }
                    .inc();
                    at += skip;
                }
                Frame::Complete(n) => {
                    let m = Message::parse(&inb[at..at + n]);
                    at += n;
                    self.on_message(now, &m, on_event);
                }
            }
        }
        if self.state == SessionState::Disconnected {
            at = self.in_len;
        }
        let mut inb = inb;
        inb.copy_within(at..self.in_len, 0);
        self.in_len -= at;
        self.inb = inb;
    }

    fn on_message(
        &mut self,
        now: Nanos,
        m: &Message<'_>,
        on_event: &mut impl FnMut(SessionEvent<'_>) -> Verdict,
    ) {
        self.stats.messages_in.inc();
        self.last_recv = now;
        let mt = m.msg_type();
        let Some(seq) = m.u64(Tag::MsgSeqNum).filter(|&s| s > 0) else {
            self.logout_and_close(
                now,
                b"MsgSeqNum missing or not a number",
                DisconnectReason::SeqMissing,
            );
            return;
        };
        if self.state == SessionState::LogonSent {
            self.on_logon(now, m, seq, on_event);
            return;
        }
        if m.get(Tag::SenderCompId) != Some(self.cfg.target_comp_id.as_bytes())
            || m.get(Tag::TargetCompId) != Some(self.cfg.sender_comp_id.as_bytes())
        {
            let tag = if m.get(Tag::SenderCompId) != Some(self.cfg.target_comp_id.as_bytes()) {
                tags::SENDER_COMP_ID
            } else {
                tags::TARGET_COMP_ID
            };
            self.send_reject(now, seq, reject::COMP_ID_PROBLEM, tag, mt);
            self.logout_and_close(now, b"CompID problem", DisconnectReason::CompIdMismatch);
            return;
        }
        // SequenceReset in reset mode ignores MsgSeqNum.
        if mt == b"4" && m.get(Tag::GapFillFlag) != Some(b"Y") {
            self.on_sequence_reset(now, m, seq, false);
            return;
        }
        if seq < self.next_in {
            if m.poss_dup() {
                self.stats.duplicates_ignored.inc();
                return;
            }
            self.stats.seq_too_low.inc();
            let mut text = [0u8; 96];
            let n = too_low_text(&mut text, self.next_in, seq);
            self.logout_and_close(now, &text[..n], DisconnectReason::SeqTooLow);
            return;
        }
        if seq > self.next_in {
            // A gap. Logout and ResendRequest still act; everything else will be resent.
            match mt {
                b"5" => self.on_logout(now),
                b"2" => {
                    if let Some(b) = m.u64(Tag::BeginSeqNo) {
                        self.gap_fill(now, b);
                    }
                }
                _ => {}
            }
            if self.state == SessionState::Active {
                self.request_resend(now, seq);
            }
            return;
        }
        // In sequence: the number is consumed whatever happens next.
        self.next_in += 1;
        self.seq_dirty = true;
        if let Some(until) = self.resend_until {
            if self.next_in > until {
                self.resend_until = None;
            }
        }
        if let Some(p) = m.problem() {
            let (reason, tag) = p.reject_reason();
            self.send_reject(now, seq, reason, tag, mt);
            return;
        }
        if m.get(Tag::SendingTime).is_none() {
            self.missing(now, seq, tags::SENDING_TIME, mt);
            return;
        }
        match mt {
            b"0" => {
                self.stats.heartbeats_in.inc();
                if let (Some((id, _)), Some(got)) = (self.test_req, m.get(Tag::TestReqId)) {
                    let mut want = *b"TL-00000000000000000000";
                    let n = put_u64(&mut want, 3, id).unwrap_or(3);
                    if got == &want[..n] {
                        self.test_req = None;
                        self.stats.test_requests_answered.inc();
                    }
                }
            }
            b"1" => match m.get(Tag::TestReqId) {
                Some(id) => {
                    self.stats.test_requests_received.inc();
                    let mut copy = [0u8; 64];
                    let n = id.len().min(copy.len());
                    copy[..n].copy_from_slice(&id[..n]);
                    self.send_heartbeat(now, Some(&copy[..n]));
                }
                None => self.missing(now, seq, tags::TEST_REQ_ID, mt),
            },
            b"2" => match (m.u64(Tag::BeginSeqNo), m.get(Tag::EndSeqNo)) {
                (Some(b), Some(_)) => self.gap_fill(now, b),
                (None, _) => self.missing(now, seq, tags::BEGIN_SEQ_NO, mt),
                (_, None) => self.missing(now, seq, tags::END_SEQ_NO, mt),
            },
            b"3" => {
                self.stats.rejects_received.inc();
                match m.u64(Tag::RefSeqNum) {
                    Some(r) => {
                        if let Some(app) = self.sent_app(r) {
                            on_event(SessionEvent::Refused(app));
                        }
                    }
                    None => self.missing(now, seq, tags::REF_SEQ_NUM, mt),
                }
            }
            b"j" => {
                self.stats.rejects_received.inc();
                if let Some(app) = m.u64(Tag::RefSeqNum).and_then(|r| self.sent_app(r)) {
                    on_event(SessionEvent::Refused(app));
                }
            }
            b"4" => self.on_sequence_reset(now, m, seq, true),
            b"5" => self.on_logout(now),
            b"A" => {
                self.logout_and_close(now, b"Logon while logged on", DisconnectReason::BadLogon);
            }
            b"8" | b"9" => {
                let required =
                    if mt == b"8" { EXEC_REPORT_REQUIRED } else { CANCEL_REJECT_REQUIRED };
                if let Some(t) = m.missing(required) {
                    self.missing(now, seq, t.number(), mt);
                    return;
                }
                if let Verdict::Reject { reason, tag } = on_event(SessionEvent::App(m)) {
                    self.send_reject(now, seq, reason, tag, mt);
                }
            }
            _ => {
                self.stats.unknown_msg_types.inc();
                self.send_reject(now, seq, reject::INVALID_MSG_TYPE, tags::MSG_TYPE, mt);
            }
        }
    }

    fn missing(&mut self, now: Nanos, seq: u64, tag: u32, mt: &[u8]) {
        self.stats.required_tag_missing.inc();
        self.send_reject(now, seq, reject::REQUIRED_TAG_MISSING, tag, mt);
    }

    fn sent_app(&self, seq: u64) -> Option<SentApp> {
        let s = self.sent[(seq % SENT_RING as u64) as usize];
        (s.seq == seq).then_some(s)
    }

    fn on_logon(
        &mut self,
        now: Nanos,
        m: &Message<'_>,
        seq: u64,
        on_event: &mut impl FnMut(SessionEvent<'_>) -> Verdict,
    ) {
        if m.msg_type() != b"A" {
            self.logout_and_close(now, b"First message not a Logon", DisconnectReason::BadLogon);
            return;
        }
        if m.get(Tag::HeartBtInt).is_none() || m.get(Tag::EncryptMethod).is_none() {
            self.logout_and_close(
                now,
                b"Logon without HeartBtInt or EncryptMethod",
                DisconnectReason::BadLogon,
            );
            return;
        }
        if m.get(Tag::SenderCompId) != Some(self.cfg.target_comp_id.as_bytes())
            || m.get(Tag::TargetCompId) != Some(self.cfg.sender_comp_id.as_bytes())
        {
            self.logout_and_close(now, b"CompID problem", DisconnectReason::CompIdMismatch);
            return;
        }
        if m.get(Tag::ResetSeqNumFlag) == Some(b"Y") && !self.cfg.reset_on_logon {
            // The venue reset its numbers: ours follow for the inbound side.
            self.next_in = 1;
            self.seq_dirty = true;
        }
        if seq < self.next_in {
            self.stats.seq_too_low.inc();
            let mut text = [0u8; 96];
            let n = too_low_text(&mut text, self.next_in, seq);
            self.logout_and_close(now, &text[..n], DisconnectReason::SeqTooLow);
            return;
        }
        self.state = SessionState::Active;
        self.since = now;
        self.stats.logons.inc();
        on_event(SessionEvent::LoggedOn);
        if seq > self.next_in {
            self.request_resend(now, seq);
        } else {
            self.next_in += 1;
            self.seq_dirty = true;
        }
    }

    fn on_logout(&mut self, now: Nanos) {
        self.stats.logouts_received.inc();
        if self.state == SessionState::LogoutSent {
            self.disconnect = Some(DisconnectReason::LoggedOut);
            return;
        }
        let seq = self.take_out_seq();
        self.enc.begin(b"5", seq, now);
        self.flush_encoded(now);
        self.state = SessionState::LogoutSent;
        self.disconnect = Some(DisconnectReason::LogoutReceived);
    }

    fn on_sequence_reset(&mut self, now: Nanos, m: &Message<'_>, seq: u64, gap_fill: bool) {
        let Some(new) = m.u64(Tag::NewSeqNo) else {
            if !gap_fill {
                // Reset mode does not consume a number, but the peer still gets told.
                self.stats.required_tag_missing.inc();
                self.send_reject(now, seq, reject::REQUIRED_TAG_MISSING, tags::NEW_SEQ_NO, b"4");
            } else {
                self.missing(now, seq, tags::NEW_SEQ_NO, b"4");
            }
            return;
        };
        // In gap-fill mode the number was consumed already (next_in = seq + 1), so a fill
        // "to" seq + 1 is a no-op and anything lower an attempt to go back.
        if new < self.next_in {
            self.send_reject(now, seq, reject::VALUE_INCORRECT, tags::NEW_SEQ_NO, b"4");
            return;
        }
        self.next_in = new;
        self.seq_dirty = true;
        self.stats.sequence_resets.inc();
        if let Some(until) = self.resend_until {
            if self.next_in > until {
                self.resend_until = None;
            }
        }
    }

    // --- timers -------------------------------------------------------------------------

    /// Heartbeats, test requests, timeouts.
    pub fn timer(&mut self, now: Nanos) {
        let hb = self.hb_ns;
        match self.state {
            SessionState::Disconnected => {}
            SessionState::LogonSent => {
                if now.since(self.since) > hb.max(5_000_000_000) as u64 {
                    self.disconnect = Some(DisconnectReason::LogonTimeout);
                }
            }
            SessionState::LogoutSent => {
                if now.since(self.since) > hb.min(2_000_000_000) as u64 {
                    self.disconnect = Some(DisconnectReason::LoggedOut);
                }
            }
            SessionState::Active => {
                match self.test_req {
                    Some((_, sent)) if now.since(sent) > hb as u64 => {
                        self.disconnect = Some(DisconnectReason::HeartbeatTimeout);
                        return;
                    }
                    Some(_) => {}
                    None => {
                        if now.since(self.last_recv) > (hb + hb / 5) as u64 {
                            self.send_test_request(now);
                        }
                    }
                }
                if now.since(self.last_sent) >= hb as u64 {
                    self.send_heartbeat(now, None);
                }
                if self.resend_until.is_some() && now.since(self.resend_at) > 2 * hb as u64 {
                    self.send_resend_request(now);
                }
            }
        }
    }
}

/// "MsgSeqNum too low, expecting X but received Y" without allocating.
fn too_low_text(out: &mut [u8; 96], expected: u64, got: u64) -> usize {
    let a = b"MsgSeqNum too low, expecting ";
    let b = b" but received ";
    out[..a.len()].copy_from_slice(a);
    let mut n = put_u64(out, a.len(), expected).unwrap_or(a.len());
    out[n..n + b.len()].copy_from_slice(b);
    n += b.len();
    put_u64(out, n, got).unwrap_or(n)
}
