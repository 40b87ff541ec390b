//! `tickline journal backup` and `prune`.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::json;
use tickline_journal::{backup_with, list_segments, prune as prune_journal, PruneBudget};

use super::progress::Progress;
use super::time::parse_span;
use super::{human_bytes, parse_size};

pub(super) fn backup(
    dir: &Path,
    dest: &Path,
    up_to: Option<u64>,
    json: bool,
    show_progress: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let up_to = match up_to {
        Some(s) => s,
        None => list_segments(dir)?
            .iter()
            .rev()
            .find_map(|s| s.last_seq)
            .with_context(|| format!("journal {} holds no record to back up", dir.display()))?,
    };
    let mut progress: Option<Progress> = None;
    let report = backup_with(dir, dest, up_to, &mut |done, total| {
        progress
            .get_or_insert_with(|| Progress::new("backup", "records", total, show_progress))
            .update(done);
    })?;
    if let Some(p) = progress.as_mut() {
        p.finish(report.records);
    }
    if json {
        let v = json!({
            "source": dir.display().to_string(),
            "dest": dest.display().to_string(),
            "segments": report.segments,
            "records": report.records,
            "bytes": report.bytes,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "verified": true,
        });
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "backed up {} records (seq {}..={}) in {} segment(s), {}, to {}; the copy verifies",
            report.records,
            report.first_seq,
            report.last_seq,
            report.segments,
            human_bytes(report.bytes),
            dest.display()
        )?;
    }
    Ok(0)
}

pub(super) fn prune(
    dir: &Path,
    max_age: Option<&str>,
    max_bytes: Option<&str>,
    dry_run: bool,
    json: bool,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    if max_age.is_none() && max_bytes.is_none() {
        bail!("say what to keep: --max-age AGE and/or --max-bytes SIZE");
    }
    let budget = PruneBudget {
        max_age: max_age
            .map(|a| {
                parse_span(a).with_context(|| format!("--max-age {a:?} is not an age like \"7d\""))
            })
            .transpose()?,
        max_bytes: max_bytes
            .map(|b| {
                parse_size(b)
                    .with_context(|| format!("--max-bytes {b:?} is not a size like \"10GiB\""))
            })
            .transpose()?,
    };
    let report = prune_journal(dir, budget, dry_run)?;
    if json {
        let removed: Vec<_> = report
            .removed
            .iter()
            .map(|s| {
                json!({
                    "index": s.index,
                    "path": s.path.display().to_string(),
                    "bytes": s.file_len,
                    "first_seq": s.first_seq,
                    "last_seq": s.last_seq,
                })
            })
            .collect();
        let v = json!({
            "dir": dir.display().to_string(),
            "dry_run": report.dry_run,
            "removed": removed,
            "remaining_bytes": report.remaining_bytes,
        });
        writeln!(out, "{v}")?;
    } else {
        let verb = if dry_run { "would remove" } else { "removed" };
        for s in &report.removed {
            let seqs = match (s.first_seq, s.last_seq) {
                (Some(a), Some(b)) => format!("seq {a}..={b}"),
                _ => "no records".into(),
            };
            writeln!(
                out,
                "{verb} segment {} ({}, {seqs}, {})",
                s.index,
                s.path.display(),
                human_bytes(s.file_len)
            )?;
        }
        writeln!(
            out,
            "{} {} segment(s); {} left",
            if dry_run { "dry run:" } else { "prune:" },
            report.removed.len(),
            human_bytes(report.remaining_bytes)
        )?;
    }
    Ok(0)
}
