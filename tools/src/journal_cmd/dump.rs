//! `tickline journal dump` and `tail`: records as lines, from a start or following the end.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tickline_journal::{list_segments, Record, Start, TailOptions as JournalTailOptions, Tailer};

use super::filter::{context_at, open, Filter};
use super::view::{to_json, to_text, Context};

fn line(rec: &Record<'_>, ctx: &Context, json: bool) -> String {
    if json {
        to_json(rec, ctx).to_string()
    } else {
        to_text(rec, ctx)
    }
}

pub(super) fn dump(
    dir: &Path,
    filter: &Filter,
    json: bool,
    limit: Option<u64>,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    let (mut reader, mut ctx) = open(dir, filter)?;
    let mut shown = 0u64;
    while let Some(rec) = reader.next_record()? {
        ctx.observe(&rec);
        if filter.past_end(&rec) || limit.is_some_and(|l| shown >= l) {
            break;
        }
        if filter.matches(&rec, &ctx) {
            writeln!(out, "{}", line(&rec, &ctx, json))?;
            shown += 1;
        }
    }
    Ok(0)
}

/// How `tail` runs.
#[derive(Debug)]
pub(super) struct TailOptions {
    /// Keep following.
    pub follow: bool,
    /// Start this many records before the end (`None`: the filter's start).
    pub lines: Option<u64>,
    /// JSON lines.
    pub json: bool,
    /// Stop following after this long.
    pub stop_after: Option<Duration>,
}

pub(super) fn tail(
    dir: &Path,
    filter: &Filter,
    opts: &TailOptions,
    out: &mut dyn Write,
) -> anyhow::Result<u8> {
    if !dir.is_dir() {
        anyhow::bail!("journal directory {} does not exist", dir.display());
    }
    let start = match opts.lines {
        Some(n) => {
            let segments = list_segments(dir)?;
            let first = segments.iter().find_map(|s| s.first_seq);
            let next =
                segments.iter().rev().find_map(|s| s.last_seq.map(|l| l + 1).or(s.first_seq));
            match (first, next) {
                (Some(f), Some(n2)) => Start::Seq(n2.saturating_sub(n).max(f)),
                _ => Start::Beginning,
            }
        }
        None => filter.start(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    if opts.follow {
        for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
            signal_hook::flag::register(sig, Arc::clone(&stop))?;
        }
    }
    let mut tailer = Tailer::open(dir, start, JournalTailOptions::default())?;
    let mut ctx = context_at(dir, tailer.next_seq())?;
    let deadline = opts.stop_after.map(|d| Instant::now() + d);
    loop {
        let rec = if opts.follow {
            if stop.load(Ordering::Relaxed) || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            match tailer.next_timeout(Duration::from_millis(100))? {
                Some(r) => r,
                None => {
                    out.flush()?;
                    continue;
                }
            }
        } else {
            match tailer.poll()? {
                Some(r) => r,
                None => break,
            }
        };
        ctx.observe(&rec);
        if filter.past_end(&rec) {
            break;
        }
        if filter.matches(&rec, &ctx) {
            writeln!(out, "{}", line(&rec, &ctx, opts.json))?;
            if opts.follow {
                out.flush()?;
            }
        }
    }
    Ok(0)
}
