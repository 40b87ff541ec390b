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
    },
    /// Validate a config file without starting anything.
    CheckConfig {
        /// Config file (TOML).
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config, duration, json } => run(config, duration, json),
        Command::CheckConfig { file } => match Config::load(Some(&file)) {
            Ok(l) => {
                println!(
                    "{}: ok ({} instruments, {} feeds, {} strategies)",
                    l.origin,
                    l.registry.len(),
                    l.config.feeds.len(),
                    l.config.strategies.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => config_error(&e),
        },
    }
}

fn config_error(e: &LoadError) -> ExitCode {
    eprintln!("tickline: {e}");
    ExitCode::from(EXIT_CONFIG)
}

fn init_logging(level: &str, format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn run(config: Option<PathBuf>, duration: Option<String>, json: bool) -> ExitCode {
    let loaded = match Config::load(config.as_deref()) {
        Ok(l) => l,
        Err(e) => return config_error(&e),
    };
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
    init_logging(&loaded.config.log.level, &loaded.config.log.format);
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            eprintln!("tickline: cannot install handler for signal {sig}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let result = match tickline_tools::run::run(&loaded, duration, &stop, None) {
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
