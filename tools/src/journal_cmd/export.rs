//! `tickline journal export`: records as JSON lines or CSV, to a file or stdout.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context as _;
use tickline_journal::list_segments;

use super::filter::{open, Filter};
use super::progress::Progress;
use super::view::{csv_header, csv_row, to_json};
use super::ExportFormat;

pub(super) fn run(
    dir: &Path,
    format: ExportFormat,
    output: Option<&Path>,
    filter: &Filter,
    show_progress: bool,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let total: u64 = list_segments(dir)?.iter().map(|s| s.records).sum();
    let (mut reader, mut ctx) = open(dir, filter)?;
    let mut file;
    let out: &mut dyn Write = match output {
        Some(p) => {
            let f = std::fs::File::create(p)
                .with_context(|| format!("creating export file {}", p.display()))?;
            file = BufWriter::new(f);
            &mut file
        }
        None => stdout,
    };
    if format == ExportFormat::Csv {
        writeln!(out, "{}", csv_header())?;
    }
    let mut progress = Progress::new("export", "records", total, show_progress);
    let (mut read, mut written) = (0u64, 0u64);
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
        let v = to_json(&rec, &ctx);
        match format {
            ExportFormat::Jsonl => writeln!(out, "{v}")?,
            ExportFormat::Csv => writeln!(out, "{}", csv_row(&v))?,
        }
        written += 1;
    }
    out.flush()?;
    progress.finish(read);
    if let Some(p) = output {
        eprintln!("exported {written} records to {}", p.display());
    }
    Ok(0)
}
