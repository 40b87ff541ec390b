//! The `pipeline-harness` binary end to end: a quick run with yielding waits (CI has 2 cores)
//! of every contender with the journal on must print one JSON object in which every contender
//! moved ticks through strategy, risk and gateway into the journal, lost nothing, and wrote
//! its report. No timing is checked.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn run(out: &Path, extra: &[&str]) -> Value {
    let journals = out.join("journals");
    let run = Command::new(env!("CARGO_BIN_EXE_pipeline-harness"))
        .args(["--quick", "--json", "--wait", "spin-yield", "--out"])
        .arg(out)
        .arg("--journal-dir")
        .arg(&journals)
        .args(extra)
        .output()
        .expect("run pipeline-harness");
    assert!(
        run.status.success(),
        "pipeline-harness failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let stdout = String::from_utf8(run.stdout).expect("utf-8 output");
    let v: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}"));
    // Journals are removed unless --keep-journal.
    let left = std::fs::read_dir(&journals).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "journal directories left behind in {}", journals.display());
    v
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing or not an integer in {v}"))
}

#[test]
fn every_contender_moves_ticks_to_orders_and_the_journal() {
    let dir =
        std::env::temp_dir().join(format!("tickline-pipeline-harness-{}", std::process::id()));
    let report = run(&dir, &[]);
    let runs = report["runs"].as_array().expect("runs array");
    let names: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r["phase"].as_str().unwrap_or("?"), r["contender"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(
        names,
        [
            ("latency", "tickline"),
            ("latency", "crossbeam-channel"),
            ("latency", "std-mpsc"),
            ("latency", "floor"),
            ("throughput", "tickline"),
            ("throughput", "crossbeam-channel"),
            ("throughput", "std-mpsc"),
        ]
    );
    for r in runs {
        assert!(u(r, "ticks") > 0, "no ticks handled: {r}");
        assert!(u(r, "orders") > 0, "no orders reached the gateway: {r}");
        if r["contender"] == "floor" {
            // No pipeline: one sample for every event the schedule made due in the window
            // (the embedded config has one feed), and nothing is recorded.
            let due = u(r, "offered_rate") as f64 * r["secs"].as_f64().unwrap_or(0.0);
            assert_eq!(u(r, "orders"), due.round() as u64, "{r}");
            assert_eq!(u(r, "journal_records"), 0, "{r}");
            continue;
        }
        assert!(u(r, "journal_records") > u(r, "ticks"), "journal missed records: {r}");
        assert_eq!(u(&r["drops"], "lost"), 0, "{r}");
        let lat = &r["tick_to_order_ns"];
        assert!(u(lat, "p50") <= u(lat, "p99") && u(lat, "p99") <= u(lat, "max"), "{r}");
        assert!(r["allocs_per_tick"].is_number(), "{r}");
        if r["contender"] == "tickline" {
            // The harness binary counts every allocation of the process in the window, on
            // every thread: the hot path, the recorder, the journal's segment rolls (one
            // every 64 MiB, on its own thread) and the clock's discipline allocate nothing.
            assert_eq!(u(r, "allocs"), 0, "tickline allocated in steady state: {r}");
        }
    }
    let ratios = report["ratios"].as_array().expect("ratios array");
    assert_eq!(ratios.len(), 4, "tickline against two baselines in two phases");
    for r in ratios {
        assert!(r["p50"].as_f64().is_some_and(|x| x > 0.0), "{r}");
    }
    // Every goal is read in the one round; whether it held is the host's, not asserted.
    let goals = report["goals"].as_array().expect("goals array");
    assert_eq!(goals.len(), 4, "{goals:?}");
    assert!(
        goals.iter().all(|g| g["rounds"].as_array().is_some_and(|r| r.len() == 1)),
        "{goals:?}"
    );
    let md = std::fs::read_to_string(dir.join("pipeline.md")).expect("markdown report");
    assert!(md.contains("| latency | tickline | fused |"), "{md}");
    assert!(md.contains("| goal | held | per round |"), "{md}");
    assert!(md.contains("![") && md.contains("pipeline-latency.svg"));
    // The floor runs in the latency phase only.
    for (f, curves) in [("pipeline-latency.svg", 4), ("pipeline-throughput.svg", 3)] {
        let svg = std::fs::read_to_string(dir.join(f)).expect("plot");
        assert_eq!(svg.matches("<polyline").count(), curves, "one curve per contender in {f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn split_layout_without_journal_runs_alone() {
    let dir = std::env::temp_dir().join(format!("tickline-pipeline-split-{}", std::process::id()));
    let report = run(
        &dir,
        &[
            "--layout",
            "split",
            "--journal",
            "off",
            "--contenders",
            "tickline",
            "--phases",
            "latency",
        ],
    );
    let runs = report["runs"].as_array().expect("runs array");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["layout"], "split");
    assert_eq!(u(&runs[0], "journal_records"), 0);
    assert!(u(&runs[0], "orders") > 0, "{}", runs[0]);
    assert!(report["ratios"].as_array().is_some_and(Vec::is_empty));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rounds_interleave_contenders_and_pair_ratios_by_round() {
    let dir = std::env::temp_dir().join(format!("tickline-pipeline-rounds-{}", std::process::id()));
    let report =
        run(&dir, &["--rounds", "2", "--contenders", "tickline,std-mpsc", "--phases", "latency"]);
    let runs = report["runs"].as_array().expect("runs array");
    let order: Vec<(u64, &str)> =
        runs.iter().map(|r| (u(r, "round"), r["contender"].as_str().unwrap_or("?"))).collect();
    assert_eq!(order, [(1, "tickline"), (1, "std-mpsc"), (2, "tickline"), (2, "std-mpsc")]);
    for r in runs {
        assert!(u(r, "orders") > 0, "{r}");
    }
    let ratios = report["ratios"].as_array().expect("ratios array");
    assert_eq!(ratios.iter().map(|r| u(r, "round")).collect::<Vec<_>>(), [1, 2]);
    let summary = report["summary"]["ratios"].as_array().expect("summary ratios");
    assert_eq!(summary.len(), 1);
    assert_eq!(u(&summary[0], "rounds"), 2);
    let p50 = &summary[0]["p50"];
    let field = |k: &str| p50[k].as_f64().unwrap_or_else(|| panic!("p50.{k}: {summary:?}"));
    let per_round: Vec<f64> = ratios.iter().filter_map(|r| r["p50"].as_f64()).collect();
    assert_eq!(per_round.len(), 2, "{ratios:?}");
    // Compared to within 1e-9: parsing JSON numbers may be a unit in the last place off.
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
    let (a, b) = (per_round[0], per_round[1]);
    assert!(close(field("min"), a.min(b)), "{summary:?}");
    assert!(close(field("max"), a.max(b)), "{summary:?}");
    assert!(close(field("median"), (a + b) / 2.0), "{summary:?}");
    // Only the goals these runs measure: the std-mpsc ratio and the allocations, per round.
    let goals = report["goals"].as_array().expect("goals array");
    let names: Vec<&str> = goals.iter().filter_map(|g| g["goal"].as_str()).collect();
    assert_eq!(
        names,
        ["tick-to-order p50 ≥ 100× better than std-mpsc", "0 allocations per tick"],
        "{goals:?}"
    );
    for g in goals {
        let rounds: Vec<u64> =
            g["rounds"].as_array().expect("rounds").iter().map(|r| u(r, "round")).collect();
        assert_eq!(rounds, [1, 2], "{g}");
    }
    let mpsc = goals[0]["rounds"].as_array().expect("rounds");
    for (r, ratio) in mpsc.iter().zip(&per_round) {
        assert!(close(r["value"].as_f64().unwrap_or(0.0), *ratio), "{r} against {ratio}");
    }
    let contenders = report["summary"]["contenders"].as_array().expect("summary contenders");
    assert_eq!(contenders.len(), 2);
    assert!(contenders.iter().all(|c| u(c, "rounds") == 2), "{contenders:?}");
    // One curve per contender: the rounds are merged.
    let svg = std::fs::read_to_string(dir.join("pipeline-latency.svg")).expect("plot");
    assert_eq!(svg.matches("<polyline").count(), 2);
    let md = std::fs::read_to_string(dir.join("pipeline.md")).expect("markdown report");
    assert!(md.contains("2 rounds") && md.contains("| 2 | latency | std-mpsc | split |"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_config_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("tickline-pipeline-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("bad.toml");
    std::fs::write(&cfg, "[[feeds]]\nkind = \"nope\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline-harness"))
        .args(["--quick", "--config"])
        .arg(&cfg)
        .output()
        .expect("run pipeline-harness");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
