//! `tickline`: the trading pipeline engine's command line.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tickline_tools::config::{parse_duration, Config, LoadError};
use tickline_tools::run::{exit_status, EXIT_CONFIG};

#[derive(Parser)]
#[command(name = "tickline", version, about = "Low-latency, lock-free trading pipeline engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the pipeline (the embedded default config when --config is not given).
    Run {
        /// Config file (TOML).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Stop after this long ("10s", "500ms"); overrides run.duration.
        #[arg(long)]
        duration: Option<String>,
        /// Print the summary as JSON on stdout instead of text.
        #[arg(long)]
        json: bool,
        /// Serve the admin port on this address ("127.0.0.1:9100"); overrides [admin]
        /// enabled and bind.
        #[arg(long, value_name = "ADDR")]
        admin: Option<String>,
        /// Journal into this directory; overrides [journal] enabled and dir.
        #[arg(long, value_name = "DIR")]
        journal: Option<PathBuf>,
    },
    /// Check the host against the configured layout (exit 0 pass, 1 warnings, 2 failures).
    Preflight {
        /// Config file (TOML); the embedded default when absent.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Print the checks as JSON.
        #[arg(long)]
        json: bool,
        /// Read /proc and /sys under this directory (a captured snapshot of a host).
        #[arg(long, default_value = "/")]
        sysroot: PathBuf,
    },
    /// Validate a config file without starting anything.
    CheckConfig {
        /// Config file (TOML).
        file: PathBuf,
    },
    /// A loopback exchange serving Binance or OKX market data, with fault injection.
    FeedSim(tickline_tools::feed_sim::FeedSimArgs),
    /// Re-run recorded input through the production code (one mode per run).
    Replay(tickline_tools::replay_cmd::ReplayArgs),
    /// Inspect and maintain a journal: ls, stats, dump, tail, verify, export, backup, prune.
    Journal(tickline_tools::journal_cmd::JournalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, duration, json, admin, journal } => {
            run(config, duration, json, admin, journal)
        }
        Command::Preflight { config, json, sysroot } => preflight(config, json, sysroot),
        Command::CheckConfig { file } => match Config::load(Some(&file)) {
            Ok(l) => {
                println!(
                    "{}: ok ({} instruments, {} feeds, {} strategies)",
                    l.origin,
                    l.registry.len(),
                    l.config.feeds.len(),
                    l.config.strategies.len()
                );
                let findings =
                    tickline_tools::security::check(&l.config, &|k| std::env::var(k).ok());
                let mut worst = 0u8;
                for f in &findings {
                    let bad = matches!(
                        f.status,
                        tickline_tools::preflight::Status::Warn
                            | tickline_tools::preflight::Status::Fail
                    );
                    println!("security {:<22} {:?} {}", f.name, f.status, f.detail);
                    if let Some(fix) = f.fix.as_ref().filter(|_| bad) {
                        println!("         fix: {fix}");
                    }
                    // A failed check fails the command; a warning is printed with its fix.
                    let failed = f.status == tickline_tools::preflight::Status::Fail;
                    worst = worst.max(u8::from(failed));
                }
                ExitCode::from(worst)
            }
            Err(e) => config_error(&e),
        },
        Command::FeedSim(args) => feed_sim(&args),
        Command::Replay(args) => match tickline_tools::replay_cmd::run(&args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("tickline: {e:#}");
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Journal(args) => match tickline_tools::journal_cmd::run(&args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("tickline: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

fn feed_sim(args: &tickline_tools::feed_sim::FeedSimArgs) -> ExitCode {
    // A test tool: warnings to stderr, directly (RUST_LOG overrides).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("tickline: cannot install handler for signal {sig}: {e}");
            return ExitCode::FAILURE;
        }
    }
    match tickline_tools::feed_sim::run(args, &stop) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickline: feed-sim: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn preflight(config: Option<PathBuf>, json: bool, sysroot: PathBuf) -> ExitCode {
    use tickline_tools::preflight::{exit_code, run, to_text, Host, Target};
    let loaded = match Config::load(config.as_deref()) {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    let target = match Target::from_config(&loaded) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("tickline: config {}: {e}", loaded.origin);
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let checks = run(&Host::at(sysroot), &target);
    if json {
        let out = serde_json::json!({ "checks": checks, "exit": exit_code(&checks) });
        println!("{out}");
    } else {
        print!("{}", to_text(&checks));
    }
    ExitCode::from(exit_code(&checks))
}

fn config_error(e: &LoadError) -> ExitCode {
    eprintln!("tickline: {e}");
    ExitCode::from(EXIT_CONFIG)
}

/// Logs through a non-blocking writer: lines go to a queue that the `log-writer` thread
/// drains, so no thread that logs ever waits on stderr or a disk.
fn init_logging(
    log: &tickline_tools::config::LogConfig,
) -> Result<tracing_appender::non_blocking::WorkerGuard, String> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&log.level));
    let builder = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(log.buffered_lines)
        .lossy(log.lossy)
        .thread_name("log-writer");
    let (writer, guard) = match &log.file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| format!("config key `log.file`: cannot open {path}: {e}"))?;
            builder.finish(file)
        }
        None => builder.finish(std::io::stderr()),
    };
    let ansi = log.file.is_none() && std::io::stderr().is_terminal();
    let fmt = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    if log.format == "json" {
        fmt.json().init();
    } else {
        fmt.init();
    }
    Ok(guard)
}

fn run(
    config: Option<PathBuf>,
    duration: Option<String>,
    json: bool,
    admin: Option<String>,
    journal: Option<PathBuf>,
) -> ExitCode {
    let mut loaded = match Config::load(config.as_deref()) {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
    if let Some(dir) = journal {
        loaded.config.journal.enabled = true;
        loaded.config.journal.dir = dir;
    }
    if let Some(addr) = admin {
        loaded.config.admin.enabled = true;
        loaded.config.admin.bind = addr;
        if let Err(e) = loaded.config.admin.resolve() {
            eprintln!("tickline: --admin: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    }
    let duration = match duration {
        Some(d) => match parse_duration(&d) {
            Some(d) => Some(d),
            None => {
                eprintln!("tickline: --duration {d:?} is not a duration like \"10s\" or \"500ms\"");
                return ExitCode::from(EXIT_CONFIG);
            }
        },
        None => loaded.duration,
    };
    // Held to the end of the run: dropping it flushes the log lines still queued.
    let _log_guard = match init_logging(&loaded.config.log) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("tickline: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("tickline: cannot install handler for signal {sig}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let reload = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload)) {
        eprintln!("tickline: cannot install handler for SIGHUP: {e}");
        return ExitCode::FAILURE;
    }
    let result =
        match tickline_tools::run::run_with_reload(&loaded, duration, &stop, None, Some(&reload)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("tickline: {e:#}");
                return ExitCode::FAILURE;
            }
        };
    if json {
        match serde_json::to_string(&result.summary) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("tickline: summary: {e}"),
        }
    } else {
        print!("{}", result.summary.to_text());
    }
    if let Some(d) = result.drain {
        tracing::info!(drain_ms = d.as_secs_f64() * 1e3, "pipeline drained");
    }
    let (code, message) = exit_status(&result.outcome);
    if let Some(m) = message {
        eprintln!("{m}");
    }
    ExitCode::from(code)
}
