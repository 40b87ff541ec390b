//! `tickline journal verify`: every header and record checked, each bad one named.
//!
//! Two passes: the journal's own [`verify_with`] (framing, sequence chain, CRCs, padding,
//! torn tails: it reads past damage to name every bad spot), then a decode pass over the
//! records it found good, which names any whose payload is not a valid value of its type
//! (a record this build does not know is counted, not failed).

use std::io::Write;
use std::path::Path;

use serde_json::json;
use tickline_engine::record::{Record as EngineRecord, RecordKind};
use tickline_journal::{verify_with, Reader};

use super::human_bytes;
use super::progress::Progress;
use crate::journal_sink::{parse_config_record, parse_session_record};

/// A record whose frame is sound but whose payload does not decode.
struct BadPayload {
    seq: u64,
    kind: &'static str,
    problem: String,
}

pub(super) fn run(
    dir: &Path,
    json: bool,
    show_progress: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let mut progress: Option<Progress> = None;
    let report = verify_with(dir, &mut |done, total| {
        progress
            .get_or_insert_with(|| Progress::new("verify", "segments", total, show_progress))
            .update(done);
    })?;
    if let Some(p) = progress.as_mut() {
        p.finish(report.segments);
    }

    let mut bad_payloads = Vec::new();
    let mut unknown_types = 0u64;
    if report.records > 0 {
        let mut reader = Reader::open(dir)?;
        // Stops at the first frame-level problem, which the first pass already named.
        while let Ok(Some(rec)) = reader.next_record() {
            let Some(kind) = RecordKind::from_u16(rec.kind) else {
                unknown_types += 1;
                continue;
            };
            let problem = match kind {
                RecordKind::Config => {
                    parse_config_record(rec.payload).err().map(|e| format!("{e:#}"))
                }
                RecordKind::Session => {
                    parse_session_record(rec.payload).err().map(|e| format!("{e:#}"))
                }
                _ => EngineRecord::decode(kind, rec.payload).is_none().then(|| {
                    format!("{} payload bytes are not a valid {}", rec.payload.len(), kind.as_str())
                }),
            };
            if let Some(problem) = problem {
                bad_payloads.push(BadPayload { seq: rec.seq, kind: kind.as_str(), problem });
            }
        }
    }

    let clean = report.is_clean() && bad_payloads.is_empty();
    if json {
        let issues: Vec<_> = report
            .issues
            .iter()
            .map(|c| {
                json!({
                    "segment": c.segment,
                    "path": c.path.display().to_string(),
                    "offset": c.offset,
                    "seq": c.seq,
                    "problem": c.problem.to_string(),
                })
            })
            .collect();
        let payloads: Vec<_> = bad_payloads
            .iter()
            .map(|b| json!({ "seq": b.seq, "kind": b.kind, "problem": b.problem }))
            .collect();
        let v = json!({
            "dir": dir.display().to_string(),
            "clean": clean,
            "segments": report.segments,
            "records": report.records,
            "record_bytes": report.record_bytes,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "issues": issues,
            "bad_payloads": payloads,
            "unknown_types": unknown_types,
        });
        writeln!(out, "{v}")?;
    } else {
        let range = match (report.first_seq, report.last_seq) {
            (Some(a), Some(b)) => format!(" (seq {a}..={b})"),
            _ => String::new(),
        };
        writeln!(
            out,
            "journal {}: {} segment(s), {} valid records{range}, {}",
            dir.display(),
            report.segments,
            report.records,
            human_bytes(report.record_bytes)
        )?;
        for c in &report.issues {
            let seq = c.seq.map_or_else(String::new, |s| format!(", seq {s}"));
            writeln!(
                out,
                "BAD segment {} ({}) offset {}{seq}: {}",
                c.segment,
                c.path.display(),
                c.offset,
                c.problem
            )?;
        }
        for b in &bad_payloads {
            writeln!(out, "BAD seq {} ({}): {}", b.seq, b.kind, b.problem)?;
        }
        if unknown_types > 0 {
            writeln!(out, "note: {unknown_types} records of types this build does not know")?;
        }
        if clean {
            writeln!(out, "verify: clean, 0 bad records")?;
        } else {
            writeln!(
                out,
                "verify: {} bad records; a torn tail in the last segment is what a crash leaves, \
                 and the next writer recovers it",
                report.issues.len() + bad_payloads.len()
            )?;
        }
    }
    Ok(if clean { 0 } else { 1 })
}
