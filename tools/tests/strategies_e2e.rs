//! Each strategy end to end through the real wiring and `tickline run`, behind the full risk
//! stage: on the synthetic feed (`configs/strategies.toml`) and on replays of the recorded
//! Binance captures (`configs/replay-btcusdt.toml`, `configs/replay-spread.toml`). Orders
//! flow, limits bite, and the summary shows orders, rejects by reason, fills and PnL.
//!
//! The captures live in `<workspace>/../shared/data/binance-spot/`; without them a replay test
//! prints a skip notice, or fails under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tickline_engine::runtime::Outcome;
use tickline_tools::config::{Config, FeedConfig, Loaded};
use tickline_tools::run::run;
use tickline_tools::summary::Summary;

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn capture(name: &str) -> Option<PathBuf> {
    let path = workspace().join("../shared/data/binance-spot").join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "shared capture {} is missing: CI must have ../shared/data/binance-spot/ beside the checkout",
            path.display()
        );
    }
    eprintln!("SKIP: {} not found (shared data absent outside CI)", path.display());
    None
}

/// `configs/<file>` with only `strategy` enabled, unpinned (tests share the machine), capture
/// paths made absolute, and a per-instrument order rate of 5/s (burst 10): every strategy here
/// wants more orders than that in a run, so a limit bites however fast the machine replays.
fn config(file: &str, strategy: &str) -> Loaded {
    let mut loaded = Config::load(Some(&workspace().join("configs").join(file)))
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    loaded.config.strategies.retain(|s| s.name() == strategy);
    assert_eq!(loaded.config.strategies.len(), 1, "{file} has strategy {strategy}");
    loaded.config.layout.pin = false;
    let tight = Some(tickline_engine::risk::Rate { per_second: 5, burst: 10 });
    loaded.config.risk.instrument_defaults.order_rate = tight;
    for over in loaded.config.risk.instruments.values_mut() {
        over.order_rate = None;
    }
    for f in &mut loaded.config.feeds {
        if let FeedConfig::Capture { path, .. } = f {
            let name = Path::new(path.as_str()).file_name().unwrap().to_owned();
            *path =
                workspace().join("../shared/data/binance-spot").join(name).display().to_string();
        }
    }
    loaded
}

fn run_one(loaded: &Loaded, duration: Option<Duration>) -> Summary {
    let stop = Arc::new(AtomicBool::new(false));
    let result = run(loaded, duration, &stop, None).expect("the run starts");
    assert_eq!(result.outcome, Outcome::Clean);
    print!("{}", result.summary.to_text());
    result.summary
}

fn rejects(s: &Summary, reason: &str) -> u64 {
    s.rejects.iter().find(|(r, _)| r == reason).map_or(0, |(_, n)| *n)
}

/// What every run must show: orders out, fills back, limits biting, PnL per instrument.
fn check(s: &Summary, symbols: &[&str]) {
    assert!(s.orders > 0, "orders flowed");
    assert_eq!(s.orders, s.orders_sent, "every approved order reached the venue");
    assert!(s.fills > 0, "fills came back");
    assert!(!s.rejects.is_empty(), "a limit bit");
    assert_eq!(s.lost, 0);
    assert_eq!(s.risk_halts, 0, "no loss or throttle halt in these runs");
    for sym in symbols {
        let p = s.positions.iter().find(|p| p.symbol == *sym);
        let p = p.unwrap_or_else(|| panic!("a position line for {sym}"));
        assert!(p.fills > 0);
        assert_eq!(p.net, p.realized + p.unrealized - p.fees);
    }
    let net: rust_decimal::Decimal = s.positions.iter().map(|p| p.net).sum();
    assert_eq!(net, s.net_pnl, "instrument PnL adds up to the total");
    let text = s.to_text();
    for line in ["orders", "rejects", "fills", "pnl", "position"] {
        assert!(text.contains(line), "summary shows {line}");
    }
}

const SYNTHETIC_RUN: Duration = Duration::from_millis(1_500);

#[test]
fn market_maker_on_the_synthetic_feed() {
    let s = run_one(&config("strategies.toml", "mm-a"), Some(SYNTHETIC_RUN));
    check(&s, &["SYN-A"]);
    assert!(rejects(&s, "order_rate_instrument") > 0);
    // Quotes are replaced far more often than rate limits allow at this tick rate.
    assert!(s.intents > s.orders);
}

#[test]
fn momentum_on_the_synthetic_feed() {
    let s = run_one(&config("strategies.toml", "momentum-b"), Some(SYNTHETIC_RUN));
    check(&s, &["SYN-B"]);
}

#[test]
fn spread_on_the_synthetic_feed() {
    let s = run_one(&config("strategies.toml", "spread-bc"), Some(SYNTHETIC_RUN));
    check(&s, &["SYN-B", "SYN-C"]);
}

#[test]
fn market_maker_on_the_btcusdt_replay() {
    if capture("btcusdt_20240808.gz").is_none() {
        return;
    }
    let s = run_one(&config("replay-btcusdt.toml", "mm-btc"), None);
    assert!(s.ticks > 40_000, "the whole capture was replayed: {}", s.ticks);
    check(&s, &["BTCUSDT"]);
}

#[test]
fn momentum_on_the_btcusdt_replay() {
    if capture("btcusdt_20240808.gz").is_none() {
        return;
    }
    let s = run_one(&config("replay-btcusdt.toml", "momentum-btc"), None);
    assert!(s.ticks > 40_000);
    check(&s, &["BTCUSDT"]);
}

#[test]
fn spread_on_the_btcusdt_and_ethusdt_replays() {
    if capture("btcusdt_20240808.gz").is_none() || capture("ethusdt_20240808.gz").is_none() {
        return;
    }
    let s = run_one(&config("replay-spread.toml", "spread-btc-eth"), None);
    assert!(s.ticks > 70_000);
    check(&s, &["BTCUSDT", "ETHUSDT"]);
}

/// The real binary on both configs, with the JSON summary.
#[test]
fn tickline_binary_runs_every_strategy_and_the_replay() {
    let bin = env!("CARGO_BIN_EXE_tickline");
    let json = |args: &[&str]| {
        let out = Command::new(bin).current_dir(workspace()).args(args).output().unwrap();
        assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("summary is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap());
        v
    };
    let s = json(&["run", "--config", "configs/strategies.toml", "--duration", "2s", "--json"]);
    assert!(s["orders"].as_u64().unwrap() > 0);
    assert!(s["fills"].as_u64().unwrap() > 0);
    assert!(!s["rejects"].as_array().unwrap().is_empty());
    let positions = s["positions"].as_array().unwrap();
    assert_eq!(positions.len(), 3, "every instrument traded: {positions:?}");
    if capture("btcusdt_20240808.gz").is_none() {
        return;
    }
    let s = json(&["run", "--config", "configs/replay-btcusdt.toml", "--json"]);
    assert!(s["ticks"].as_u64().unwrap() > 40_000);
    assert!(s["orders"].as_u64().unwrap() > 0);
    assert!(s["fills"].as_u64().unwrap() > 0);
    assert_eq!(s["positions"][0]["symbol"], "BTCUSDT");
}

#[test]
fn the_embedded_default_trades_within_its_risk_limits() {
    let mut loaded = Config::load(None).unwrap();
    loaded.config.layout.pin = false;
    let s = run_one(&loaded, Some(Duration::from_millis(800)));
    assert!(s.orders > 0);
    assert_eq!(s.fills, s.orders, "only new orders: the instant venue fills each");
    assert_eq!(rejects(&s, "limit_not_configured"), 0, "every limit configured");
    assert_eq!(s.risk_halts, 0);
}

/// Parameters and limits change at run time through the control channel, and bite at once.
#[test]
fn strategy_parameters_and_risk_limits_change_at_run_time() {
    use tickline_engine::risk::{HaltCause, RejectReason};
    use tickline_engine::runtime::{Command, ControlError, Pipeline};

    let loaded = config("strategies.toml", "mm-a");
    let p = Pipeline::start(tickline_tools::wiring::build(&loaded, None).unwrap()).unwrap();
    let ctl = p.control();
    let wait = Duration::from_secs(10);
    let risk = Arc::clone(p.risk());
    let param = |strategy: &str, name: &str, value: rust_decimal::Decimal| {
        Command::SetStrategyParam { strategy: strategy.into(), name: name.into(), value }
    };
    assert!(ctl.call(param("mm-a", "half_spread", "0.05".parse().unwrap()), "test", wait).is_ok());
    let refused = ctl.call(param("mm-a", "qty", "0.0005".parse().unwrap()), "test", wait);
    assert!(matches!(refused, Err(ControlError::Refused(why)) if why.contains("qty")));
    let limit = Command::SetRiskLimit {
        name: "max_order_qty".into(),
        instrument: Some("SYN-A".into()),
        value: "0.005".parse().unwrap(),
    };
    let note = ctl.call(limit, "test", wait).unwrap();
    assert!(note.contains("max_order_qty[SYN-A]"), "{note}");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while risk.rejects_of(RejectReason::MaxOrderQty) == 0 {
        assert!(std::time::Instant::now() < deadline, "the new limit never bit");
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::SetRiskLimit {
        name: "kill_switch".into(),
        instrument: None,
        value: rust_decimal::Decimal::ONE,
    };
    assert!(ctl.call(kill, "test", wait).unwrap().contains("halted"));
    assert_eq!(p.lifecycle().halt().cause(), HaltCause::Operator);
    p.stop();
    while !p.is_finished() {
        assert!(std::time::Instant::now() < deadline, "hang guard");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(p.join(), Outcome::Clean);
}
