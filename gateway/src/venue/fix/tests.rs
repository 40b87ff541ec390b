//! Session-layer tests with crafted bytes: every FIX session rule the initiator applies to bad
//! or out-of-order input from the counterparty, and what it sends back. No socket.

use proptest::prelude::*;
use tickline_engine::types::{Action, ClientOrderId, Nanos, OrdType, Side, TimeInForce};

use super::codec::decode::{frame, Frame, Message, Tag};
use super::codec::encode::{checksum, OrderFields};
use super::session::{
    DisconnectReason, Session, SessionConfig, SessionEvent, SessionState, Verdict,
};

const T0: i64 = 1_723_161_255_000_000_000;
const SEC: i64 = 1_000_000_000;

fn session(reset: bool) -> Session {
    Session::new(
        SessionConfig {
            sender_comp_id: "TL".into(),
            target_comp_id: "EXEC".into(),
            heartbeat_secs: 30,
            reset_on_logon: reset,
        },
        1,
        1,
    )
}

/// A message from the venue: `|` for SOH, header and trailer filled in.
fn from_venue(seq: u64, body: &str) -> Vec<u8> {
    raw(&format!(
        "35={}|49=EXEC|56=TL|34={seq}|52=20240808-23:54:15.000|{}",
        head_type(body),
        rest(body)
    ))
}

fn head_type(body: &str) -> &str {
    body.split('|').next().unwrap_or("")
}

fn rest(body: &str) -> String {
    body.split_once('|').map_or(String::new(), |(_, r)| r.to_owned())
}

/// Frames any body as given (nothing added but BeginString, BodyLength and CheckSum).
fn raw(body: &str) -> Vec<u8> {
    let body = body.replace('|', "\u{1}");
    let mut m = format!("8=FIX.4.4\u{1}9={}\u{1}{body}", body.len()).into_bytes();
    let sum = checksum(&m);
    m.extend_from_slice(format!("10={sum:03}\u{1}").as_bytes());
    m
}

#[derive(Debug, Default)]
struct Seen {
    logged_on: u32,
    app: Vec<(String, u64)>,
    refused: Vec<(u64, Action, u64)>,
}

fn feed(s: &mut Session, bytes: &[u8], now: i64) -> Seen {
    let mut seen = Seen::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let buf = s.recv_buf();
        let n = buf.len().min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        s.received(n);
        rest = &rest[n..];
        process(s, now, &mut seen);
    }
    if bytes.is_empty() {
        process(s, now, &mut seen);
    }
    seen
}

fn process(s: &mut Session, now: i64, seen: &mut Seen) {
    s.process(Nanos(now), &mut |ev| {
        match ev {
            SessionEvent::LoggedOn => seen.logged_on += 1,
            SessionEvent::App(m) => seen.app.push((
                String::from_utf8_lossy(m.msg_type()).into_owned(),
                m.u64(Tag::MsgSeqNum).unwrap_or(0),
            )),
            SessionEvent::Refused(a) => seen.refused.push((a.seq, a.action, a.id.0)),
        }
        Verdict::Ok
    });
}

/// What the session sent since the last call, as `tag=value` maps per message.
fn sent(s: &mut Session) -> Vec<Vec<(u32, String)>> {
    let out = s.output().to_vec();
    s.consume_output(out.len());
    let mut msgs = Vec::new();
    let mut at = 0;
    while at < out.len() {
        let Frame::Complete(n) = frame(&out[at..]) else { panic!("the session sent a bad frame") };
        let m = Message::parse(&out[at..at + n]);
        assert_eq!(m.problem(), None);
        let fields = std::str::from_utf8(&out[at..at + n])
            .unwrap()
            .split('\u{1}')
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (t, v) = f.split_once('=').unwrap();
                (t.parse().unwrap(), v.to_owned())
            })
            .collect();
        msgs.push(fields);
        at += n;
    }
    msgs
}

fn field(m: &[(u32, String)], tag: u32) -> Option<&str> {
    m.iter().find(|(t, _)| *t == tag).map(|(_, v)| v.as_str())
}

fn types(msgs: &[Vec<(u32, String)>]) -> Vec<String> {
    msgs.iter().map(|m| field(m, 35).unwrap_or("?").to_owned()).collect()
}

/// A logged-on session that has seen the venue's Logon (seq 1); next inbound is 2.
fn active() -> Session {
    let mut s = session(false);
    s.connected(Nanos(T0));
    let logon = sent(&mut s);
    assert_eq!(types(&logon), ["A"]);
    let seen = feed(&mut s, &from_venue(1, "A|98=0|108=30|"), T0);
    assert_eq!(seen.logged_on, 1);
    assert_eq!(s.state(), SessionState::Active);
    s
}

#[test]
fn logon_carries_heartbeat_and_optional_reset() {
    let mut s = session(false);
    s.connected(Nanos(T0));
    let m = &sent(&mut s)[0];
    assert_eq!(
        (
            field(m, 35),
            field(m, 49),
            field(m, 56),
            field(m, 34),
            field(m, 98),
            field(m, 108),
            field(m, 141)
        ),
        (Some("A"), Some("TL"), Some("EXEC"), Some("1"), Some("0"), Some("30"), None)
    );
    let mut r = Session::new(
        SessionConfig {
            sender_comp_id: "TL".into(),
            target_comp_id: "EXEC".into(),
            heartbeat_secs: 5,
            reset_on_logon: true,
        },
        40,
        77,
    );
    r.connected(Nanos(T0));
    let m = &sent(&mut r)[0];
    assert_eq!((field(m, 34), field(m, 141)), (Some("1"), Some("Y")));
    assert_eq!(r.seqs(), (2, 1));
    // The first message must be a Logon.
    let mut s = session(false);
    s.connected(Nanos(T0));
    sent(&mut s);
    feed(&mut s, &from_venue(1, "0|"), T0);
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::BadLogon));
}

#[test]
fn test_request_is_answered_and_silence_is_probed() {
    let mut s = active();
    feed(&mut s, &from_venue(2, "1|112=PING-7|"), T0);
    let m = sent(&mut s);
    assert_eq!((types(&m), field(&m[0], 112)), (vec!["0".to_owned()], Some("PING-7")));
    assert_eq!(s.stats().test_requests_received.get(), 1);
    // 30 s heartbeat: after 36 s of silence a TestRequest goes (which also counts as our
    // heartbeat: any message resets that timer).
    s.timer(Nanos(T0 + 37 * SEC));
    let m = sent(&mut s);
    assert_eq!(types(&m), ["1"]);
    s.timer(Nanos(T0 + 37 * SEC + 1));
    assert!(sent(&mut s).is_empty(), "one probe at a time");
    let id = field(&m[0], 112).unwrap().to_owned();
    // Answered: the probe is settled.
    feed(&mut s, &from_venue(3, &format!("0|112={id}|")), T0 + 38 * SEC);
    assert_eq!(s.stats().test_requests_answered.get(), 1);
    // A second probe goes unanswered for a heartbeat interval: the session gives up.
    s.timer(Nanos(T0 + 75 * SEC));
    assert_eq!(types(&sent(&mut s))[0], "1");
    s.timer(Nanos(T0 + 106 * SEC));
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::HeartbeatTimeout));
}

#[test]
fn a_gap_sends_one_resend_request_and_gap_fill_closes_it() {
    let mut s = active();
    let er = "8|11=5|37=1|17=1|150=0|39=0|54=1|151=1|14=0|6=0|";
    // Expecting 2, got 4 then 5: one ResendRequest from 2, both discarded.
    let mut bytes = from_venue(4, er);
    bytes.extend(from_venue(5, er));
    let seen = feed(&mut s, &bytes, T0);
    assert!(seen.app.is_empty(), "messages past a gap wait for the resend");
    let m = sent(&mut s);
    assert_eq!(types(&m), ["2"]);
    assert_eq!((field(&m[0], 7), field(&m[0], 16)), (Some("2"), Some("0")));
    assert!(s.resend_pending());
    assert_eq!(s.seqs().1, 2);
    // The venue gap-fills 2..3 and resends 4 and 5 as possible duplicates.
    let mut resend = from_venue(2, "4|43=Y|122=20240808-23:54:14.000|123=Y|36=4|");
    resend.extend(from_venue(4, &format!("{er}43=Y|122=20240808-23:54:14.000|")));
    resend.extend(from_venue(5, &format!("{er}43=Y|122=20240808-23:54:14.000|")));
    let seen = feed(&mut s, &resend, T0);
    assert_eq!(seen.app, vec![("8".to_owned(), 4), ("8".to_owned(), 5)]);
    assert!(!s.resend_pending());
    assert_eq!(s.seqs().1, 6);
    // A duplicate of 5 (PossDup) is ignored.
    let seen = feed(&mut s, &from_venue(5, &format!("{er}43=Y|")), T0);
    assert!(seen.app.is_empty());
    assert_eq!(s.stats().duplicates_ignored.get(), 1);
    assert!(sent(&mut s).is_empty());
}

#[test]
fn seq_too_low_without_poss_dup_logs_out() {
    let mut s = active();
    feed(&mut s, &from_venue(2, "0|"), T0);
    feed(&mut s, &from_venue(2, "0|"), T0);
    let m = sent(&mut s);
    assert_eq!(types(&m), ["5"]);
    assert_eq!(field(&m[0], 58), Some("MsgSeqNum too low, expecting 3 but received 2"));
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::SeqTooLow));
    assert_eq!(s.stats().seq_too_low.get(), 1);
}

#[test]
fn garbled_messages_are_dropped_without_consuming_a_number() {
    let mut s = active();
    let mut bad_sum = from_venue(2, "0|");
    let n = bad_sum.len();
    bad_sum[n - 3] = if bad_sum[n - 3] == b'9' { b'8' } else { b'9' };
    let mut bad_len = from_venue(2, "0|");
    bad_len[12] = b'9';
    let mut bytes = b"\x00\xffnot fix at all\x01".to_vec();
    bytes.extend(&bad_sum);
    bytes.extend(b"8=FIX.4.2\x019=5\x0135=0\x0110=000\x01");
    bytes.extend(&bad_len);
    bytes.extend(from_venue(2, "1|112=after-garbage|"));
    feed(&mut s, &bytes, T0);
    let st = s.stats();
    assert_eq!(st.bad_checksum.get(), 1);
    assert!(st.bad_body_length.get() >= 1);
    assert!(st.bad_begin_string.get() >= 2);
    // The good message after all that is in sequence (2): nothing was consumed before it.
    let m = sent(&mut s);
    assert_eq!((types(&m), field(&m[0], 112)), (vec!["0".to_owned()], Some("after-garbage")));
    assert_eq!(s.seqs().1, 3);
}

#[test]
fn messages_split_byte_by_byte_or_joined_are_each_handled_once() {
    let mut s = active();
    let er = |seq| from_venue(seq, "8|11=5|37=1|17=1|150=0|39=0|54=1|151=1|14=0|6=0|");
    let one = er(2);
    let mut seen = Seen::default();
    for b in &one {
        s.recv_buf()[0] = *b;
        s.received(1);
        process(&mut s, T0, &mut seen);
    }
    assert_eq!(seen.app, vec![("8".to_owned(), 2)]);
    let mut many = Vec::new();
    for seq in 3..=40 {
        many.extend(er(seq));
    }
    let seen = feed(&mut s, &many, T0);
    assert_eq!(seen.app.len(), 38);
    assert_eq!(s.seqs().1, 41);
}

#[test]
fn missing_required_tags_get_a_reject_and_consume_the_number() {
    let mut s = active();
    // An ExecutionReport without OrderID (37).
    let seen = feed(&mut s, &from_venue(2, "8|11=5|17=1|150=0|39=0|54=1|151=1|14=0|6=0|"), T0);
    assert!(seen.app.is_empty());
    let m = sent(&mut s);
    assert_eq!(types(&m), ["3"]);
    assert_eq!(
        (field(&m[0], 45), field(&m[0], 371), field(&m[0], 373)),
        (Some("2"), Some("37"), Some("1"))
    );
    // A TestRequest without TestReqID, an OrderCancelReject without CxlRejResponseTo.
    feed(&mut s, &from_venue(3, "1|"), T0);
    feed(&mut s, &from_venue(4, "9|11=6|41=5|37=1|39=0|"), T0);
    let m = sent(&mut s);
    assert_eq!(types(&m), ["3", "3"]);
    assert_eq!((field(&m[0], 371), field(&m[1], 371)), (Some("112"), Some("434")));
    assert_eq!(s.seqs().1, 5);
    assert_eq!(s.stats().required_tag_missing.get(), 3);
    // No SendingTime.
    feed(&mut s, &raw("35=0|49=EXEC|56=TL|34=5|"), T0);
    assert_eq!(field(&sent(&mut s)[0], 371), Some("52"));
}

#[test]
fn unknown_msg_types_and_bad_fields_get_session_rejects() {
    let mut s = active();
    feed(&mut s, &from_venue(2, "ZZ|"), T0);
    feed(&mut s, &from_venue(3, "0|58=|"), T0);
    feed(&mut s, &from_venue(4, "0|58=a|58=b|"), T0);
    feed(&mut s, &from_venue(5, "0|5x8=a|"), T0);
    let m = sent(&mut s);
    assert_eq!(types(&m), ["3", "3", "3", "3"]);
    let reasons: Vec<_> = m.iter().map(|r| field(r, 373).unwrap().to_owned()).collect();
    assert_eq!(reasons, ["11", "4", "13", "0"]);
    assert_eq!(field(&m[0], 372), Some("ZZ"));
    assert_eq!(s.stats().unknown_msg_types.get(), 1);
    assert_eq!(s.seqs().1, 6);
}

#[test]
fn wrong_comp_ids_or_no_seq_num_end_the_session() {
    let mut s = active();
    feed(&mut s, &raw("35=0|49=SOMEONE|56=TL|34=2|52=20240808-23:54:15.000|"), T0);
    let m = sent(&mut s);
    assert_eq!(types(&m), ["3", "5"]);
    assert_eq!((field(&m[0], 373), field(&m[0], 371)), (Some("9"), Some("49")));
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::CompIdMismatch));
    let mut s = active();
    feed(&mut s, &raw("35=0|49=EXEC|56=TL|52=20240808-23:54:15.000|"), T0);
    assert_eq!(types(&sent(&mut s)), ["5"]);
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::SeqMissing));
}

#[test]
fn resend_requests_are_answered_with_a_gap_fill() {
    let mut s = active();
    // We sent Logon (1); send two orders (2, 3).
    let o = OrderFields {
        cl_ord_id: 11,
        orig_cl_ord_id: 0,
        symbol: b"A",
        side: Side::Buy,
        qty: 1,
        qty_scale: 0,
        price: 100,
        price_scale: 2,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        account: None,
    };
    assert_eq!(s.send_order(Nanos(T0), Action::New, ClientOrderId(0), &o), Some(2));
    assert_eq!(
        s.send_order(Nanos(T0), Action::New, ClientOrderId(0), &OrderFields { cl_ord_id: 12, ..o }),
        Some(3)
    );
    sent(&mut s);
    feed(&mut s, &from_venue(2, "2|7=2|16=0|"), T0);
    let m = sent(&mut s);
    assert_eq!(types(&m), ["4"]);
    let g = &m[0];
    assert_eq!(
        (field(g, 34), field(g, 43), field(g, 123), field(g, 36)),
        (Some("2"), Some("Y"), Some("Y"), Some("4"))
    );
    assert!(field(g, 122).is_some(), "a PossDup message carries OrigSendingTime");
    assert_eq!(s.seqs().0, 4, "a gap fill consumes no number");
    // A Reject naming our order (seq 3) refuses it.
    let seen = feed(&mut s, &from_venue(3, "3|45=3|373=5|371=55|"), T0);
    assert_eq!(seen.refused, vec![(3, Action::New, 12)]);
    // A Reject naming something we do not remember is only counted.
    let seen = feed(&mut s, &from_venue(4, "3|45=999|"), T0);
    assert!(seen.refused.is_empty());
    assert_eq!(s.stats().rejects_received.get(), 2);
}

#[test]
fn sequence_reset_moves_forward_only() {
    let mut s = active();
    // Reset mode ignores MsgSeqNum.
    feed(&mut s, &from_venue(99, "4|36=10|"), T0);
    assert_eq!(s.seqs().1, 10);
    // Backwards is refused.
    feed(&mut s, &from_venue(10, "4|36=5|"), T0);
    assert_eq!(field(&sent(&mut s)[0], 373), Some("5"));
    assert_eq!(s.seqs().1, 10);
    // Gap fill in sequence.
    feed(&mut s, &from_venue(10, "4|123=Y|36=20|"), T0);
    assert_eq!(s.seqs().1, 20);
    assert_eq!(s.stats().sequence_resets.get(), 2);
}

#[test]
fn logout_from_the_venue_is_answered() {
    let mut s = active();
    feed(&mut s, &from_venue(2, "5|58=bye|"), T0);
    assert_eq!(types(&sent(&mut s)), ["5"]);
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::LogoutReceived));
    // Our own logout, answered.
    let mut s = active();
    s.logout(Nanos(T0), b"done");
    assert_eq!(types(&sent(&mut s)), ["5"]);
    feed(&mut s, &from_venue(2, "5|"), T0);
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::LoggedOut));
}

#[test]
fn logon_with_a_higher_number_asks_for_a_resend() {
    let mut s = session(false);
    s.connected(Nanos(T0));
    sent(&mut s);
    let seen = feed(&mut s, &from_venue(5, "A|98=0|108=30|"), T0);
    assert_eq!(seen.logged_on, 1);
    let m = sent(&mut s);
    assert_eq!((types(&m), field(&m[0], 7)), (vec!["2".to_owned()], Some("1")));
    // Lower than expected: logout.
    let mut s = Session::new(
        SessionConfig {
            sender_comp_id: "TL".into(),
            target_comp_id: "EXEC".into(),
            heartbeat_secs: 30,
            reset_on_logon: false,
        },
        9,
        9,
    );
    s.connected(Nanos(T0));
    sent(&mut s);
    feed(&mut s, &from_venue(3, "A|98=0|108=30|"), T0);
    assert_eq!(s.take_disconnect(), Some(DisconnectReason::SeqTooLow));
}

proptest! {
    /// Garbage in any split never panics, and everything the session sends is a valid frame.
    #[test]
    fn arbitrary_input_never_panics(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..20),
        seed_good in any::<bool>(),
    ) {
        let mut s = active();
        let mut bytes: Vec<u8> = Vec::new();
        for c in &chunks {
            bytes.extend(c);
            if seed_good {
                bytes.extend(from_venue(2, "0|"));
            }
        }
        let _ = feed(&mut s, &bytes, T0);
        s.timer(Nanos(T0 + 100 * SEC));
        let _ = sent(&mut s);
    }
}
