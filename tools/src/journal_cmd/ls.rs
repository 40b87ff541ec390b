//! `tickline journal ls`: the segment files of a journal.

use std::io::Write;
use std::path::Path;

use serde_json::json;
use tickline_journal::{list_segments, SegmentState};

use super::human_bytes;
use super::time::format_ns;

fn state(s: SegmentState) -> &'static str {
    match s {
        SegmentState::Prepared => "prepared",
        SegmentState::Active => "active",
        SegmentState::Sealed => "sealed",
        SegmentState::Invalid => "invalid",
    }
}

pub(super) fn run(dir: &Path, json: bool, out: &mut dyn Write) -> anyhow::Result<u8> {
    let segments = list_segments(dir)?;
    if json {
        let list: Vec<_> = segments
            .iter()
            .map(|s| {
                json!({
                    "index": s.index,
                    "path": s.path.display().to_string(),
                    "state": state(s.state),
                    "file_bytes": s.file_len,
                    "capacity": s.capacity,
                    "used_bytes": s.used,
                    "records": s.records,
                    "first_seq": s.first_seq,
                    "last_seq": s.last_seq,
                    "first_ts_ns": s.first_ts,
                    "last_ts_ns": s.last_ts,
                    "created_ns": s.created_ns,
                    "sealed_ns": s.sealed_ns,
                    "problem": s.problem.as_ref().map(|p| p.to_string()),
                })
            })
            .collect();
        writeln!(out, "{}", json!({ "dir": dir.display().to_string(), "segments": list }))?;
        return Ok(0);
    }
    writeln!(
        out,
        "{:>8}  {:<8}  {:>10}  {:>21}  {:<30}  {:>21}  problem",
        "segment", "state", "records", "sequences", "first record", "used / size"
    )?;
    for s in &segments {
        let seqs = match (s.first_seq, s.last_seq) {
            (Some(a), Some(b)) => format!("{a}..={b}"),
            (Some(a), None) => format!("{a}.. (empty)"),
            _ => "-".into(),
        };
        let first = s.first_ts.map_or_else(|| "-".into(), format_ns);
        let used = format!("{} / {}", human_bytes(s.used), human_bytes(s.file_len));
        let problem = s.problem.as_ref().map_or_else(String::new, |p| p.to_string());
        writeln!(
            out,
            "{:>8}  {:<8}  {:>10}  {:>21}  {:<30}  {:>21}  {problem}",
            s.index,
            state(s.state),
            s.records,
            seqs,
            first,
            used
        )?;
    }
    let records: u64 = segments.iter().map(|s| s.records).sum();
    let bytes: u64 = segments.iter().map(|s| s.file_len).sum();
    writeln!(
        out,
        "{} segment(s), {records} records, {} on disk",
        segments.len(),
        human_bytes(bytes)
    )?;
    Ok(0)
}
