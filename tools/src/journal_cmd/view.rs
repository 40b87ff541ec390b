//! How a journal record reads: decoded into JSON (dump `--json`, export jsonl), a CSV row
//! (export csv) or one human line (dump, tail).
//!
//! Prices and sizes print as exact decimals at their instrument's scale, and instruments by
//! symbol, once a `config` record has said what the instruments are; before that (a journal
//! whose start was pruned) they print raw. A payload that does not decode is shown as hex
//! with what is wrong, never skipped.

use serde_json::{Map, Value};
use tickline_engine::record::{ControlRecord, Record as EngineRecord, RecordBody, RecordKind};
use tickline_engine::risk::HaltCause;
use tickline_engine::types::{
    Aggressor, ExecKind, InstrumentId, InstrumentRegistry, OrderIntent, Px, Qty, TickKind,
};
use tickline_journal::Record;

use super::time::format_ns;
use crate::config::Config;
use crate::journal_sink::{parse_config_record, parse_session_record};

/// What the records read so far say about instruments and strategies.
#[derive(Debug, Default)]
pub struct Context {
    registry: Option<InstrumentRegistry>,
    strategies: Vec<String>,
}

impl Context {
    /// Learns the instruments and strategies of a `config` record's payload (a record that
    /// does not parse leaves the context as it was).
    pub fn on_config(&mut self, payload: &[u8]) {
        let Ok(c) = parse_config_record(payload) else { return };
        let Ok(config) = toml::from_str::<Config>(&c.config) else { return };
        if let Ok(r) = InstrumentRegistry::build(&config.instruments) {
            self.registry = Some(r);
            self.strategies = config.strategies.iter().map(|s| s.name().to_owned()).collect();
        }
    }

    /// Learns from `rec` if it is a `config` record.
    pub fn observe(&mut self, rec: &Record<'_>) {
        if rec.kind == RecordKind::Config as u16 {
            self.on_config(rec.payload);
        }
    }

    /// The instrument id `symbol` names (or a number given as is).
    pub fn resolve(&self, symbol: &str) -> Option<InstrumentId> {
        if let Some(r) = &self.registry {
            if let Some(i) = r.iter().find(|i| i.symbol == symbol) {
                return Some(i.id);
            }
        }
        symbol.parse::<u32>().ok().map(InstrumentId)
    }

    /// An instrument's symbol, or its id while no config has named it.
    pub fn instrument_name(&self, id: InstrumentId) -> String {
        match self.symbol(id) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }

    fn symbol(&self, id: InstrumentId) -> Value {
        if id.0 == u32::MAX {
            return "*".into();
        }
        match self.registry.as_ref().and_then(|r| r.get(id)) {
            Some(i) => i.symbol.clone().into(),
            None => id.0.into(),
        }
    }

    fn strategy(&self, id: u16) -> Value {
        if id == u16::MAX {
            return "engine".into();
        }
        match self.strategies.get(usize::from(id)) {
            Some(n) => n.clone().into(),
            None => id.into(),
        }
    }

    fn px(&self, id: InstrumentId, px: Px) -> Value {
        match self.registry.as_ref().and_then(|r| r.get(id)) {
            Some(i) => px.display(i.price_scale).to_string().into(),
            None => px.raw().into(),
        }
    }

    fn qty(&self, id: InstrumentId, q: Qty) -> Value {
        match self.registry.as_ref().and_then(|r| r.get(id)) {
            Some(i) => q.display(i.qty_scale).to_string().into(),
            None => q.raw().into(),
        }
    }
}

/// The instrument a record is about, for `--instrument` filters.
pub fn instrument_of(rec: &Record<'_>) -> Option<InstrumentId> {
    let kind = RecordKind::from_u16(rec.kind)?;
    Some(match EngineRecord::decode(kind, rec.payload)? {
        RecordBody::Tick(t) => t.instrument(),
        RecordBody::Intent(i) => i.instrument,
        RecordBody::Approved(o) => o.intent.instrument,
        RecordBody::Rejected(r) => r.intent.instrument,
        RecordBody::Exec(e) => e.instrument,
        RecordBody::Control(_) | RecordBody::Halt(_) | RecordBody::VenueSeq(_) => return None,
    })
}

/// The record type's name (`tick`, `approved`...), or its number when this build does not
/// know it.
pub fn kind_name(kind: u16) -> String {
    RecordKind::from_u16(kind).map_or_else(|| format!("type-{kind}"), |k| k.as_str().to_owned())
}

fn snake(debug: String) -> String {
    let mut out = String::with_capacity(debug.len() + 4);
    for (i, c) in debug.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn intent_json(m: &mut Map<String, Value>, i: &OrderIntent, ctx: &Context) {
    m.insert("instrument".into(), ctx.symbol(i.instrument));
    m.insert("strategy".into(), ctx.strategy(i.strategy.0));
    m.insert("action".into(), snake(format!("{:?}", i.action)).into());
    m.insert("side".into(), snake(format!("{:?}", i.side)).into());
    m.insert("ord_type".into(), snake(format!("{:?}", i.ord_type)).into());
    m.insert("tif".into(), snake(format!("{:?}", i.tif)).into());
    m.insert("price".into(), ctx.px(i.instrument, i.price));
    m.insert("qty".into(), ctx.qty(i.instrument, i.qty));
    m.insert("client_id".into(), i.client_id.0.into());
    m.insert("target".into(), i.target.0.into());
    m.insert("decided_ns".into(), i.decided_ns.0.into());
    m.insert("tick_recv_ns".into(), i.tick_recv_ns.0.into());
}

fn control_json(m: &mut Map<String, Value>, c: &ControlRecord, halt: bool) {
    if halt {
        let cause = match c.command {
            1 => HaltCause::Operator,
            2 => HaltCause::StagePanic,
            3 => HaltCause::Shutdown,
            4 => HaltCause::RiskLimit,
            5 => HaltCause::Journal,
            _ => HaltCause::None,
        };
        m.insert("cause".into(), serde_json::to_value(cause).unwrap_or(Value::Null));
    } else {
        m.insert("command".into(), c.command.into());
        m.insert("accepted".into(), (c.accepted != 0).into());
    }
    m.insert("text".into(), c.text().into());
}

/// A record as a JSON object: `seq`, `ts_ns`, `time`, `kind`, then the decoded fields.
pub fn to_json(rec: &Record<'_>, ctx: &Context) -> Value {
    let mut m = Map::new();
    m.insert("seq".into(), rec.seq.into());
    m.insert("ts_ns".into(), rec.ts_ns.into());
    m.insert("time".into(), format_ns(rec.ts_ns).into());
    m.insert("kind".into(), kind_name(rec.kind).into());
    let Some(kind) = RecordKind::from_u16(rec.kind) else {
        m.insert("payload_hex".into(), hex(rec.payload).into());
        return Value::Object(m);
    };
    match kind {
        RecordKind::Config => match parse_config_record(rec.payload) {
            Ok(c) => {
                m.insert("origin".into(), c.origin.into());
                m.insert("config".into(), c.config.into());
            }
            Err(e) => undecodable(&mut m, rec, &format!("{e:#}")),
        },
        RecordKind::Session => match parse_session_record(rec.payload) {
            Ok(s) => {
                if let Ok(Value::Object(o)) = serde_json::to_value(&s) {
                    m.extend(o);
                }
            }
            Err(e) => undecodable(&mut m, rec, &format!("{e:#}")),
        },
        _ => match EngineRecord::decode(kind, rec.payload) {
            None => undecodable(
                &mut m,
                rec,
                &format!("{} bytes do not decode as {}", rec.payload.len(), kind.as_str()),
            ),
            Some(body) => body_json(&mut m, &body, ctx),
        },
    }
    Value::Object(m)
}

fn undecodable(m: &mut Map<String, Value>, rec: &Record<'_>, why: &str) {
    m.insert("error".into(), why.into());
    m.insert("payload_hex".into(), hex(rec.payload).into());
}

fn body_json(m: &mut Map<String, Value>, body: &RecordBody, ctx: &Context) {
    match body {
        RecordBody::Tick(t) => {
            let id = t.instrument();
            m.insert("instrument".into(), ctx.symbol(id));
            match t.kind() {
                TickKind::Quote => {
                    m.insert("tick".into(), "quote".into());
                    if let (Some(b), Some(a)) = (t.bid(), t.ask()) {
                        m.insert("bid_px".into(), ctx.px(id, b.px));
                        m.insert("bid_qty".into(), ctx.qty(id, b.qty));
                        m.insert("ask_px".into(), ctx.px(id, a.px));
                        m.insert("ask_qty".into(), ctx.qty(id, a.qty));
                    }
                }
                TickKind::Trade => {
                    m.insert("tick".into(), "trade".into());
                    if let Some((l, aggr)) = t.last_trade() {
                        m.insert("price".into(), ctx.px(id, l.px));
                        m.insert("qty".into(), ctx.qty(id, l.qty));
                        let a = match aggr {
                            Aggressor::Buy => "buy",
                            Aggressor::Sell => "sell",
                            Aggressor::Unknown => "unknown",
                        };
                        m.insert("aggressor".into(), a.into());
                    }
                }
            }
            m.insert("exch_ns".into(), t.exch_ns().0.into());
            m.insert("recv_ns".into(), t.recv_ns().0.into());
            m.insert("venue_seq".into(), t.seq().into());
            m.insert("flags".into(), t.flags().0.into());
        }
        RecordBody::Intent(i) => intent_json(m, i, ctx),
        RecordBody::Approved(o) => {
            intent_json(m, &o.intent, ctx);
            m.insert("approved_ns".into(), o.approved_ns.0.into());
        }
        RecordBody::Rejected(r) => {
            intent_json(m, &r.intent, ctx);
            m.insert("reason".into(), r.reason.as_str().into());
            m.insert("reject_ns".into(), r.ts.0.into());
        }
        RecordBody::Exec(e) => {
            let id = e.instrument;
            m.insert("instrument".into(), ctx.symbol(id));
            m.insert("strategy".into(), ctx.strategy(e.strategy.0));
            m.insert("exec".into(), exec_name(e.kind).into());
            m.insert("side".into(), snake(format!("{:?}", e.side)).into());
            m.insert("client_id".into(), e.client_id.0.into());
            m.insert("venue_order_id".into(), e.venue_order_id.into());
            m.insert("price".into(), ctx.px(id, e.last_px));
            m.insert("qty".into(), ctx.qty(id, e.last_qty));
            m.insert("cum_qty".into(), ctx.qty(id, e.cum_qty));
            m.insert("leaves_qty".into(), ctx.qty(id, e.leaves_qty));
            m.insert("fee_raw".into(), e.fee.into());
            m.insert("report_ns".into(), e.ts.0.into());
        }
        RecordBody::Control(c) => control_json(m, c, false),
        RecordBody::Halt(c) => control_json(m, c, true),
        RecordBody::VenueSeq(v) => {
            m.insert("next_out".into(), v.next_out.into());
            m.insert("next_in".into(), v.next_in.into());
        }
    }
}

fn exec_name(k: ExecKind) -> String {
    snake(format!("{k:?}"))
}

/// CSV columns of `export --format csv`: one row per record, a column empty where the
/// record has no such field.
pub const CSV_COLUMNS: &[&str] = &[
    "seq",
    "ts_ns",
    "kind",
    "instrument",
    "strategy",
    "action",
    "side",
    "price",
    "qty",
    "client_id",
    "target",
    "reason",
    "exec",
    "bid_px",
    "bid_qty",
    "ask_px",
    "ask_qty",
    "text",
];

/// The CSV row of a record's JSON (see [`CSV_COLUMNS`]), without the line end.
pub fn csv_row(v: &Value) -> String {
    let cells: Vec<String> = CSV_COLUMNS
        .iter()
        .map(|c| {
            let cell = match (*c, v.get(*c)) {
                ("text", None) => {
                    v.get("origin").or_else(|| v.get("error")).map_or(String::new(), plain)
                }
                (_, Some(x)) => plain(x),
                (_, None) => String::new(),
            };
            csv_escape(&cell)
        })
        .collect();
    cells.join(",")
}

/// The CSV header line.
pub fn csv_header() -> String {
    CSV_COLUMNS.join(",")
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A record as one human line: sequence, time, type, then the fields that matter.
pub fn to_text(rec: &Record<'_>, ctx: &Context) -> String {
    let v = to_json(rec, ctx);
    let s = |k: &str| v.get(k).map_or(String::new(), plain);
    let head = format!("{:>10} {} {:<8}", rec.seq, format_ns(rec.ts_ns), kind_name(rec.kind));
    let body = if v.get("error").is_some() {
        format!("UNDECODABLE: {} ({})", s("error"), s("payload_hex"))
    } else {
        match RecordKind::from_u16(rec.kind) {
            Some(RecordKind::Tick) if s("tick") == "quote" => format!(
                "{} quote {} x {} / {} x {}  venue seq {}",
                s("instrument"),
                s("bid_px"),
                s("bid_qty"),
                s("ask_px"),
                s("ask_qty"),
                s("venue_seq")
            ),
            Some(RecordKind::Tick) => format!(
                "{} trade {} x {} ({})  venue seq {}",
                s("instrument"),
                s("price"),
                s("qty"),
                s("aggressor"),
                s("venue_seq")
            ),
            Some(RecordKind::Approved | RecordKind::Intent) => format!(
                "{} {} {} {} @ {} {}/{} id {} by {}",
                s("instrument"),
                s("action"),
                s("side"),
                s("qty"),
                s("price"),
                s("ord_type"),
                s("tif"),
                s("client_id"),
                s("strategy")
            ),
            Some(RecordKind::Rejected) => format!(
                "{} {} {} {} @ {} id {} by {}: {}",
                s("instrument"),
                s("action"),
                s("side"),
                s("qty"),
                s("price"),
                s("client_id"),
                s("strategy"),
                s("reason")
            ),
            Some(RecordKind::Exec) => format!(
                "{} {} {} {} @ {} (cum {}, leaves {}) id {}",
                s("instrument"),
                s("exec"),
                s("side"),
                s("qty"),
                s("price"),
                s("cum_qty"),
                s("leaves_qty"),
                s("client_id")
            ),
            Some(RecordKind::Control) => format!(
                "{} {}",
                if v["accepted"] == Value::Bool(true) { "applied" } else { "refused" },
                s("text")
            ),
            Some(RecordKind::Halt) => format!("{}: {}", s("cause"), s("text")),
            Some(RecordKind::Config) => {
                format!("{} ({} bytes of TOML; --json shows it)", s("origin"), s("config").len())
            }
            Some(RecordKind::Session) => format!(
                "pid {} version {} first client id {}{}{}{}",
                s("pid"),
                s("version"),
                s("first_client_id"),
                match v.get("resumed_after") {
                    Some(Value::Number(n)) => format!(" (resumed after {n})"),
                    _ => String::new(),
                },
                match v.get("restored") {
                    Some(r @ Value::Object(_)) => format!(
                        "; restored {} position(s), {} open order(s) ({} dropped)",
                        r["positions"].as_array().map_or(0, Vec::len),
                        r["open_orders"].as_array().map_or(0, Vec::len),
                        r["orders_dropped"].as_array().map_or(0, Vec::len),
                    ),
                    _ => String::new(),
                },
                match v.get("fix_seqs") {
                    Some(f @ Value::Object(_)) => {
                        format!("; FIX next out {} in {}", f["next_out"], f["next_in"])
                    }
                    _ => String::new(),
                }
            ),
            Some(RecordKind::VenueSeq) => {
                format!("next out {} next in {}", s("next_out"), s("next_in"))
            }
            None => format!("{} payload bytes: {}", rec.payload.len(), s("payload_hex")),
        }
    };
    format!("{head} {body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickline_engine::types::{Level, Nanos, Tick};

    #[test]
    fn records_render_and_garbage_is_named() {
        let ctx = Context::default();
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(3) };
        let t = Tick::quote(InstrumentId(1), l(9_990), l(10_010), 7, Nanos(1), Nanos(2));
        let r = EngineRecord::tick(Nanos(2), &t);
        let rec = Record { seq: 5, ts_ns: 2, kind: r.kind as u16, payload: r.payload() };
        let v = to_json(&rec, &ctx);
        assert_eq!(v["kind"], "tick");
        assert_eq!(v["bid_px"], 9_990);
        assert_eq!(instrument_of(&rec), Some(InstrumentId(1)));
        assert!(to_text(&rec, &ctx).contains("quote 9990 x 3 / 10010 x 3"));
        let row = csv_row(&v);
        assert_eq!(row.split(',').count(), CSV_COLUMNS.len(), "{row}");

        let bad = Record { seq: 6, ts_ns: 2, kind: 1, payload: &[1, 2, 3] };
        let v = to_json(&bad, &ctx);
        assert!(v["error"].as_str().unwrap().contains("3 bytes do not decode as tick"));
        assert!(to_text(&bad, &ctx).contains("UNDECODABLE"));
        let foreign = Record { seq: 7, ts_ns: 2, kind: 999, payload: b"x" };
        assert_eq!(to_json(&foreign, &ctx)["kind"], "type-999");
        assert_eq!(csv_escape("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
