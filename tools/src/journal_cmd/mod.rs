//! `tickline journal`: inspect and maintain a journal directory, live or not.
//!
//! | command | what |
//! |---|---|
//! | `ls DIR` | segment files: state, records, sequence and time ranges, bytes used |
//! | `stats DIR` | records by type, instrument and reject reason; sessions; ranges |
//! | `dump DIR` | records, one line each (or JSON lines with `--json`) |
//! | `tail DIR [-f]` | the last records, then (`-f`) follow a live journal |
//! | `verify DIR` | check every byte; name each bad record; exit 1 if any |
//! | `export DIR --format jsonl\|csv` | records as JSON lines or CSV |
//! | `backup DIR DEST` | a verified, consistent copy up to a sequence |
//! | `prune DIR --max-age/--max-bytes` | remove sealed segments past a budget |
//!
//! `stats`, `dump`, `tail` and `export` take the same filters (`--type`, `--instrument`,
//! `--from-seq`/`--to-seq`, `--since`/`--until`). Every command reads a journal another
//! process is writing without disturbing it; only `prune` removes anything, and only sealed
//! segments. Readers stop at the first bad record with an error naming it (exit 2); `verify`
//! reads past bad records to name them all. Long operations draw a progress line on stderr
//! when it is a terminal (or always, with `--progress`).
//!
//! Exit status: 0 done, 1 `verify` found problems, 2 the command could not run (bad
//! arguments, unreadable or corrupt journal).
//!
//! ```text
//! tickline journal stats target/journal --type approved,rejected --instrument SYN-A
//! tickline journal tail -f target/journal --type rejected
//! tickline journal export target/journal --format csv -o orders.csv --type approved
//! ```

mod dump;
mod export;
pub mod filter;
mod ls;
pub mod progress;
mod retention;
mod stats;
pub mod time;
mod verify;
pub mod view;

use std::io::Write;
use std::path::{Path, PathBuf};

use filter::FilterArgs;

/// A journal directory, positional or as `--dir` (either form; the runbook uses `--dir`).
#[derive(Clone, Debug, clap::Args)]
pub struct JournalDir {
    /// Journal directory.
    #[arg(value_name = "DIR", required_unless_present = "dir_flag")]
    dir: Option<PathBuf>,
    /// Journal directory (the same as DIR).
    #[arg(long = "dir", value_name = "DIR", conflicts_with = "dir")]
    dir_flag: Option<PathBuf>,
}

impl JournalDir {
    /// The directory given.
    pub fn path(&self) -> &Path {
        self.dir.as_deref().or(self.dir_flag.as_deref()).unwrap_or(Path::new("."))
    }
}

/// `tickline journal` options.
#[derive(Debug, clap::Args)]
pub struct JournalArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: JournalCommand,
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// `tickline journal` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// List the segment files: state, records, sequence and time ranges, bytes used.
    Ls {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Count records by type, instrument and reject reason.
    Stats {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Show a progress line on stderr even when it is not a terminal.
        #[arg(long)]
        progress: bool,
    },
    /// Print records, one line each.
    Dump {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
        /// Stop after this many records.
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
    },
    /// Print the last records; with -f, keep following the journal as it grows.
    Tail {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Follow: wait for new records (until SIGINT/SIGTERM or --for).
        #[arg(short = 'f', long)]
        follow: bool,
        /// Start this many records before the end (ignored with --from-seq or --since).
        #[arg(short = 'n', long, default_value_t = 10, value_name = "N")]
        lines: u64,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Print one JSON object per line.
        #[arg(long)]
        json: bool,
        /// With -f, stop after this long ("30s", "5m").
        #[arg(long = "for", value_name = "DURATION")]
        for_: Option<String>,
    },
    /// Check every segment header and record; name each bad one. Exit 1 if any.
    Verify {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Show a progress line on stderr even when it is not a terminal.
        #[arg(long)]
        progress: bool,
    },
    /// Write records as JSON lines or CSV.
    Export {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Output format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (default: stdout).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Show a progress line on stderr even when it is not a terminal.
        #[arg(long)]
        progress: bool,
    },
    /// Copy the journal up to a sequence into DEST (empty or new) and verify the copy.
    Backup {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Backup directory (empty or new).
        #[arg(value_name = "DEST", required_unless_present = "to")]
        dest: Option<PathBuf>,
        /// Backup directory (the same as DEST).
        #[arg(long, value_name = "DEST", conflicts_with = "dest")]
        to: Option<PathBuf>,
        /// Last sequence to copy (default: the last record present; every record a writer
        /// has appended is whole, and survives the writer's kill -9).
        #[arg(long, value_name = "SEQ")]
        up_to: Option<u64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
        /// Show a progress line on stderr even when it is not a terminal.
        #[arg(long)]
        progress: bool,
    },
    /// Remove sealed segments, oldest first, past an age or size budget.
    Prune {
        /// The journal directory.
        #[command(flatten)]
        dir: JournalDir,
        /// Remove segments sealed longer ago than this ("7d", "12h").
        #[arg(long, value_name = "AGE")]
        max_age: Option<String>,
        /// Remove the oldest sealed segments while the journal is bigger than this ("10GiB",
        /// "500MB", bytes).
        #[arg(long, value_name = "SIZE")]
        max_bytes: Option<String>,
        /// Say what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `tickline journal`; returns the exit status.
pub fn run(args: &JournalArgs) -> anyhow::Result<u8> {
    let out = std::io::stdout().lock();
    let mut out = std::io::BufWriter::new(out);
    let code = match run_to(args, &mut out) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => return Ok(0),
        Err(e) => {
            let _ = out.flush();
            return Err(one_line(&e));
        }
    };
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(e.into()),
        Ok(()) => Ok(code),
    }
}

/// The error and its causes on one line, each cause once (the journal's errors already
/// print their OS error, which is also their `source`).
pub fn one_line(e: &anyhow::Error) -> anyhow::Error {
    let mut msg = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if msg.contains(&c) {
            continue;
        }
        if !msg.is_empty() {
            msg.push_str(": ");
        }
        msg.push_str(&c);
    }
    anyhow::Error::msg(msg)
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run_to(args: &JournalArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    match &args.command {
        JournalCommand::Ls { dir, json } => ls::run(dir.path(), *json, out),
        JournalCommand::Stats { dir, filter, json, progress } => {
            stats::run(dir.path(), &filter::Filter::from_args(filter)?, *json, *progress, out)
        }
        JournalCommand::Dump { dir, filter, json, limit } => {
            dump::dump(dir.path(), &filter::Filter::from_args(filter)?, *json, *limit, out)
        }
        JournalCommand::Tail { dir, follow, lines, filter, json, for_ } => {
            let f = filter::Filter::from_args(filter)?;
            let stop_after = match for_ {
                Some(d) => Some(time::parse_span(d).ok_or_else(|| {
                    anyhow::anyhow!("--for {d:?} is not a duration like \"30s\" or \"5m\"")
                })?),
                None => None,
            };
            let from_given = filter.from_seq.is_some() || filter.since.is_some();
            let opts = dump::TailOptions {
                follow: *follow,
                lines: (!from_given).then_some(*lines),
                json: *json,
                stop_after,
            };
            dump::tail(dir.path(), &f, &opts, out)
        }
        JournalCommand::Verify { dir, json, progress } => {
            verify::run(dir.path(), *json, *progress, out)
        }
        JournalCommand::Export { dir, format, output, filter, progress } => export::run(
            dir.path(),
            *format,
            output.as_deref(),
            &filter::Filter::from_args(filter)?,
            *progress,
            out,
        ),
        JournalCommand::Backup { dir, dest, to, up_to, json, progress } => {
            let dest = dest.as_deref().or(to.as_deref()).unwrap_or(Path::new("."));
            retention::backup(dir.path(), dest, *up_to, *json, *progress, out)
        }
        JournalCommand::Prune { dir, max_age, max_bytes, dry_run, json } => retention::prune(
            dir.path(),
            max_age.as_deref(),
            max_bytes.as_deref(),
            *dry_run,
            *json,
            out,
        ),
    }
}

/// Parses a size: bytes, or with a unit (`KB`, `MB`, `GB`, `TB` in powers of 1000; `KiB`,
/// `MiB`, `GiB`, `TiB` in powers of 1024).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Bytes for people: `1.5 MiB`.
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10GiB"), Some(10 << 30));
        assert_eq!(parse_size("500MB"), Some(500_000_000));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1 KiB"), Some(1024));
        assert_eq!(parse_size("1.5GB"), None);
        assert_eq!(parse_size("lots"), None);
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(12), "12 B");
    }
}
