//! OKX v5 public WebSocket decoding: `books` (and its tick-by-tick variants), `bbo-tbt` and
//! `trades`.
//!
//! OKX frames are read on the reusable `simd-json` tape alone (no hand-written fast path):
//! the venue is here to prove that the normalization — fixed-point levels at the instrument's
//! scale, dense instrument ids, the shared [`OrderBook`](crate::book::OrderBook) and
//! [`Tick`] — holds for a second venue with different symbols and sequencing. The tape, the
//! level buffer and the trade buffer are kept between frames, so after warm-up this path
//! does not allocate either.
//!
//! Shapes (OKX documentation):
//!
//! ```text
//! {"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot"|"update",
//!  "data":[{"asks":[["8476.98","415","0","13"]],"bids":[...],"ts":"1597026383085",
//!           "checksum":-855196043,"prevSeqId":-1,"seqId":123456}]}
//! {"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},
//!  "data":[{"asks":[["8476.98","415","0","13"]],"bids":[...],"ts":"1597026383085","seqId":123456}]}
//! {"arg":{"channel":"trades","instId":"BTC-USDT"},
//!  "data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306",
//!           "side":"buy","ts":"1630048897897","count":"3"}]}
//! ```

use tickline_engine::types::{
    Aggressor, InstrumentId, InstrumentRegistry, Level, Nanos, Px, Qty, Tick,
};

use crate::decode_error::DecodeError;
use crate::error::Result;
use crate::json::tape::{TapeScratch, Val};
use crate::json::{self};
use crate::payload::Payload;
use crate::symbol_table::{KeyCase, SymbolEntry, SymbolTable};

/// Venue name of OKX instruments in the registry.
pub const VENUE: &str = "okx";

/// Default limit on a frame (a 400-level `books` snapshot is about 30 KB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// Whether a `books` push is a full snapshot or an incremental update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookAction {
    /// The whole book (first push after subscribing).
    Snapshot,
    /// Changed levels only; size `"0"` deletes.
    Update,
}

/// A `books` / `books-l2-tbt` / `books50-l2-tbt` push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxBook<'a> {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Snapshot or update.
    pub action: BookAction,
    /// This push's sequence id.
    pub seq_id: i64,
    /// The previous push's sequence id (`-1` on a snapshot).
    pub prev_seq_id: i64,
    /// Book time.
    pub ts: Nanos,
    /// OKX's CRC32 of the top 25 levels, when sent (not verified; see the crate notes).
    pub checksum: Option<i64>,
    /// Bid levels.
    pub bids: &'a [Level],
    /// Ask levels.
    pub asks: &'a [Level],
}

/// A `bbo-tbt` push: the top of book, tick by tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxQuote {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Best bid (zero when the side is empty).
    pub bid: Level,
    /// Best ask (zero when the side is empty).
    pub ask: Level,
    /// Sequence id.
    pub seq_id: u64,
    /// Book time.
    pub ts: Nanos,
}

impl OkxQuote {
    /// The normalized quote tick.
    #[inline]
    pub fn to_tick(&self, recv_ns: Nanos) -> Tick {
        Tick::quote(self.instrument, self.bid, self.ask, self.seq_id, self.ts, recv_ns)
    }
}

/// One public trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OkxTrade {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Trade id.
    pub trade_id: u64,
    /// Price.
    pub px: Px,
    /// Size.
    pub qty: Qty,
    /// Taker side.
    pub aggressor: Aggressor,
    /// Trade time.
    pub ts: Nanos,
}

impl OkxTrade {
    /// The normalized trade tick.
    #[inline]
    pub fn to_tick(&self, recv_ns: Nanos) -> Tick {
        Tick::trade(
            self.instrument,
            Level { px: self.px, qty: self.qty },
            self.aggressor,
            self.trade_id,
            self.ts,
            recv_ns,
        )
    }
}

/// One decoded OKX frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OkxEvent<'a> {
    /// An order book push.
    Book(OkxBook<'a>),
    /// A top-of-book push.
    Quote(OkxQuote),
    /// One or more trades.
    Trades(&'a [OkxTrade]),
    /// A control message (`{"event":"subscribe"|"error"|…}`).
    Control {
        /// Whether it reports an error (`"event":"error"`).
        error: bool,
    },
    /// The venue's `pong` reply to our `ping`.
    Pong,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    Books,
    Bbo,
    Trades,
}

enum Parsed {
    Book {
        instrument: InstrumentId,
        action: BookAction,
        seq_id: i64,
        prev_seq_id: i64,
        ts: Nanos,
        checksum: Option<i64>,
        n_bids: usize,
    },
    Quote(OkxQuote),
    Trades,
    Control(bool),
}

fn ts(v: Val<'_, '_>) -> Result<Nanos, DecodeError> {
    json::millis(json::parse_uint_str(v.str()?.as_bytes())?)
}

fn level(v: Val<'_, '_>, e: &SymbolEntry) -> Result<Level, DecodeError> {
    // [price, size, deprecated "0", order count]
    let mut it = v.items()?;
    if it.len() < 2 {
        return Err(DecodeError::WrongType);
    }
    let px = it.next_val()?.ok_or(DecodeError::Malformed)?.decimal(e.price_scale)?;
    let qty = it.next_val()?.ok_or(DecodeError::Malformed)?.decimal(e.qty_scale)?;
    Ok(Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) })
}

fn levels(v: Val<'_, '_>, e: &SymbolEntry, out: &mut Vec<Level>) -> Result<usize, DecodeError> {
    let mut items = v.items()?;
    let n = items.len();
    while let Some(l) = items.next_val()? {
        out.push(level(l, e)?);
    }
    Ok(n)
}

fn best(v: Val<'_, '_>, e: &SymbolEntry) -> Result<Level, DecodeError> {
    let mut items = v.items()?;
    let first = items.next_val()?.map(|l| level(l, e)).transpose()?;
    // Validate the rest too: bad input anywhere rejects the frame.
    while let Some(l) = items.next_val()? {
        level(l, e)?;
    }
    Ok(first.unwrap_or_default())
}

fn only_item<'t, 'i>(data: Val<'t, 'i>) -> Result<Val<'t, 'i>, DecodeError> {
    let mut items = data.items()?;
    if items.len() != 1 {
        return Err(DecodeError::WrongType);
    }
    items.next_val()?.ok_or(DecodeError::Malformed)
}

fn read(
    root: Val<'_, '_>,
    symbols: &SymbolTable,
    lv: &mut Vec<Level>,
    trades: &mut Vec<OkxTrade>,
) -> Result<Parsed, DecodeError> {
    if !root.is_object() {
        return Err(DecodeError::WrongType);
    }
    if let Some(ev) = root.get("event")? {
        return Ok(Parsed::Control(ev.str()? == "error"));
    }
    let arg = root.field("arg")?;
    let chan = match arg.field("channel")?.str()? {
        "books" | "books-l2-tbt" | "books50-l2-tbt" => Channel::Books,
        "bbo-tbt" => Channel::Bbo,
        "trades" => Channel::Trades,
        _ => return Err(DecodeError::UnknownStream),
    };
    let e = *symbols
        .lookup(arg.field("instId")?.str()?.as_bytes())
        .ok_or(DecodeError::UnknownSymbol)?;
    let data = root.field("data")?;
    match chan {
        Channel::Books => {
            let action = match root.field("action")?.str()? {
                "snapshot" => BookAction::Snapshot,
                "update" => BookAction::Update,
                _ => return Err(DecodeError::UnknownStream),
            };
            let d = only_item(data)?;
            let seq_id = d.field("seqId")?.int()?;
            let prev_seq_id = match d.get("prevSeqId")? {
                Some(v) => v.int()?,
                None => -1,
            };
            if seq_id < 0 || prev_seq_id < -1 {
                return Err(DecodeError::Negative);
            }
            let checksum = d.get("checksum")?.map(|v| v.int()).transpose()?;
            let ts = ts(d.field("ts")?)?;
            let n_bids = levels(d.field("bids")?, &e, lv)?;
            levels(d.field("asks")?, &e, lv)?;
            Ok(Parsed::Book { instrument: e.id, action, seq_id, prev_seq_id, ts, checksum, n_bids })
        }
        Channel::Bbo => {
            let d = only_item(data)?;
            Ok(Parsed::Quote(OkxQuote {
                instrument: e.id,
                bid: best(d.field("bids")?, &e)?,
                ask: best(d.field("asks")?, &e)?,
                seq_id: d.field("seqId")?.uint()?,
                ts: ts(d.field("ts")?)?,
            }))
        }
        Channel::Trades => {
            let mut items = data.items()?;
            if items.len() == 0 {
                return Err(DecodeError::MissingField);
            }
            while let Some(d) = items.next_val()? {
                if let Some(inst) = d.get("instId")? {
                    if inst.str()?.as_bytes() != e.key() {
                        return Err(DecodeError::SymbolMismatch);
                    }
                }
                let aggressor = match d.field("side")?.str()? {
                    "buy" => Aggressor::Buy,
                    "sell" => Aggressor::Sell,
                    _ => return Err(DecodeError::WrongType),
                };
                trades.push(OkxTrade {
                    instrument: e.id,
                    trade_id: json::parse_uint_str(d.field("tradeId")?.str()?.as_bytes())?,
                    px: Px::from_raw(d.field("px")?.decimal(e.price_scale)?),
                    qty: Qty::from_raw(d.field("sz")?.decimal(e.qty_scale)?),
                    aggressor,
                    ts: ts(d.field("ts")?)?,
                });
            }
            Ok(Parsed::Trades)
        }
    }
}

/// Decodes OKX public frames for a fixed set of instruments. Owned by the feed thread.
#[derive(Debug)]
pub struct OkxDecoder {
    symbols: SymbolTable,
    max_frame: usize,
    scratch: TapeScratch,
    levels: Vec<Level>,
    trades: Vec<OkxTrade>,
}

impl OkxDecoder {
    /// A decoder for every registry instrument whose venue is [`VENUE`] (keys are the
    /// registry symbols as OKX spells them: `BTC-USDT`, `BTC-USDT-SWAP`).
    pub fn new(registry: &InstrumentRegistry) -> Result<OkxDecoder> {
        Ok(OkxDecoder::with_symbols(SymbolTable::build(registry, VENUE, KeyCase::AsIs)?))
    }

    /// A decoder for a prepared table.
    pub fn with_symbols(symbols: SymbolTable) -> OkxDecoder {
        OkxDecoder {
            symbols,
            max_frame: DEFAULT_MAX_FRAME_BYTES,
            scratch: TapeScratch::new(),
            levels: Vec::new(),
            trades: Vec::new(),
        }
    }

    /// Sets the frame size limit.
    #[must_use]
    pub fn with_max_frame(mut self, max_frame_bytes: usize) -> Self {
        self.max_frame = max_frame_bytes;
        self
    }

    /// The symbol table.
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Decodes one WebSocket message.
    pub fn decode<'a>(&'a mut self, payload: Payload<'a>) -> Result<OkxEvent<'a>, DecodeError> {
        match payload {
            Payload::Text(frame) => self.decode_text(frame),
            Payload::Binary(_) => Err(DecodeError::Binary),
        }
    }

    /// Decodes one text frame.
    pub fn decode_text(&mut self, frame: &[u8]) -> Result<OkxEvent<'_>, DecodeError> {
        if frame.len() > self.max_frame {
            return Err(DecodeError::TooLarge);
        }
        if frame == b"pong" {
            return Ok(OkxEvent::Pong);
        }
        self.levels.clear();
        self.trades.clear();
        let symbols = &self.symbols;
        let lv = &mut self.levels;
        let trades = &mut self.trades;
        let parsed = self.scratch.parse(frame, |root| read(root, symbols, lv, trades))?;
        Ok(match parsed {
            Parsed::Book { instrument, action, seq_id, prev_seq_id, ts, checksum, n_bids } => {
                let (bids, asks) = self.levels.split_at(n_bids.min(self.levels.len()));
                OkxEvent::Book(OkxBook {
                    instrument,
                    action,
                    seq_id,
                    prev_seq_id,
                    ts,
                    checksum,
                    bids,
                    asks,
                })
            }
            Parsed::Quote(q) => OkxEvent::Quote(q),
            Parsed::Trades => OkxEvent::Trades(&self.trades),
            Parsed::Control(error) => OkxEvent::Control { error },
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tickline_engine::types::InstrumentSpec;

    pub(crate) fn registry() -> InstrumentRegistry {
        let spec = |sym: &str, venue: &str, price_scale: u8, qty_scale: u8| InstrumentSpec {
            symbol: sym.into(),
            venue: venue.into(),
            price_scale,
            qty_scale,
            tick_size: Decimal::new(1, u32::from(price_scale)),
            lot_size: Decimal::new(1, u32::from(qty_scale)),
        };
        InstrumentRegistry::build(&[
            spec("BTCUSDT", "binance", 2, 5),
            spec("BTC-USDT", "okx", 1, 8),
            spec("BTC-USDT-SWAP", "okx", 1, 0),
        ])
        .unwrap()
    }

    pub(crate) const BTC: InstrumentId = InstrumentId(1);

    pub(crate) const SNAPSHOT: &[u8] = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"snapshot","data":[{"asks":[["42219.9","0.12060306","0","3"],["42220.5","1.5","0","2"]],"bids":[["42219.8","0.5","0","1"],["42219","2","0","4"]],"ts":"1630048897897","checksum":-855196043,"prevSeqId":-1,"seqId":123456}]}"#;
    pub(crate) const UPDATE: &[u8] = br#"{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update","data":[{"asks":[["42219.9","0","0","0"]],"bids":[["42219.8","0.7","0","2"]],"ts":"1630048897997","checksum":0,"prevSeqId":123456,"seqId":123460}]}"#;
    const BBO: &[u8] = br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT-SWAP"},"data":[{"asks":[["42220.1","55","0","2"]],"bids":[["42220","57","0","2"]],"ts":"1670324386802","seqId":363996337}]}"#;
    const TRADES: &[u8] = br#"{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","tradeId":"130639474","px":"42219.9","sz":"0.12060306","side":"buy","ts":"1630048897897","count":"3"},{"instId":"BTC-USDT","tradeId":"130639475","px":"42219.8","sz":"0.01","side":"sell","ts":"1630048897898"}]}"#;

    fn decoder() -> OkxDecoder {
        OkxDecoder::new(&registry()).unwrap()
    }

    fn lv(px: i64, qty: i64) -> Level {
        Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) }
    }

    #[test]
    fn books_snapshot_and_update() {
        let mut d = decoder();
        let OkxEvent::Book(b) = d.decode_text(SNAPSHOT).unwrap() else { panic!() };
        assert_eq!(b.instrument, BTC);
        assert_eq!(b.action, BookAction::Snapshot);
        assert_eq!((b.seq_id, b.prev_seq_id, b.checksum), (123_456, -1, Some(-855_196_043)));
        assert_eq!(b.ts, Nanos::from_millis(1_630_048_897_897));
        assert_eq!(b.bids, &[lv(422_198, 50_000_000), lv(422_190, 200_000_000)]);
        assert_eq!(b.asks, &[lv(422_199, 12_060_306), lv(422_205, 150_000_000)]);
        let OkxEvent::Book(u) = d.decode_text(UPDATE).unwrap() else { panic!() };
        assert_eq!((u.action, u.seq_id, u.prev_seq_id), (BookAction::Update, 123_460, 123_456));
        assert_eq!(u.asks, &[lv(422_199, 0)]);
    }

    #[test]
    fn bbo_and_trades() {
        let mut d = decoder();
        let OkxEvent::Quote(q) = d.decode_text(BBO).unwrap() else { panic!() };
        assert_eq!(q.instrument, InstrumentId(2));
        assert_eq!((q.bid, q.ask, q.seq_id), (lv(422_200, 57), lv(422_201, 55), 363_996_337));
        assert_eq!(q.to_tick(Nanos(5)).ask(), Some(lv(422_201, 55)));
        let OkxEvent::Trades(t) = d.decode_text(TRADES).unwrap() else { panic!() };
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].trade_id, t[0].px.raw(), t[0].qty.raw()),
            (130_639_474, 422_199, 12_060_306)
        );
        assert_eq!((t[0].aggressor, t[1].aggressor), (Aggressor::Buy, Aggressor::Sell));
        assert_eq!(t[1].to_tick(Nanos(1)).seq(), 130_639_475);
        // Empty side of a bbo push.
        let one_sided = br#"{"arg":{"channel":"bbo-tbt","instId":"BTC-USDT"},"data":[{"asks":[],"bids":[["1.5","2","0","1"]],"ts":"1","seqId":7}]}"#;
        let OkxEvent::Quote(q) = d.decode_text(one_sided).unwrap() else { panic!() };
        assert_eq!(q.ask, Level::default());
    }

    #[test]
    fn control_and_pong() {
        let mut d = decoder();
        let sub = br#"{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},"connId":"a4d3ae55"}"#;
        assert_eq!(d.decode_text(sub), Ok(OkxEvent::Control { error: false }));
        let err =
            br#"{"event":"error","code":"60012","msg":"Invalid request","connId":"a4d3ae55"}"#;
        assert_eq!(d.decode_text(err), Ok(OkxEvent::Control { error: true }));
        assert_eq!(d.decode_text(b"pong"), Ok(OkxEvent::Pong));
    }

    fn edit(frame: &[u8], from: &str, to: &str) -> Vec<u8> {
        let s = std::str::from_utf8(frame).unwrap();
        assert!(s.contains(from), "{from}");
        s.replacen(from, to, 1).into_bytes()
    }

    fn err(frame: &[u8]) -> DecodeError {
        decoder().decode_text(frame).expect_err(&String::from_utf8_lossy(frame))
    }

    #[test]
    fn every_bad_input_kind() {
        assert_eq!(
            decoder().with_max_frame(16).decode_text(SNAPSHOT).err(),
            Some(DecodeError::TooLarge)
        );
        assert_eq!(decoder().decode(Payload::Binary(SNAPSHOT)).err(), Some(DecodeError::Binary));
        assert_eq!(err(&SNAPSHOT[..40]), DecodeError::Malformed);
        assert_eq!(err(b"ping"), DecodeError::Malformed);
        assert_eq!(err(&edit(UPDATE, r#""seqId":123460"#, r#""x":1"#)), DecodeError::MissingField);
        assert_eq!(
            err(&edit(UPDATE, r#""ts":"1630048897997""#, r#""ts":1630048897997"#)),
            DecodeError::WrongType
        );
        assert_eq!(
            err(&edit(UPDATE, r#""seqId":123460"#, r#""seqId":"123460""#)),
            DecodeError::WrongType
        );
        assert_eq!(
            err(&edit(UPDATE, r#"["42219.8","0.7","0","2"]"#, r#"["42219.8"]"#)),
            DecodeError::WrongType
        );
        assert_eq!(err(&edit(TRADES, r#""side":"buy""#, r#""side":"up""#)), DecodeError::WrongType);
        assert_eq!(
            err(&edit(UPDATE, r#""channel":"books""#, r#""channel":"candle1m""#)),
            DecodeError::UnknownStream
        );
        assert_eq!(
            err(&edit(UPDATE, r#""action":"update""#, r#""action":"merge""#)),
            DecodeError::UnknownStream
        );
        assert_eq!(
            err(&edit(UPDATE, r#""instId":"BTC-USDT""#, r#""instId":"ETH-USDT""#)),
            DecodeError::UnknownSymbol
        );
        assert_eq!(
            err(&edit(
                TRADES,
                r#"{"instId":"BTC-USDT","tradeId""#,
                r#"{"instId":"BTC-USDT-SWAP","tradeId""#
            )),
            DecodeError::SymbolMismatch
        );
        assert_eq!(err(&edit(UPDATE, r#""0.7""#, r#""-0.7""#)), DecodeError::Negative);
        assert_eq!(err(&edit(UPDATE, r#""seqId":123460"#, r#""seqId":-2"#)), DecodeError::Negative);
        assert_eq!(err(&edit(UPDATE, r#""0.7""#, r#""99999999999.7""#)), DecodeError::Overflow);
        assert_eq!(err(&edit(UPDATE, r#""42219.8""#, r#""42219.85""#)), DecodeError::TooPrecise);
        assert_eq!(
            err(&edit(TRADES, r#""tradeId":"130639474""#, r#""tradeId":"x1""#)),
            DecodeError::BadNumber
        );
        assert_eq!(err(&edit(UPDATE, r#""0.7""#, r#""0,7""#)), DecodeError::BadNumber);
    }
}
