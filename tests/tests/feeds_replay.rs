//! `tickline replay --check-book` on the recorded Binance captures in
//! `../shared/data/binance-spot/` (skipped with a notice when that folder is absent outside
//! CI), and `tickline run` wired to a live Binance feed served by `tickline feed-sim`.

mod feeds_support;

use std::path::PathBuf;
use std::process::Command;

use feeds_support::spawn_with_port;
use tickline_tests::{root, scratch, tickline};

fn capture(name: &str) -> Option<PathBuf> {
    let path = root().join("../shared/data/binance-spot").join(name);
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").map_or(true, |v| v != "true"),
        "{} missing under CI",
        path.display()
    );
    eprintln!("SKIP: {} not found", path.display());
    None
}

#[test]
fn replay_check_book_prints_the_figures_for_btcusdt() {
    let Some(path) = capture("btcusdt_20240808.gz") else { return };
    let out = Command::new(tickline())
        .args(["replay", "--capture", path.to_str().unwrap(), "--check-book"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "events checked  3448",
        "mismatches      0",
        "gaps            0",
        "symbol          BTCUSDT",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn replay_check_book_json_for_ethusdt_and_errors_name_the_problem() {
    let Some(path) = capture("ethusdt_20240808.gz") else { return };
    let out = Command::new(tickline())
        .args([
            "replay",
            "--capture",
            path.to_str().unwrap(),
            "--check-book",
            "--json",
            "--symbol",
            "ethusdt",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["events_checked"].as_u64(), r["mismatches"].as_u64(), r["gaps"].as_u64()),
        (Some(3_432), Some(0), Some(0)),
        "{r}"
    );
    let out = Command::new(tickline())
        .args([
            "replay",
            "--capture",
            path.to_str().unwrap(),
            "--check-book",
            "--symbol",
            "XRPUSDT",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("XRPUSDT"));
    let out = Command::new(tickline()).args(["replay", "--check-book"]).output().unwrap();
    assert!(!out.status.success(), "--check-book without --capture is refused");
}

#[test]
fn tickline_run_wires_a_binance_feed_to_feed_sim() {
    let mut sim = Command::new(tickline());
    sim.args(["feed-sim", "--venue", "binance", "--rate", "2000", "--symbols", "BTCUSDT"]);
    let (_sim, port) = spawn_with_port(sim);
    let dir = scratch("feeds-run");
    let config = format!(
        r#"
[[instruments]]
symbol = "BTCUSDT"
venue = "binance"
price_scale = 2
qty_scale = 5
tick_size = "0.01"
lot_size = "0.00001"

[[feeds]]
kind = "binance"
name = "binance"
url = "ws://127.0.0.1:{port}"
rest_url = "http://127.0.0.1:{port}"
symbols = ["BTCUSDT"]
backoff_min_ms = 20

[gateway]
kind = "instant"
name = "sim"
"#
    );
    let path = dir.join("binance.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(tickline())
        .args(["run", "--config", path.to_str().unwrap(), "--duration", "2s", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(s["ticks"].as_u64().unwrap_or(0) > 100, "{s}");
    let bad = path.with_extension("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&path)
            .unwrap()
            .replace("symbols = [\"BTCUSDT\"]", "symbols = [\"ETHUSDT\"]"),
    )
    .unwrap();
    let out =
        Command::new(tickline()).args(["check-config", bad.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("feeds[0].symbols") && err.contains("ETHUSDT"), "{err}");
}
