//! `tickline journal stats`: what a journal (or the filtered part of it) holds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Value};
use tickline_engine::record::{Record as EngineRecord, RecordBody, RecordKind};
use tickline_journal::{format::frame_len, list_segments};

use super::filter::{open, Filter};
use super::human_bytes;
use super::progress::Progress;
use super::time::format_ns;
use super::view::{instrument_of, kind_name};

#[derive(Default)]
struct PerInstrument {
    ticks: u64,
    approved: u64,
    rejected: u64,
    fills: u64,
}

pub(super) fn run(
    dir: &Path,
    filter: &Filter,
    json: bool,
    show_progress: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let segments = list_segments(dir)?;
    let total: u64 = segments.iter().map(|s| s.records).sum();
    let mut progress = Progress::new("stats", "records", total, show_progress);
    let (mut reader, mut ctx) = open(dir, filter)?;
    let mut read = 0u64;
    let mut records = 0u64;
    let mut bytes = 0u64;
    let mut by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut instruments: BTreeMap<String, PerInstrument> = BTreeMap::new();
    let mut undecodable = 0u64;
    let mut first: Option<(u64, i64)> = None;
    let mut last: Option<(u64, i64)> = None;
    while let Some(rec) = reader.next_record()? {
        read += 1;
        if read % 65_536 == 0 {
            progress.update(read);
        }
        ctx.observe(&rec);
        if filter.past_end(&rec) {
            break;
        }
        if !filter.matches(&rec, &ctx) {
            continue;
        }
        records += 1;
        bytes += frame_len(rec.payload.len()) as u64;
        first.get_or_insert((rec.seq, rec.ts_ns));
        last = Some((rec.seq, rec.ts_ns));
        *by_kind.entry(kind_name(rec.kind)).or_default() += 1;
        let Some(kind) = RecordKind::from_u16(rec.kind) else { continue };
        let body = EngineRecord::decode(kind, rec.payload);
        if body.is_none() && !matches!(kind, RecordKind::Config | RecordKind::Session) {
            undecodable += 1;
            continue;
        }
        if let Some(id) = instrument_of(&rec) {
            let e = instruments.entry(ctx.instrument_name(id)).or_default();
            match &body {
                Some(RecordBody::Tick(_)) => e.ticks += 1,
                Some(RecordBody::Approved(_)) => e.approved += 1,
                Some(RecordBody::Rejected(_)) => e.rejected += 1,
                Some(RecordBody::Exec(x)) if x.kind.is_fill() => e.fills += 1,
                _ => {}
            }
        }
        if let Some(RecordBody::Rejected(r)) = &body {
            *reasons.entry(r.reason.as_str()).or_default() += 1;
        }
    }
    progress.finish(read);
    let sessions = by_kind.get("session").copied().unwrap_or(0);
    if json {
        let inst: serde_json::Map<String, Value> = instruments
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    json!({ "ticks": v.ticks, "approved": v.approved, "rejected": v.rejected, "fills": v.fills }),
                )
            })
            .collect();
        let v = json!({
            "dir": dir.display().to_string(),
            "segments": segments.len(),
            "records": records,
            "record_bytes": bytes,
            "first_seq": first.map(|f| f.0),
            "last_seq": last.map(|l| l.0),
            "first_ts_ns": first.map(|f| f.1),
            "last_ts_ns": last.map(|l| l.1),
            "sessions": sessions,
            "by_type": by_kind,
            "reject_reasons": reasons,
            "instruments": inst,
            "undecodable": undecodable,
        });
        writeln!(out, "{v}")?;
        return Ok(0);
    }
    writeln!(out, "journal      {}", dir.display())?;
    writeln!(out, "segments     {}", segments.len())?;
    writeln!(out, "records      {records} ({})", human_bytes(bytes))?;
    if let (Some(f), Some(l)) = (first, last) {
        writeln!(out, "sequences    {}..={}", f.0, l.0)?;
        writeln!(out, "time         {} .. {}", format_ns(f.1), format_ns(l.1))?;
        let secs = (l.1 - f.1) as f64 / 1e9;
        if secs > 0.0 {
            writeln!(out, "rate         {:.0} records/s", records as f64 / secs)?;
        }
    }
    writeln!(out, "sessions     {sessions}")?;
    writeln!(out, "by type")?;
    for (k, n) in &by_kind {
        writeln!(out, "  {k:<12} {n}")?;
    }
    if !instruments.is_empty() {
        writeln!(
            out,
            "by instrument  {:>10} {:>10} {:>10} {:>10}",
            "ticks", "approved", "rejected", "fills"
        )?;
        for (k, v) in &instruments {
            writeln!(
                out,
                "  {k:<12} {:>10} {:>10} {:>10} {:>10}",
                v.ticks, v.approved, v.rejected, v.fills
            )?;
        }
    }
    if !reasons.is_empty() {
        writeln!(out, "reject reasons")?;
        for (k, n) in &reasons {
            writeln!(out, "  {k:<28} {n}")?;
        }
    }
    if undecodable > 0 {
        writeln!(out, "undecodable  {undecodable} (run `tickline journal verify`)")?;
    }
    Ok(0)
}
