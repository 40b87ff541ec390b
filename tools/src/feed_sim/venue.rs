//! The simulated venue: one timeline of market data, shared by every connection.
//!
//! A venue thread produces data frames (from a seeded synthetic book or a capture), applies
//! faults, and hands each frame to every connection subscribed to its stream. The venue's
//! book is the truth the REST snapshot (Binance) and the subscription snapshot (OKX) are
//! cut from, under the same lock as the broadcast, so a snapshot and the diffs after it
//! always join up. The timeline pauses while nobody is subscribed, and waits for a slow
//! reader rather than dropping frames behind its back (drops happen only by fault).

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use tickline_engine::types::{parse_fixed, Clock, Scale};
use tungstenite::protocol::frame::Utf8Bytes;

use super::book::{fixed, Side, SimBook};
use super::fault::{BadValue, Fault, FaultKind};

/// Decimal places of every price and size the simulator keeps (Binance writes 8).
pub const SCALE: u32 = 8;
/// Levels per side the synthetic book keeps around its mid.
const DEPTH: i64 = 20;
/// A subscriber this far behind makes the venue wait.
const MAX_QUEUED: usize = 50_000;

/// Which venue's formats to speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SimVenue {
    /// Binance spot combined streams and `GET /api/v3/depth`.
    Binance,
    /// OKX v5 public channels, subscribed by message.
    Okx,
}

/// How a capture is replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Pace {
    /// At the gaps between the recorded receive times.
    Recorded,
    /// As fast as the subscribers read.
    Fast,
}

/// What a connection is told to do.
#[derive(Clone, Debug)]
pub enum Out {
    /// Send a text frame.
    Text(Utf8Bytes),
    /// Send a binary frame.
    Binary(Vec<u8>),
    /// Send this many pings.
    Pings(u32),
    /// Cut the TCP connection.
    Disconnect,
    /// Send a close frame.
    Close,
}

/// A REST snapshot request's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotBody {
    /// The body.
    Ready(String),
    /// The venue's book is not known yet (a capture before its snapshot line).
    NotReady,
}

/// One connection's subscription.
#[derive(Debug)]
pub struct Sub {
    /// Connection id.
    pub id: u64,
    /// Stream keys it receives (`btcusdt@depth`, `books:BTC-USDT`).
    pub keys: HashSet<String>,
    /// Where its frames go.
    pub tx: Sender<Out>,
}

/// A captured diff held until the capture's snapshot line: `U`, `u`, changed levels.
type BufferedDiff = (u64, u64, Vec<(Side, i64, i64)>);

/// One symbol's state at the venue.
#[derive(Debug)]
pub struct Symbol {
    /// Symbol as the venue writes it in payloads (`BTCUSDT`, `BTC-USDT`).
    pub name: String,
    /// The book.
    pub book: SimBook,
    /// Binance: last update id. OKX: last `seqId`.
    pub update_id: u64,
    /// Whether the book is known (a capture's book before its snapshot line is not).
    pub loaded: bool,
    mid: i64,
    tick: i64,
    lot: i64,
    trade_id: u64,
    steps: u64,
    /// Capture mode: diffs seen before the snapshot line (`U`, `u`, levels).
    buffered: Vec<BufferedDiff>,
}

/// Counters of a simulator run.
#[derive(Debug, Default)]
pub struct SimStats {
    /// Data frames produced by the venue.
    pub frames: AtomicU64,
    /// Frames handed to connections.
    pub sent: AtomicU64,
    /// WebSocket connections accepted.
    pub connections: AtomicU64,
    /// REST snapshots served.
    pub snapshots: AtomicU64,
    /// Faults fired.
    pub faults: AtomicU64,
}

/// The venue's state, behind one lock.
#[derive(Debug)]
pub struct VenueState {
    /// Which venue.
    pub kind: SimVenue,
    /// Symbols, in CLI order.
    pub symbols: Vec<Symbol>,
    /// Live subscriptions.
    pub subs: Vec<Sub>,
    /// The capture's first snapshot line, served until the venue's own book is known.
    pub capture_snapshot: Option<String>,
    last_diff: Option<(String, Utf8Bytes)>,
    drop_next_diff: bool,
    rng: u64,
}

/// State shared by the venue thread and the connections.
#[derive(Debug)]
pub struct Shared {
    /// The venue.
    pub venue: Mutex<VenueState>,
    /// Set to stop every thread.
    pub stop: AtomicBool,
    /// Counters.
    pub stats: SimStats,
}

impl Shared {
    /// Locks the venue (a panicked holder leaves usable state: the simulator keeps going).
    pub fn lock(&self) -> MutexGuard<'_, VenueState> {
        self.venue.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn now_ms() -> i64 {
    Clock::now().0 / 1_000_000
}

/// Parses a venue decimal string at [`SCALE`].
pub fn raw(text: &str) -> Option<i64> {
    parse_fixed(text.as_bytes(), Scale::new(SCALE as u8)?).ok()
}

impl VenueState {
    /// A venue quoting `symbols` synthetically from `start` prices.
    pub fn synthetic(kind: SimVenue, symbols: &[String], seed: u64) -> VenueState {
        let mut v = VenueState {
            kind,
            symbols: Vec::new(),
            subs: Vec::new(),
            capture_snapshot: None,
            last_diff: None,
            drop_next_diff: false,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
        };
        for (i, name) in symbols.iter().enumerate() {
            let (tick, lot) = match kind {
                SimVenue::Binance => (1_000_000, 1_000), // 0.01, 0.00001
                SimVenue::Okx => (10_000_000, 10_000),   // 0.1, 0.0001
            };
            // 60000, 3000, 150, ... : distinct, plausible prices.
            let start = 60_000i64 / 20i64.pow(i as u32 % 4) * 100_000_000;
            let mut s = Symbol {
                name: name.clone(),
                book: SimBook::default(),
                update_id: 1_000_000 * (i as u64 + 1),
                loaded: true,
                mid: start,
                tick,
                lot,
                trade_id: 1,
                steps: 0,
                buffered: Vec::new(),
            };
            for k in 1..=DEPTH {
                let q = lot * (1 + (v.rand() % 5_000) as i64);
                s.book.set(Side::Bid, start - k * tick, q);
                let q = lot * (1 + (v.rand() % 5_000) as i64);
                s.book.set(Side::Ask, start + k * tick, q);
            }
            v.symbols.push(s);
        }
        v
    }

    /// A venue replaying a capture of `symbols` (books follow the capture).
    pub fn capture(kind: SimVenue, symbols: &[String], snapshot: Option<String>) -> VenueState {
        let mut v = VenueState::synthetic(kind, symbols, 1);
        for s in &mut v.symbols {
            s.book.clear();
            s.loaded = false;
            s.update_id = 0;
        }
        v.capture_snapshot = snapshot;
        v
    }

    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Adds a subscriber.
    pub fn subscribe(&mut self, id: u64, keys: HashSet<String>, tx: Sender<Out>) {
        self.subs.push(Sub { id, keys, tx });
    }

    /// Removes a subscriber.
    pub fn unsubscribe(&mut self, id: u64) {
        self.subs.retain(|s| s.id != id);
    }

    /// The subscriber `id`.
    pub fn sub_mut(&mut self, id: u64) -> Option<&mut Sub> {
        self.subs.iter_mut().find(|s| s.id == id)
    }

    fn symbol_index(&self, name: &str) -> Option<usize> {
        self.symbols.iter().position(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The Binance REST depth snapshot body for `symbol` (`None` if it is not quoted here).
    pub fn binance_snapshot(&self, symbol: &str, limit: usize) -> Option<SnapshotBody> {
        let s = &self.symbols[self.symbol_index(symbol)?];
        if !s.loaded {
            return Some(match &self.capture_snapshot {
                Some(b) => SnapshotBody::Ready(b.clone()),
                None => SnapshotBody::NotReady,
            });
        }
        let (bids, asks) = s.book.top(limit);
        let side = |l: &[(i64, i64)]| {
            l.iter()
                .map(|&(p, q)| {
                    format!(r#"["{}","{}"]"#, fixed(p, SCALE, true), fixed(q, SCALE, true))
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        Some(SnapshotBody::Ready(format!(
            r#"{{"lastUpdateId":{},"bids":[{}],"asks":[{}]}}"#,
            s.update_id,
            side(&bids),
            side(&asks)
        )))
    }

    /// The OKX `books` snapshot push for `inst_id`.
    pub fn okx_snapshot(&self, inst_id: &str) -> Option<String> {
        let s = &self.symbols[self.symbol_index(inst_id)?];
        let (bids, asks) = s.book.top(400);
        Some(format!(
            r#"{{"arg":{{"channel":"books","instId":"{}"}},"action":"snapshot","data":[{{"asks":[{}],"bids":[{}],"ts":"{}","checksum":0,"prevSeqId":-1,"seqId":{}}}]}}"#,
            s.name,
            okx_levels(&asks),
            okx_levels(&bids),
            now_ms(),
            s.update_id
        ))
    }

    /// Whether `symbol` is quoted here.
    pub fn knows(&self, symbol: &str) -> bool {
        self.symbol_index(symbol).is_some()
    }
}

fn okx_levels(l: &[(i64, i64)]) -> String {
    l.iter()
        .map(|&(p, q)| {
            format!(r#"["{}","{}","0","1"]"#, fixed(p, SCALE, false), fixed(q, SCALE, false))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn binance_levels(l: &[(i64, i64)]) -> String {
    l.iter()
        .map(|&(p, q)| format!(r#"["{}","{}"]"#, fixed(p, SCALE, true), fixed(q, SCALE, true)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A produced data frame: its stream key and whether it is a book diff.
#[derive(Clone, Debug)]
pub struct Frame {
    /// Stream key subscribers match.
    pub key: String,
    /// Whether a `drop` fault may take it.
    pub diff: bool,
    /// The text.
    pub text: Utf8Bytes,
}

/// Normalizes a Binance stream name into a key: every depth speed is one stream.
pub fn binance_key(stream: &str) -> String {
    let s = stream.to_ascii_lowercase();
    match s.find("@depth") {
        Some(i) => format!("{}@depth", &s[..i]),
        None => s,
    }
}

impl VenueState {
    /// One synthetic step of symbol `i`: its diff, a new top if it moved, sometimes a trade.
    pub fn synthetic_step(&mut self, i: usize) -> Vec<Frame> {
        let r = self.rand();
        let r2 = self.rand();
        let r3 = self.rand();
        let kind = self.kind;
        let s = &mut self.symbols[i];
        s.steps += 1;
        let before = (s.book.best_bid(), s.book.best_ask());
        let mut changes: Vec<(Side, i64, i64)> = Vec::new();
        if r % 4 == 0 {
            let q = s.lot * (1 + (r2 % 3_000) as i64);
            if (r >> 8) & 1 == 1 {
                changes.push((Side::Ask, s.mid + s.tick, 0));
                s.mid += s.tick;
                changes.push((Side::Bid, s.mid - s.tick, q));
                changes.push((Side::Bid, s.mid - (DEPTH + 1) * s.tick, 0));
            } else {
                changes.push((Side::Bid, s.mid - s.tick, 0));
                s.mid -= s.tick;
                changes.push((Side::Ask, s.mid + s.tick, q));
                changes.push((Side::Ask, s.mid + (DEPTH + 1) * s.tick, 0));
            }
        }
        for k in 0..1 + (r >> 16) % 3 {
            let x = r3.rotate_left(k as u32 * 21);
            let side = if x & 1 == 0 { Side::Bid } else { Side::Ask };
            let dist = 1 + ((x >> 1) % DEPTH as u64) as i64;
            let px = match side {
                Side::Bid => s.mid - dist * s.tick,
                Side::Ask => s.mid + dist * s.tick,
            };
            let qty = if (x >> 9) % 5 == 0 { 0 } else { s.lot * (1 + ((x >> 12) % 5_000) as i64) };
            changes.push((side, px, qty));
        }
        for &(side, px, qty) in &changes {
            s.book.set(side, px, qty);
        }
        let first = s.update_id + 1;
        s.update_id += changes.len() as u64;
        let last = s.update_id;
        let ms = now_ms();
        let bids: Vec<_> =
            changes.iter().filter(|c| c.0 == Side::Bid).map(|c| (c.1, c.2)).collect();
        let asks: Vec<_> =
            changes.iter().filter(|c| c.0 == Side::Ask).map(|c| (c.1, c.2)).collect();
        let top = (s.book.best_bid(), s.book.best_ask());
        let mut out = Vec::with_capacity(3);
        let lower = s.name.to_ascii_lowercase();
        match kind {
            SimVenue::Binance => {
                // bookTicker is real-time and depth is batched: on Binance the ticker of an
                // update id arrives before the diff that carries it.
                let depth = Frame {
                    key: format!("{lower}@depth"),
                    diff: true,
                    text: format!(
                        r#"{{"stream":"{lower}@depth@100ms","data":{{"e":"depthUpdate","E":{ms},"s":"{}","U":{first},"u":{last},"b":[{}],"a":[{}]}}}}"#,
                        s.name,
                        binance_levels(&bids),
                        binance_levels(&asks)
                    )
                    .into(),
                };
                if top != before {
                    let ((bp, bq), (ap, aq)) = (top.0.unwrap_or((0, 0)), top.1.unwrap_or((0, 0)));
                    out.push(Frame {
                        key: format!("{lower}@bookticker"),
                        diff: false,
                        text: format!(
                            r#"{{"stream":"{lower}@bookTicker","data":{{"u":{last},"s":"{}","b":"{}","B":"{}","a":"{}","A":"{}"}}}}"#,
                            s.name,
                            fixed(bp, SCALE, true),
                            fixed(bq, SCALE, true),
                            fixed(ap, SCALE, true),
                            fixed(aq, SCALE, true)
                        )
                        .into(),
                    });
                }
                out.push(depth);
                if s.steps % 3 == 0 {
                    let (px, maker) = if r2 & 1 == 0 { (top.0, true) } else { (top.1, false) };
                    let px = px.map_or(s.mid, |l| l.0);
                    s.trade_id += 1;
                    out.push(Frame {
                        key: format!("{lower}@trade"),
                        diff: false,
                        text: format!(
                            r#"{{"stream":"{lower}@trade","data":{{"e":"trade","E":{ms},"s":"{}","t":{},"p":"{}","q":"{}","T":{ms},"m":{maker},"M":true}}}}"#,
                            s.name,
                            s.trade_id,
                            fixed(px, SCALE, true),
                            fixed(s.lot * (1 + (r3 % 100) as i64), SCALE, true)
                        )
                        .into(),
                    });
                }
            }
            SimVenue::Okx => {
                let prev = first - 1;
                out.push(Frame {
                    key: format!("books:{}", s.name),
                    diff: true,
                    text: format!(
                        r#"{{"arg":{{"channel":"books","instId":"{}"}},"action":"update","data":[{{"asks":[{}],"bids":[{}],"ts":"{ms}","checksum":0,"prevSeqId":{prev},"seqId":{last}}}]}}"#,
                        s.name,
                        okx_levels(&asks),
                        okx_levels(&bids)
                    )
                    .into(),
                });
                if top != before {
                    let (b, a) = (
                        top.0.into_iter().collect::<Vec<_>>(),
                        top.1.into_iter().collect::<Vec<_>>(),
                    );
                    out.push(Frame {
                        key: format!("bbo-tbt:{}", s.name),
                        diff: false,
                        text: format!(
                            r#"{{"arg":{{"channel":"bbo-tbt","instId":"{}"}},"data":[{{"asks":[{}],"bids":[{}],"ts":"{ms}","seqId":{last}}}]}}"#,
                            s.name,
                            okx_levels(&a),
                            okx_levels(&b)
                        )
                        .into(),
                    });
                }
                if s.steps % 3 == 0 {
                    let (px, side) = if r2 & 1 == 0 { (top.0, "sell") } else { (top.1, "buy") };
                    let px = px.map_or(s.mid, |l| l.0);
                    s.trade_id += 1;
                    out.push(Frame {
                        key: format!("trades:{}", s.name),
                        diff: false,
                        text: format!(
                            r#"{{"arg":{{"channel":"trades","instId":"{0}"}},"data":[{{"instId":"{0}","tradeId":"{1}","px":"{2}","sz":"{3}","side":"{side}","ts":"{ms}"}}]}}"#,
                            s.name,
                            s.trade_id,
                            fixed(px, SCALE, false),
                            fixed(s.lot * (1 + (r3 % 100) as i64), SCALE, false)
                        )
                        .into(),
                    });
                }
            }
        }
        out
    }

    /// A captured line: returns the frame to send, if it is one (snapshot lines load the
    /// venue's book instead).
    pub fn capture_line(&mut self, line: &str) -> Option<Frame> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        if let Some(last) = v.get("lastUpdateId").and_then(serde_json::Value::as_u64) {
            // A REST snapshot (of the first symbol: captures hold one book each).
            let s = self.symbols.first_mut()?;
            if !s.loaded {
                s.book.clear();
                for (side, key) in [(Side::Bid, "bids"), (Side::Ask, "asks")] {
                    for l in v.get(key).and_then(|x| x.as_array()).into_iter().flatten() {
                        let p = l.get(0).and_then(|x| x.as_str()).and_then(raw);
                        let q = l.get(1).and_then(|x| x.as_str()).and_then(raw);
                        if let (Some(p), Some(q)) = (p, q) {
                            s.book.set(side, p, q);
                        }
                    }
                }
                s.update_id = last;
                s.loaded = true;
                for (first, u, levels) in std::mem::take(&mut s.buffered) {
                    if u > s.update_id && first <= s.update_id + 1 {
                        for (side, p, q) in levels {
                            s.book.set(side, p, q);
                        }
                        s.update_id = u;
                    }
                }
            }
            return None;
        }
        let text: Utf8Bytes = line.to_owned().into();
        if self.kind == SimVenue::Okx {
            let arg = v.get("arg")?;
            let ch = arg.get("channel")?.as_str()?;
            let inst = arg.get("instId")?.as_str()?;
            return Some(Frame {
                key: format!("{ch}:{inst}"),
                diff: ch.starts_with("books"),
                text,
            });
        }
        let stream = v.get("stream")?.as_str()?;
        let key = binance_key(stream);
        let diff = key.ends_with("@depth");
        if diff {
            let d = v.get("data")?;
            let sym = d.get("s")?.as_str()?;
            let first = d.get("U")?.as_u64()?;
            let last = d.get("u")?.as_u64()?;
            let mut levels = Vec::new();
            for (side, k) in [(Side::Bid, "b"), (Side::Ask, "a")] {
                for l in d.get(k)?.as_array()? {
                    let p = l.get(0).and_then(|x| x.as_str()).and_then(raw);
                    let q = l.get(1).and_then(|x| x.as_str()).and_then(raw);
                    if let (Some(p), Some(q)) = (p, q) {
                        levels.push((side, p, q));
                    }
                }
            }
            if let Some(i) = self.symbol_index(sym) {
                let s = &mut self.symbols[i];
                if s.loaded {
                    if last > s.update_id {
                        for (side, p, q) in levels {
                            s.book.set(side, p, q);
                        }
                        s.update_id = last;
                    }
                } else {
                    s.buffered.push((first, last, levels));
                }
            }
        }
        Some(Frame { key, diff, text })
    }

    /// A frame with one bad value, in this venue's format.
    pub fn bad_frame(&self, bad: BadValue) -> Utf8Bytes {
        let name = self.symbols.first().map_or("BTCUSDT", |s| s.name.as_str());
        let lower = name.to_ascii_lowercase();
        let text = match self.kind {
            SimVenue::Binance => {
                let (stream, s, b, extra) = match bad {
                    BadValue::WrongType => (format!("{lower}@bookTicker"), name.to_owned(), "100.00".to_owned(), "wrong-type"),
                    BadValue::UnknownSymbol => ("zzzusdt@bookTicker".into(), "ZZZUSDT".into(), "\"100.00\"".into(), ""),
                    BadValue::Negative => (format!("{lower}@bookTicker"), name.to_owned(), "\"-100.00\"".into(), ""),
                    BadValue::Overflow => (format!("{lower}@bookTicker"), name.to_owned(), "\"99999999999999999999.00\"".into(), ""),
                    BadValue::TooPrecise => (format!("{lower}@bookTicker"), name.to_owned(), "\"100.1234567891234567891\"".into(), ""),
                    BadValue::BadNumber => (format!("{lower}@bookTicker"), name.to_owned(), "\"abc\"".into(), ""),
                    BadValue::MissingField => (format!("{lower}@bookTicker"), name.to_owned(), "\"100.00\"".into(), "missing"),
                    BadValue::UnknownStream => (format!("{lower}@kline_1m"), name.to_owned(), "\"100.00\"".into(), ""),
                    BadValue::SymbolMismatch => (format!("{lower}@bookTicker"), "ZZZUSDT".into(), "\"100.00\"".into(), ""),
                    BadValue::BadSequence => {
                        return format!(
                            r#"{{"stream":"{lower}@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"{name}","U":9,"u":5,"b":[],"a":[]}}}}"#
                        )
                        .into()
                    }
                };
                let tail = if extra == "missing" { "" } else { r#","A":"1.00""# };
                format!(
                    r#"{{"stream":"{stream}","data":{{"u":1,"s":"{s}","b":{b},"B":"1.00","a":"101.00"{tail}}}}}"#
                )
            }
            SimVenue::Okx => {
                let bbo = |inst: &str, px: &str, ts: &str| {
                    format!(
                        r#"{{"arg":{{"channel":"bbo-tbt","instId":"{inst}"}},"data":[{{"asks":[["101.0","1","0","1"]],"bids":[[{px},"1","0","1"]]{ts},"seqId":1}}]}}"#
                    )
                };
                let ts = r#","ts":"1""#;
                match bad {
                    BadValue::WrongType => bbo(name, "100.0", ts),
                    BadValue::UnknownSymbol => bbo("ZZZ-USDT", "\"100.0\"", ts),
                    BadValue::Negative => bbo(name, "\"-100.0\"", ts),
                    BadValue::Overflow => bbo(name, "\"99999999999999999999.0\"", ts),
                    BadValue::TooPrecise => bbo(name, "\"100.1234567891234567891\"", ts),
                    BadValue::BadNumber => bbo(name, "\"abc\"", ts),
                    BadValue::MissingField => bbo(name, "\"100.0\"", ""),
                    BadValue::UnknownStream => {
                        format!(r#"{{"arg":{{"channel":"candle1m","instId":"{name}"}},"data":[]}}"#)
                    }
                    BadValue::SymbolMismatch => format!(
                        r#"{{"arg":{{"channel":"trades","instId":"{name}"}},"data":[{{"instId":"ZZZ-USDT","tradeId":"1","px":"100.0","sz":"1","side":"buy","ts":"1"}}]}}"#
                    ),
                    BadValue::BadSequence => format!(
                        r#"{{"arg":{{"channel":"books","instId":"{name}"}},"action":"update","data":[{{"asks":[],"bids":[],"ts":"1","checksum":0,"prevSeqId":-7,"seqId":-9}}]}}"#
                    ),
                }
            }
        };
        text.into()
    }

    /// Hands `frame` to every subscriber of its key (or all, for `key` None); returns how
    /// many took it.
    pub fn broadcast(&mut self, key: Option<&str>, out: &Out) -> u64 {
        let mut n = 0;
        self.subs.retain(|s| {
            if key.is_some_and(|k| !s.keys.contains(k)) {
                return true;
            }
            n += 1;
            s.tx.send(out.clone()).is_ok()
        });
        n
    }

    fn slowest(&self) -> usize {
        self.subs.iter().map(|s| s.tx.len()).max().unwrap_or(0)
    }
}

/// Where the venue's frames come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The seeded synthetic book, `rate` steps per second (0 = as fast as read).
    Synthetic {
        /// Steps per second over all symbols.
        rate: u64,
    },
    /// A capture's lines.
    Capture {
        /// `(recv_ns, line)` in order.
        lines: Arc<Vec<(i64, String)>>,
        /// Pacing.
        pace: Pace,
    },
}

/// Runs the venue until `shared.stop`.
pub fn run_venue(shared: &Shared, source: Source, faults: &[Fault], max_frames: Option<u64>) {
    let started = Instant::now();
    let mut paused = Duration::ZERO;
    let mut step: u64 = 0;
    let mut line = 0usize;
    let mut produced: u64 = 0;
    let first_ns = match &source {
        Source::Capture { lines, .. } => lines.first().map_or(0, |l| l.0),
        Source::Synthetic { .. } => 0,
    };
    let mut batch: Vec<Frame> = Vec::new();
    while !shared.stop.load(Ordering::Relaxed) {
        if max_frames.is_some_and(|m| produced >= m) {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        {
            let v = shared.lock();
            if v.subs.is_empty() || v.slowest() > MAX_QUEUED {
                drop(v);
                let t = Instant::now();
                std::thread::sleep(Duration::from_millis(1));
                paused += t.elapsed();
                continue;
            }
        }
        // Pacing: when is the next item due, on the paused-adjusted clock?
        let due = match &source {
            Source::Synthetic { rate: 0 } => None,
            Source::Synthetic { rate } => {
                Some(Duration::from_nanos(step.saturating_mul(1_000_000_000) / rate))
            }
            Source::Capture { pace: Pace::Fast, .. } => None,
            Source::Capture { lines, pace: Pace::Recorded } => lines
                .get(line)
                .map(|l| Duration::from_nanos(l.0.saturating_sub(first_ns).max(0) as u64)),
        };
        if let Some(due) = due {
            let at = due + paused;
            let el = started.elapsed();
            if at > el {
                std::thread::sleep((at - el).min(Duration::from_millis(2)));
                continue;
            }
        }
        let mut v = shared.lock();
        batch.clear();
        match &source {
            Source::Synthetic { .. } => {
                let n = v.symbols.len().max(1);
                let i = (step % n as u64) as usize;
                if !v.symbols.is_empty() {
                    batch.extend(v.synthetic_step(i));
                }
            }
            Source::Capture { lines, .. } => {
                let Some((_, text)) = lines.get(line) else {
                    drop(v);
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                line += 1;
                batch.extend(v.capture_line(text));
            }
        }
        step += 1;
        let mut stall = None;
        for f in batch.drain(..) {
            produced += 1;
            shared.stats.frames.fetch_add(1, Ordering::Relaxed);
            let mut resend = None;
            for fault in faults.iter().filter(|x| x.fires_at(produced)) {
                shared.stats.faults.fetch_add(1, Ordering::Relaxed);
                tracing::info!(frame = produced, fault = ?fault.kind, "feed-sim fault");
                match &fault.kind {
                    FaultKind::Drop => v.drop_next_diff = true,
                    FaultKind::Disconnect => {
                        v.broadcast(None, &Out::Disconnect);
                    }
                    FaultKind::Close => {
                        v.broadcast(None, &Out::Close);
                    }
                    FaultKind::Stall(ms) => stall = Some(Duration::from_millis(*ms)),
                    FaultKind::Malformed => {
                        // Truncated, and broken before the cut: a truncation alone can leave
                        // a prefix that fails a value check before the syntax is seen.
                        let cut = f.text.as_str();
                        let cut = cut[..cut.len() / 2].replacen(',', ";", 1);
                        v.broadcast(None, &Out::Text(cut.into()));
                    }
                    FaultKind::Oversized(n) => {
                        let body = format!(r#"{{"stream":"x","data":"{}"}}"#, "x".repeat(*n));
                        v.broadcast(None, &Out::Text(body.into()));
                    }
                    FaultKind::Binary => {
                        v.broadcast(None, &Out::Binary(f.text.as_bytes().to_vec()));
                    }
                    FaultKind::PingStorm(n) => {
                        v.broadcast(None, &Out::Pings(*n));
                    }
                    FaultKind::Reorder => resend = v.last_diff.clone(),
                    FaultKind::Bad(b) => {
                        let t = v.bad_frame(*b);
                        v.broadcast(None, &Out::Text(t));
                    }
                }
            }
            if f.diff {
                v.last_diff = Some((f.key.clone(), f.text.clone()));
                if v.drop_next_diff {
                    v.drop_next_diff = false;
                    continue;
                }
            }
            let n = v.broadcast(Some(&f.key), &Out::Text(f.text));
            shared.stats.sent.fetch_add(n, Ordering::Relaxed);
            if let Some((k, t)) = resend {
                v.broadcast(Some(&k), &Out::Text(t));
            }
        }
        drop(v);
        if let Some(d) = stall {
            let t = Instant::now();
            while t.elapsed() < d && !shared.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(2));
            }
            paused += t.elapsed();
        }
    }
}
