//! Binance spot frame decoding: combined-stream frames and the REST depth snapshot.
//!
//! The fast path reads the exact compact shape Binance sends, field by field, straight from
//! the bytes: prices, sizes and ids are read eight bytes at a time into fixed point at the
//! instrument's scale (anything out of the ordinary goes through
//! [`tickline_engine::types::parse_fixed`], which names the error), the stream's symbol is
//! resolved through the [`SymbolTable`] and the payload's symbol compared with it a word at a
//! time, without allocating, and depth levels are parsed once into a buffer the decoder
//! reuses for every frame ([`Levels`] walks it). Any other shape — fields in another order,
//! extra fields, whitespace, escapes — falls back to a `simd-json` tape that is reused between
//! frames; the two paths produce the same events and the same error kinds for the same input.

use tickline_engine::types::{
    Aggressor, InstrumentId, InstrumentRegistry, Level, Nanos, Px, Qty, Scale, Tick,
};

use crate::decode_error::DecodeError;
use crate::error::Result;
use crate::json::cursor::{Cursor, Miss};
use crate::json::tape::{TapeScratch, Val};
use crate::json::{self};
use crate::payload::Payload;
use crate::symbol_table::{KeyCase, SymbolEntry, SymbolTable};

/// Venue name of Binance instruments in the registry.
pub const VENUE: &str = "binance";

/// Default limit on a stream frame. Depth diffs run to tens of kilobytes in busy markets.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 1 << 20;

/// Default limit on a REST depth snapshot body (5,000 levels a side is about 300 KB).
pub const DEFAULT_MAX_SNAPSHOT_BYTES: usize = 8 << 20;

/// Levels the decoder's buffer holds before its first growth (a busy diff has a few hundred).
const INITIAL_LEVELS: usize = 1_024;

/// A `<symbol>@bookTicker` update: the new best bid and ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookTicker {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Order book update id (`u`) at which this became the top.
    pub update_id: u64,
    /// Best bid.
    pub bid: Level,
    /// Best ask.
    pub ask: Level,
}

impl BookTicker {
    /// The normalized quote tick (`seq` is the update id; spot bookTicker has no event time).
    #[inline]
    pub fn to_tick(&self, recv_ns: Nanos) -> Tick {
        Tick::quote(self.instrument, self.bid, self.ask, self.update_id, Nanos::ZERO, recv_ns)
    }
}

/// A `<symbol>@trade` or `<symbol>@aggTrade` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Instrument.
    pub instrument: InstrumentId,
    /// Trade id (`t`), or aggregate trade id (`a`) for an aggTrade.
    pub trade_id: u64,
    /// Price.
    pub px: Px,
    /// Size.
    pub qty: Qty,
    /// Taker side: the buyer was the maker (`m`) means a seller took liquidity.
    pub aggressor: Aggressor,
    /// Trade time (`T`).
    pub trade_time: Nanos,
    /// Event time (`E`).
    pub event_time: Nanos,
    /// Whether this came from the aggTrade stream.
    pub aggregated: bool,
}

impl Trade {
    /// The normalized trade tick (`seq` is the trade id, `exch_ns` the trade time).
    #[inline]
    pub fn to_tick(&self, recv_ns: Nanos) -> Tick {
        Tick::trade(
            self.instrument,
            Level { px: self.px, qty: self.qty },
            self.aggressor,
            self.trade_id,
            self.trade_time,
            recv_ns,
        )
    }
}

/// A `<symbol>@depth` diff: absolute sizes for changed levels, zero meaning delete.
#[derive(Clone, Debug)]
pub struct DepthUpdate<'a> {
    /// Instrument.
    pub instrument: InstrumentId,
    /// First update id in the event (`U`).
    pub first_update_id: u64,
    /// Final update id in the event (`u`).
    pub final_update_id: u64,
    /// Event time (`E`).
    pub event_time: Nanos,
    /// Changed bid levels.
    pub bids: Levels<'a>,
    /// Changed ask levels.
    pub asks: Levels<'a>,
}

/// A REST `/api/v3/depth` snapshot.
#[derive(Clone, Debug)]
pub struct DepthSnapshot<'a> {
    /// Instrument (from the request; the body does not name it).
    pub instrument: InstrumentId,
    /// The last update id the snapshot includes.
    pub last_update_id: u64,
    /// Bid levels, best first.
    pub bids: Levels<'a>,
    /// Ask levels, best first.
    pub asks: Levels<'a>,
}

/// One decoded stream frame.
#[derive(Clone, Debug)]
pub enum BinanceEvent<'a> {
    /// Best bid/ask.
    BookTicker(BookTicker),
    /// A public trade.
    Trade(Trade),
    /// An order book diff.
    Depth(DepthUpdate<'a>),
    /// A reply to a SUBSCRIBE/UNSUBSCRIBE request (`{"result":…,"id":…}`).
    Response {
        /// The request id, when numeric.
        id: Option<u64>,
    },
}

/// The price levels of a diff or snapshot, as the venue listed them.
///
/// They live in a buffer the decoder keeps from frame to frame (it grows only when a frame
/// has more levels than any before), so handing them out does not allocate.
#[derive(Clone, Debug)]
pub struct Levels<'a> {
    inner: std::slice::Iter<'a, Level>,
}

impl<'a> Levels<'a> {
    fn new(levels: &'a [Level]) -> Levels<'a> {
        Levels { inner: levels.iter() }
    }

    /// The remaining levels as a slice.
    pub fn as_slice(&self) -> &'a [Level] {
        self.inner.as_slice()
    }
}

impl Iterator for Levels<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        self.inner.next().copied()
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Levels<'_> {}

/// Whether a capture line or HTTP body is a REST depth snapshot rather than a stream frame.
pub fn is_depth_snapshot(frame: &[u8]) -> bool {
    let start = frame.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(frame.len());
    let body = &frame[start..];
    if body.starts_with(b"{\"lastUpdateId\"") {
        return true;
    }
    !body.starts_with(b"{\"stream\"")
        && contains(body, b"\"lastUpdateId\"")
        && !contains(body, b"\"stream\"")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    BookTicker,
    Trade,
    AggTrade,
    Depth,
}

/// Splits `<symbol>@<channel>` and resolves both halves.
#[inline]
fn route<'t>(
    symbols: &'t SymbolTable,
    stream: &[u8],
) -> Result<(Channel, &'t SymbolEntry), DecodeError> {
    let at = stream.iter().position(|&c| c == b'@').ok_or(DecodeError::UnknownStream)?;
    let (sym, chan) = (&stream[..at], &stream[at + 1..]);
    let chan = match chan {
        b"bookTicker" => Channel::BookTicker,
        b"trade" => Channel::Trade,
        b"aggTrade" => Channel::AggTrade,
        b"depth" | b"depth@100ms" | b"depth@1000ms" => Channel::Depth,
        _ => return Err(DecodeError::UnknownStream),
    };
    let entry = symbols.lookup(sym).ok_or(DecodeError::UnknownSymbol)?;
    Ok((chan, entry))
}

/// The channel suffixes of a stream name, with the closing quote of the name.
const CHANNELS: [(&[u8], Channel); 6] = [
    (b"@bookTicker\"", Channel::BookTicker),
    (b"@depth@100ms\"", Channel::Depth),
    (b"@depth\"", Channel::Depth),
    (b"@depth@1000ms\"", Channel::Depth),
    (b"@trade\"", Channel::Trade),
    (b"@aggTrade\"", Channel::AggTrade),
];

/// [`route`] read straight from the frame: the symbol up to the `@`, then the channel and the
/// closing quote as one literal. `None`, consuming nothing, for anything else, including an
/// unknown symbol; the caller then reads the stream name the general way, which names the
/// error. When it succeeds it has read exactly the stream name [`route`] would have been
/// given, and resolved it the same way.
#[inline]
fn fast_route<'t>(
    c: &mut Cursor<'_>,
    symbols: &'t SymbolTable,
) -> Option<(Channel, &'t SymbolEntry)> {
    let mut t = *c;
    let sym = t.string_until(b'@')?;
    let &(lit, chan) = CHANNELS.iter().find(|(lit, _)| t.peek(lit))?;
    t.lit(lit).ok()?;
    let entry = symbols.lookup(sym)?;
    *c = t;
    Some((chan, entry))
}

#[inline]
fn check_symbol(entry: &SymbolEntry, symbol: &[u8]) -> Result<(), DecodeError> {
    if entry.matches_ignore_case(symbol) {
        Ok(())
    } else {
        Err(DecodeError::SymbolMismatch)
    }
}

#[inline]
fn level(px: i64, qty: i64) -> Level {
    Level { px: Px::from_raw(px), qty: Qty::from_raw(qty) }
}

#[inline]
fn aggressor(buyer_is_maker: bool) -> Aggressor {
    if buyer_is_maker {
        Aggressor::Sell
    } else {
        Aggressor::Buy
    }
}

#[inline]
fn raw_level(c: &mut Cursor<'_>, px: Scale, qty: Scale) -> Result<Level, Miss> {
    c.lit(b"[\"")?;
    let p = c.decimal_body(px)?;
    c.lit(b",\"")?;
    let q = c.decimal_body(qty)?;
    c.lit(b"]")?;
    Ok(level(p, q))
}

/// Reads a compact `[["p","q"],…]` array into `out`; returns the level count.
#[inline]
fn raw_levels(
    c: &mut Cursor<'_>,
    px: Scale,
    qty: Scale,
    out: &mut Vec<Level>,
) -> Result<usize, Miss> {
    c.lit(b"[")?;
    let start = out.len();
    if !c.peek(b"]") {
        loop {
            out.push(raw_level(c, px, qty)?);
            if c.peek(b",") {
                c.lit(b",")?;
            } else {
                break;
            }
        }
    }
    c.lit(b"]")?;
    Ok(out.len() - start)
}

#[inline]
fn fast_symbol(c: &mut Cursor<'_>, entry: &SymbolEntry) -> Result<(), Miss> {
    // The payload names the stream's own symbol: compare against its key directly.
    if c.string_eq_ignore_case(entry.padded_key(), entry.key().len()) {
        return Ok(());
    }
    let s = c.string()?;
    check_symbol(entry, s).map_err(Miss::Bad)
}

#[inline]
fn fast_millis(c: &mut Cursor<'_>) -> Result<Nanos, Miss> {
    json::millis(c.uint()?).map_err(Miss::Bad)
}

/// The fast path for stream frames; depth levels go to `levels`.
fn fast(symbols: &SymbolTable, frame: &[u8], levels: &mut Vec<Level>) -> Result<Parsed, Miss> {
    let mut c = Cursor::new(frame);
    c.lit(b"{\"stream\":")?;
    let (chan, e) = match fast_route(&mut c, symbols) {
        Some(routed) => routed,
        None => route(symbols, c.string()?)?,
    };
    let event = match chan {
        Channel::BookTicker => {
            c.lit(b",\"data\":{\"u\":")?;
            let update_id = c.uint()?;
            c.lit(b",\"s\":")?;
            fast_symbol(&mut c, e)?;
            c.lit(b",\"b\":\"")?;
            let bp = c.decimal_body(e.price_scale)?;
            c.lit(b",\"B\":\"")?;
            let bq = c.decimal_body(e.qty_scale)?;
            c.lit(b",\"a\":\"")?;
            let ap = c.decimal_body(e.price_scale)?;
            c.lit(b",\"A\":\"")?;
            let aq = c.decimal_body(e.qty_scale)?;
            c.lit(b"}")?;
            Parsed::Ticker(BookTicker {
                instrument: e.id,
                update_id,
                bid: level(bp, bq),
                ask: level(ap, aq),
            })
        }
        Channel::Trade | Channel::AggTrade => {
            let aggregated = chan == Channel::AggTrade;
            c.lit(if aggregated {
                b",\"data\":{\"e\":\"aggTrade\",\"E\":"
            } else {
                b",\"data\":{\"e\":\"trade\",\"E\":"
            })?;
            let event_time = fast_millis(&mut c)?;
            c.lit(b",\"s\":")?;
            fast_symbol(&mut c, e)?;
            c.lit(if aggregated { b",\"a\":" } else { b",\"t\":" })?;
            let trade_id = c.uint()?;
            c.lit(b",\"p\":\"")?;
            let p = c.decimal_body(e.price_scale)?;
            c.lit(b",\"q\":\"")?;
            let q = c.decimal_body(e.qty_scale)?;
            if aggregated {
                c.lit(b",\"f\":")?;
                c.uint()?;
                c.lit(b",\"l\":")?;
                c.uint()?;
            }
            c.lit(b",\"T\":")?;
            let trade_time = fast_millis(&mut c)?;
            c.lit(b",\"m\":")?;
            let m = c.boolean()?;
            if c.peek(b",\"M\":") {
                c.lit(b",\"M\":")?;
                c.boolean()?;
            }
            c.lit(b"}")?;
            Parsed::Trade(Trade {
                instrument: e.id,
                trade_id,
                px: Px::from_raw(p),
                qty: Qty::from_raw(q),
                aggressor: aggressor(m),
                trade_time,
                event_time,
                aggregated,
            })
        }
        Channel::Depth => {
            c.lit(b",\"data\":{\"e\":\"depthUpdate\",\"E\":")?;
            let event_time = fast_millis(&mut c)?;
            c.lit(b",\"s\":")?;
            fast_symbol(&mut c, e)?;
            c.lit(b",\"U\":")?;
            let first = c.uint()?;
            c.lit(b",\"u\":")?;
            let last = c.uint()?;
            if first > last {
                return Err(Miss::Bad(DecodeError::BadSequence));
            }
            c.lit(b",\"b\":")?;
            let n_bids = raw_levels(&mut c, e.price_scale, e.qty_scale, levels)?;
            c.lit(b",\"a\":")?;
            raw_levels(&mut c, e.price_scale, e.qty_scale, levels)?;
            c.lit(b"}")?;
            Parsed::Depth { instrument: e.id, first, last, event_time, n_bids }
        }
    };
    c.lit(b"}")?;
    c.end()?;
    Ok(event)
}

fn fast_snapshot(
    entry: &SymbolEntry,
    body: &[u8],
    levels: &mut Vec<Level>,
) -> Result<(u64, usize), Miss> {
    let mut c = Cursor::new(body);
    c.lit(b"{\"lastUpdateId\":")?;
    let last_update_id = c.uint()?;
    c.lit(b",\"bids\":")?;
    let n_bids = raw_levels(&mut c, entry.price_scale, entry.qty_scale, levels)?;
    c.lit(b",\"asks\":")?;
    raw_levels(&mut c, entry.price_scale, entry.qty_scale, levels)?;
    c.lit(b"}")?;
    c.end()?;
    Ok((last_update_id, n_bids))
}

/// What a frame held; depth levels are in the decoder's buffer, bids first.
enum Parsed {
    Ticker(BookTicker),
    Trade(Trade),
    Depth { instrument: InstrumentId, first: u64, last: u64, event_time: Nanos, n_bids: usize },
    Response(Option<u64>),
}

fn tape_levels(
    v: Val<'_, '_>,
    e: &SymbolEntry,
    out: &mut Vec<Level>,
) -> Result<usize, DecodeError> {
    let mut items = v.items()?;
    let n = items.len();
    while let Some(pair) = items.next_val()? {
        let mut pair = pair.items()?;
        if pair.len() < 2 {
            return Err(DecodeError::WrongType);
        }
        let p = pair.next_val()?.ok_or(DecodeError::Malformed)?.decimal(e.price_scale)?;
        let q = pair.next_val()?.ok_or(DecodeError::Malformed)?.decimal(e.qty_scale)?;
        out.push(level(p, q));
    }
    Ok(n)
}

fn tape_event_type(data: Val<'_, '_>, want: &str) -> Result<(), DecodeError> {
    if data.field("e")?.str()? == want {
        Ok(())
    } else {
        Err(DecodeError::UnknownStream)
    }
}

fn tape_frame(
    root: Val<'_, '_>,
    symbols: &SymbolTable,
    levels: &mut Vec<Level>,
) -> Result<Parsed, DecodeError> {
    if !root.is_object() {
        return Err(DecodeError::WrongType);
    }
    let Some(stream) = root.get("stream")? else {
        if root.get("result")?.is_some() {
            let id = root.get("id")?.and_then(|v| v.uint().ok());
            return Ok(Parsed::Response(id));
        }
        return Err(DecodeError::MissingField);
    };
    let (chan, e) = route(symbols, stream.str()?.as_bytes())?;
    let data = root.field("data")?;
    if !data.is_object() {
        return Err(DecodeError::WrongType);
    }
    let sym = |data: Val<'_, '_>| check_symbol(e, data.field("s")?.str()?.as_bytes());
    match chan {
        Channel::BookTicker => {
            let update_id = data.field("u")?.uint()?;
            sym(data)?;
            let bp = data.field("b")?.decimal(e.price_scale)?;
            let bq = data.field("B")?.decimal(e.qty_scale)?;
            let ap = data.field("a")?.decimal(e.price_scale)?;
            let aq = data.field("A")?.decimal(e.qty_scale)?;
            Ok(Parsed::Ticker(BookTicker {
                instrument: e.id,
                update_id,
                bid: level(bp, bq),
                ask: level(ap, aq),
            }))
        }
        Channel::Trade | Channel::AggTrade => {
            let aggregated = chan == Channel::AggTrade;
            tape_event_type(data, if aggregated { "aggTrade" } else { "trade" })?;
            let event_time = json::millis(data.field("E")?.uint()?)?;
            sym(data)?;
            let trade_id = data.field(if aggregated { "a" } else { "t" })?.uint()?;
            let p = data.field("p")?.decimal(e.price_scale)?;
            let q = data.field("q")?.decimal(e.qty_scale)?;
            let trade_time = json::millis(data.field("T")?.uint()?)?;
            let m = data.field("m")?.boolean()?;
            Ok(Parsed::Trade(Trade {
                instrument: e.id,
                trade_id,
                px: Px::from_raw(p),
                qty: Qty::from_raw(q),
                aggressor: aggressor(m),
                trade_time,
                event_time,
                aggregated,
            }))
        }
        Channel::Depth => {
            tape_event_type(data, "depthUpdate")?;
            let event_time = json::millis(data.field("E")?.uint()?)?;
            sym(data)?;
            let first = data.field("U")?.uint()?;
            let last = data.field("u")?.uint()?;
            if first > last {
                return Err(DecodeError::BadSequence);
            }
            let n_bids = tape_levels(data.field("b")?, e, levels)?;
            tape_levels(data.field("a")?, e, levels)?;
            Ok(Parsed::Depth { instrument: e.id, first, last, event_time, n_bids })
        }
    }
}

fn tape_snapshot(
    root: Val<'_, '_>,
    e: &SymbolEntry,
    levels: &mut Vec<Level>,
) -> Result<(u64, usize), DecodeError> {
    if !root.is_object() {
        return Err(DecodeError::WrongType);
    }
    let last = root.field("lastUpdateId")?.uint()?;
    let n_bids = tape_levels(root.field("bids")?, e, levels)?;
    tape_levels(root.field("asks")?, e, levels)?;
    Ok((last, n_bids))
}

/// Decodes Binance spot frames for a fixed set of instruments.
///
/// Owned by the feed thread. After warm-up (the fallback buffers grown to the largest frame
/// seen), decoding does not allocate on either path.
#[derive(Debug)]
pub struct BinanceDecoder {
    symbols: SymbolTable,
    max_frame: usize,
    max_snapshot: usize,
    scratch: TapeScratch,
    levels: Vec<Level>,
    fallbacks: u64,
}

impl BinanceDecoder {
    /// A decoder for every registry instrument whose venue is [`VENUE`].
    pub fn new(registry: &InstrumentRegistry) -> Result<BinanceDecoder> {
        Ok(BinanceDecoder::with_symbols(SymbolTable::build(registry, VENUE, KeyCase::Lower)?))
    }

    /// A decoder for a prepared table (keys must be lowercase stream symbols).
    pub fn with_symbols(symbols: SymbolTable) -> BinanceDecoder {
        BinanceDecoder {
            symbols,
            max_frame: DEFAULT_MAX_FRAME_BYTES,
            max_snapshot: DEFAULT_MAX_SNAPSHOT_BYTES,
            scratch: TapeScratch::new(),
            levels: Vec::with_capacity(INITIAL_LEVELS),
            fallbacks: 0,
        }
    }

    /// Sets the size limits on stream frames and snapshot bodies.
    #[must_use]
    pub fn with_limits(mut self, max_frame_bytes: usize, max_snapshot_bytes: usize) -> Self {
        self.max_frame = max_frame_bytes;
        self.max_snapshot = max_snapshot_bytes;
        self
    }

    /// The symbol table.
    pub fn symbols(&self) -> &SymbolTable {
        &self.symbols
    }

    /// Frames decoded on the fallback path so far.
    pub fn fallbacks(&self) -> u64 {
        self.fallbacks
    }

    /// Decodes one WebSocket message.
    #[inline]
    pub fn decode(&mut self, payload: Payload<'_>) -> Result<BinanceEvent<'_>, DecodeError> {
        match payload {
            Payload::Text(frame) => self.decode_text(frame),
            Payload::Binary(_) => Err(DecodeError::Binary),
        }
    }

    /// Decodes one combined-stream text frame.
    #[inline]
    pub fn decode_text(&mut self, frame: &[u8]) -> Result<BinanceEvent<'_>, DecodeError> {
        if frame.len() > self.max_frame {
            return Err(DecodeError::TooLarge);
        }
        self.levels.clear();
        let parsed = match fast(&self.symbols, frame, &mut self.levels) {
            Ok(parsed) => parsed,
            Err(Miss::Bad(e)) => return Err(e),
            Err(Miss::Fallback) => self.fallback(frame)?,
        };
        Ok(match parsed {
            Parsed::Ticker(t) => BinanceEvent::BookTicker(t),
            Parsed::Trade(t) => BinanceEvent::Trade(t),
            Parsed::Response(id) => BinanceEvent::Response { id },
            Parsed::Depth { instrument, first, last, event_time, n_bids } => {
                let (bids, asks) = self.levels.split_at(n_bids.min(self.levels.len()));
                BinanceEvent::Depth(DepthUpdate {
                    instrument,
                    first_update_id: first,
                    final_update_id: last,
                    event_time,
                    bids: Levels::new(bids),
                    asks: Levels::new(asks),
                })
            }
        })
    }

    #[cold]
    fn fallback(&mut self, frame: &[u8]) -> Result<Parsed, DecodeError> {
        self.fallbacks += 1;
        self.levels.clear();
        let symbols = &self.symbols;
        let levels = &mut self.levels;
        self.scratch.parse(frame, |root| tape_frame(root, symbols, levels))
    }

    /// Decodes a REST depth snapshot body for `instrument`.
    pub fn decode_snapshot(
        &mut self,
        instrument: InstrumentId,
        body: &[u8],
    ) -> Result<DepthSnapshot<'_>, DecodeError> {
        if body.len() > self.max_snapshot {
            return Err(DecodeError::TooLarge);
        }
        let entry = *self.symbols.get(instrument).ok_or(DecodeError::UnknownSymbol)?;
        self.levels.clear();
        let (last, n_bids) = match fast_snapshot(&entry, body, &mut self.levels) {
            Ok(head) => head,
            Err(Miss::Bad(e)) => return Err(e),
            Err(Miss::Fallback) => {
                self.fallbacks += 1;
                self.levels.clear();
                let levels = &mut self.levels;
                self.scratch.parse(body, |root| tape_snapshot(root, &entry, levels))?
            }
        };
        let (bids, asks) = self.levels.split_at(n_bids.min(self.levels.len()));
        Ok(DepthSnapshot {
            instrument,
            last_update_id: last,
            bids: Levels::new(bids),
            asks: Levels::new(asks),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use tickline_engine::types::InstrumentSpec;

    pub(crate) fn registry() -> InstrumentRegistry {
        let spec = |sym: &str, venue: &str, qty_scale: u8| InstrumentSpec {
            symbol: sym.into(),
            venue: venue.into(),
            price_scale: 2,
            qty_scale,
            tick_size: Decimal::new(1, 2),
            lot_size: Decimal::new(1, u32::from(qty_scale)),
        };
        InstrumentRegistry::build(&[
            spec("BTC-USDT", "okx", 8),
            spec("BTCUSDT", "binance", 5),
            spec("ETHUSDT", "binance", 4),
        ])
        .unwrap()
    }

    fn decoder() -> BinanceDecoder {
        BinanceDecoder::new(&registry()).unwrap()
    }

    const BTC: InstrumentId = InstrumentId(1);
    const TICKER: &[u8] = br#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
    const TRADE: &[u8] = br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
    const AGG: &[u8] = br#"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1723161255343,"s":"BTCUSDT","a":26129,"p":"61837.64000000","q":"0.10000000","f":100,"l":105,"T":1723161255342,"m":false,"M":true}}"#;
    const DEPTH: &[u8] = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]]}}"#;
    const SNAPSHOT: &[u8] = br#"{"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"],["61837.62000000","0.61700000"]],"asks":[["61837.64000000","1.54698000"]]}"#;

    fn lv(px: i64, qty: i64) -> Level {
        level(px, qty)
    }

    fn ticker(d: &mut BinanceDecoder, f: &[u8]) -> Result<BookTicker, DecodeError> {
        match d.decode_text(f)? {
            BinanceEvent::BookTicker(t) => Ok(t),
            other => panic!("not a ticker: {other:?}"),
        }
    }

    fn depth(
        d: &mut BinanceDecoder,
        f: &[u8],
    ) -> Result<(u64, u64, Vec<Level>, Vec<Level>), DecodeError> {
        match d.decode_text(f)? {
            BinanceEvent::Depth(u) => {
                Ok((u.first_update_id, u.final_update_id, u.bids.collect(), u.asks.collect()))
            }
            other => panic!("not depth: {other:?}"),
        }
    }

    #[test]
    fn book_ticker_fast_path() {
        let mut d = decoder();
        let t = ticker(&mut d, TICKER).unwrap();
        assert_eq!(t.instrument, BTC);
        assert_eq!(t.update_id, 50_093_239_212);
        assert_eq!(t.bid, lv(6_183_763, 378_826));
        assert_eq!(t.ask, lv(6_183_764, 154_698));
        assert_eq!(d.fallbacks(), 0);
        let tick = t.to_tick(Nanos(7));
        assert_eq!(tick.bid(), Some(t.bid));
        assert_eq!(tick.seq(), 50_093_239_212);
        assert_eq!(tick.recv_ns(), Nanos(7));
    }

    #[test]
    fn trades_fast_path() {
        let mut d = decoder();
        let BinanceEvent::Trade(t) = d.decode_text(TRADE).unwrap() else { panic!() };
        assert_eq!((t.trade_id, t.px.raw(), t.qty.raw()), (3_735_683_259, 6_183_763, 2_000));
        assert_eq!(t.aggressor, Aggressor::Sell);
        assert_eq!(t.trade_time, Nanos::from_millis(1_723_161_255_342));
        assert_eq!(t.event_time, Nanos::from_millis(1_723_161_255_343));
        assert!(!t.aggregated);
        let tick = t.to_tick(Nanos(1));
        assert_eq!(tick.last_trade(), Some((lv(6_183_763, 2_000), Aggressor::Sell)));
        let BinanceEvent::Trade(a) = d.decode_text(AGG).unwrap() else { panic!() };
        assert_eq!((a.trade_id, a.aggressor, a.aggregated), (26_129, Aggressor::Buy, true));
        assert_eq!(d.fallbacks(), 0);
    }

    #[test]
    fn depth_fast_path_levels() {
        let mut d = decoder();
        let (first, last, bids, asks) = depth(&mut d, DEPTH).unwrap();
        assert_eq!((first, last), (50_093_239_203, 50_093_239_207));
        assert_eq!(bids, vec![lv(5_565_387, 0)]);
        assert_eq!(asks, vec![lv(6_183_804, 32_332), lv(6_184_430, 40_163)]);
        assert_eq!(d.fallbacks(), 0);
        let empty = br#"{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":5,"u":5,"b":[],"a":[]}}"#;
        let (_, _, bids, asks) = depth(&mut d, empty).unwrap();
        assert!(bids.is_empty() && asks.is_empty());
        assert_eq!(d.fallbacks(), 0);
    }

    #[test]
    fn snapshot_fast_and_fallback() {
        let mut d = decoder();
        assert!(is_depth_snapshot(SNAPSHOT));
        assert!(!is_depth_snapshot(DEPTH));
        let s = d.decode_snapshot(BTC, SNAPSHOT).unwrap();
        assert_eq!(s.last_update_id, 50_093_239_218);
        assert_eq!(s.bids.len(), 2);
        assert_eq!(s.asks.collect::<Vec<_>>(), vec![lv(6_183_764, 154_698)]);
        assert_eq!(d.fallbacks(), 0);
        let reordered = br#"{ "asks": [["61837.64","1.54698"]], "bids": [["61837.63","3.78826"],["61837.62","0.617"]], "lastUpdateId": 50093239218 }"#;
        assert!(is_depth_snapshot(reordered));
        let s = d.decode_snapshot(BTC, reordered).unwrap();
        assert_eq!(s.last_update_id, 50_093_239_218);
        assert_eq!(s.bids.collect::<Vec<_>>(), vec![lv(6_183_763, 378_826), lv(6_183_762, 61_700)]);
        assert_eq!(d.fallbacks(), 1);
        assert_eq!(
            d.decode_snapshot(InstrumentId(0), SNAPSHOT).err(),
            Some(DecodeError::UnknownSymbol)
        );
        let mut small = decoder().with_limits(1 << 10, 16);
        assert_eq!(small.decode_snapshot(BTC, SNAPSHOT).err(), Some(DecodeError::TooLarge));
    }

    #[test]
    fn fallback_handles_other_field_orders_extra_fields_and_whitespace() {
        let mut d = decoder();
        let reordered = br#"{"data":{"A":"1.54698000","a":"61837.64000000","B":"3.78826000","b":"61837.63000000","s":"BTCUSDT","u":50093239212,"extra":[1,{"x":null}]},"stream":"btcusdt@bookTicker"}"#;
        assert_eq!(ticker(&mut d, reordered).unwrap(), ticker(&mut decoder(), TICKER).unwrap());
        assert_eq!(d.fallbacks(), 1);
        let spaced = br#"{ "stream" : "btcusdt@depth@100ms", "data" : {"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"]],"pu":1} }"#;
        assert_eq!(depth(&mut d, spaced).unwrap(), depth(&mut decoder(), DEPTH).unwrap());
        let no_m = br#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true}}"#;
        let BinanceEvent::Trade(t) = d.decode_text(no_m).unwrap() else { panic!() };
        assert_eq!(t.trade_id, 3_735_683_259);
        let escaped = br#"{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTC\u0055SDT","b":"1.00","B":"1","a":"2.00","A":"1"}}"#;
        assert_eq!(ticker(&mut d, escaped).unwrap().update_id, 1);
        let BinanceEvent::Response { id } = d.decode_text(br#"{"result":null,"id":7}"#).unwrap()
        else {
            panic!()
        };
        assert_eq!(id, Some(7));
    }

    #[test]
    fn stream_names_and_payload_symbols_on_the_fast_path() {
        let mut d = decoder();
        let want = ticker(&mut decoder(), TICKER).unwrap();
        // The payload symbol in any case.
        for sym in ["btcusdt", "BtcUsdT"] {
            let f = edit(TICKER, r#""s":"BTCUSDT""#, &format!(r#""s":"{sym}""#));
            assert_eq!(ticker(&mut d, &f).unwrap(), want);
        }
        // Every depth channel.
        for chan in ["@depth", "@depth@1000ms"] {
            let f = edit(DEPTH, "@depth@100ms", chan);
            assert_eq!(depth(&mut d, &f).unwrap(), depth(&mut decoder(), DEPTH).unwrap());
        }
        assert_eq!(d.fallbacks(), 0);
        // Near misses are the same errors as before.
        for (from, to, want) in [
            ("@bookTicker", "@bookTickers", DecodeError::UnknownStream),
            ("@bookTicker", "@bookTicker@x", DecodeError::UnknownStream),
            ("@depth@100ms", "@depth@10ms", DecodeError::UnknownStream),
            ("btcusdt@", "btcusd@", DecodeError::UnknownSymbol),
            ("btcusdt@", "btcusdtt@", DecodeError::UnknownSymbol),
            ("btcusdt@", "@", DecodeError::UnknownSymbol),
            (r#""s":"BTCUSDT""#, r#""s":"BTCUSD""#, DecodeError::SymbolMismatch),
            (r#""s":"BTCUSDT""#, r#""s":"BTCUSDTT""#, DecodeError::SymbolMismatch),
            (r#""s":"BTCUSDT""#, r#""s":"BTC@SDT""#, DecodeError::SymbolMismatch),
        ] {
            let frame = if from.contains("depth") { DEPTH } else { TICKER };
            assert_eq!(err(&edit(frame, from, to)), want, "{to}");
        }
        // Escapes anywhere in the names go to the fallback, which reads them.
        let escaped = edit(TICKER, "btcusdt@", r"btc\u0075sdt@");
        assert_eq!(ticker(&mut d, &escaped).unwrap(), want);
        let escaped = edit(TICKER, r#""s":"BTCUSDT""#, r#""s":"BTC\u0055SDT""#);
        assert_eq!(ticker(&mut d, &escaped).unwrap(), want);
        assert_eq!(d.fallbacks(), 2);
    }

    /// Replace the first `from` in a frame with `to`.
    fn edit(frame: &[u8], from: &str, to: &str) -> Vec<u8> {
        let s = std::str::from_utf8(frame).unwrap();
        assert!(s.contains(from), "{from} not in frame");
        s.replacen(from, to, 1).into_bytes()
    }

    fn err(frame: &[u8]) -> DecodeError {
        decoder().decode_text(frame).expect_err(&String::from_utf8_lossy(frame))
    }

    #[test]
    fn every_bad_input_kind() {
        // Size limit and opcode.
        let mut small = decoder().with_limits(64, 64);
        assert_eq!(small.decode_text(TICKER).err(), Some(DecodeError::TooLarge));
        assert_eq!(decoder().decode(Payload::Binary(TICKER)).err(), Some(DecodeError::Binary));
        assert!(decoder().decode(Payload::Text(TICKER)).is_ok());
        // Malformed JSON: truncated, garbage, trailing bytes, invalid UTF-8, empty.
        assert_eq!(err(&TICKER[..TICKER.len() - 1]), DecodeError::Malformed);
        assert_eq!(err(b"not json"), DecodeError::Malformed);
        assert_eq!(err(b""), DecodeError::Malformed);
        assert_eq!(err(&[TICKER, b"x"].concat()), DecodeError::Malformed);
        let mut bad_utf8 = TICKER.to_vec();
        let at = bad_utf8.iter().position(|&c| c == b'B').unwrap();
        bad_utf8[at] = 0xff;
        assert_eq!(err(&bad_utf8), DecodeError::Malformed);
        // Missing fields.
        assert_eq!(
            err(&edit(TICKER, r#""A":"1.54698000""#, r#""Z":"1""#)),
            DecodeError::MissingField
        );
        assert_eq!(err(br#"{"data":{}}"#), DecodeError::MissingField);
        assert_eq!(err(&edit(DEPTH, r#""U":50093239203,"#, "")), DecodeError::MissingField);
        // Wrong types.
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":61837.63"#)),
            DecodeError::WrongType
        );
        assert_eq!(
            err(&edit(TICKER, r#""u":50093239212"#, r#""u":"50093239212""#)),
            DecodeError::WrongType
        );
        assert_eq!(err(&edit(TICKER, r#""u":50093239212"#, r#""u":1.5"#)), DecodeError::WrongType);
        assert_eq!(err(&edit(TRADE, r#""m":true"#, r#""m":"true""#)), DecodeError::WrongType);
        assert_eq!(
            err(&edit(DEPTH, r#""b":[["55653.87000000","0.00000000"]]"#, r#""b":{}"#)),
            DecodeError::WrongType
        );
        assert_eq!(
            err(&edit(DEPTH, r#"["55653.87000000","0.00000000"]"#, r#"["55653.87000000"]"#)),
            DecodeError::WrongType
        );
        assert_eq!(err(b"[1,2]"), DecodeError::WrongType);
        assert_eq!(err(br#"{"stream":"btcusdt@bookTicker","data":[]}"#), DecodeError::WrongType);
        // Unknown streams and event types.
        assert_eq!(err(&edit(TICKER, "@bookTicker", "@kline_1m")), DecodeError::UnknownStream);
        assert_eq!(err(&edit(TICKER, "btcusdt@bookTicker", "btcusdt")), DecodeError::UnknownStream);
        assert_eq!(
            err(&edit(TRADE, r#""e":"trade""#, r#""e":"aggTrade""#)),
            DecodeError::UnknownStream
        );
        // Unknown symbols, and a payload for another symbol.
        assert_eq!(err(&edit(TICKER, "btcusdt@", "xrpusdt@")), DecodeError::UnknownSymbol);
        assert_eq!(err(&edit(TICKER, "btcusdt@", "BTCUSDT@")), DecodeError::UnknownSymbol);
        assert_eq!(
            err(&edit(TICKER, r#""s":"BTCUSDT""#, r#""s":"ETHUSDT""#)),
            DecodeError::SymbolMismatch
        );
        // Negative numbers.
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"-61837.63""#)),
            DecodeError::Negative
        );
        assert_eq!(err(&edit(TICKER, r#""u":50093239212"#, r#""u":-5"#)), DecodeError::Negative);
        assert_eq!(err(&edit(DEPTH, r#""0.32332000""#, r#""-0.3""#)), DecodeError::Negative);
        // Overflow: of the scale, and of 64-bit ids.
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"99999999999999999.00""#)),
            DecodeError::Overflow
        );
        assert_eq!(
            err(&edit(TICKER, r#""u":50093239212"#, r#""u":18446744073709551616"#)),
            DecodeError::Overflow
        );
        assert_eq!(
            err(&edit(TRADE, r#""T":1723161255342"#, r#""T":18446744073709551615"#)),
            DecodeError::Overflow
        );
        // More decimals than the instrument allows (BTCUSDT here: price 2, size 5).
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"61837.635""#)),
            DecodeError::TooPrecise
        );
        assert_eq!(err(&edit(DEPTH, r#""0.32332000""#, r#""0.323321""#)), DecodeError::TooPrecise);
        // Not a number.
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"abc""#)),
            DecodeError::BadNumber
        );
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"""#)),
            DecodeError::BadNumber
        );
        assert_eq!(
            err(&edit(TICKER, r#""b":"61837.63000000""#, r#""b":"1e5""#)),
            DecodeError::BadNumber
        );
        // First id after last id.
        assert_eq!(
            err(&edit(DEPTH, r#""U":50093239203"#, r#""U":50093239208"#)),
            DecodeError::BadSequence
        );
    }

    #[test]
    fn fast_and_fallback_agree_on_errors() {
        // The same bad value, once in the fast shape and once reordered (fallback).
        let cases: [(&str, &str, DecodeError); 4] = [
            (r#""b":"61837.63000000""#, r#""b":"-1""#, DecodeError::Negative),
            (r#""b":"61837.63000000""#, r#""b":"1.001""#, DecodeError::TooPrecise),
            (r#""b":"61837.63000000""#, r#""b":"x""#, DecodeError::BadNumber),
            (r#""s":"BTCUSDT""#, r#""s":"ETHUSDT""#, DecodeError::SymbolMismatch),
        ];
        for (from, to, want) in cases {
            let fast = edit(TICKER, from, to);
            assert_eq!(err(&fast), want);
            let slow = edit(&fast, r#"{"u":"#, r#"{"x":0,"u":"#);
            let mut d = decoder();
            assert_eq!(d.decode_text(&slow).err(), Some(want));
            assert_eq!(d.fallbacks(), 1);
        }
    }

    #[test]
    fn never_panics_on_truncations() {
        let mut d = decoder();
        for frame in [TICKER, TRADE, AGG, DEPTH] {
            for end in 0..frame.len() {
                assert!(d.decode_text(&frame[..end]).is_err());
            }
        }
        for end in 0..SNAPSHOT.len() {
            assert!(d.decode_snapshot(BTC, &SNAPSHOT[..end]).is_err());
        }
    }
}
