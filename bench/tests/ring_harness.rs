//! The `ring-harness` binary end to end: a quick run with yielding waits (CI has 2 cores, so
//! two busy-spinning threads plus the test runner would crawl) must print one JSON object in
//! which every contender moved every message. No timing is checked.

use std::process::Command;

use serde_json::Value;

const CONTENDERS: [&str; 5] = ["tickline", "disruptor", "array-queue", "channel", "atomic"];

fn quick_json(extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_ring-harness"))
        .args(["--quick", "--json", "--wait", "spin-yield"])
        .args(extra)
        .output()
        .expect("run ring-harness");
    assert!(out.status.success(), "ring-harness failed: {}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}): {stdout}"))
}

fn u(v: &Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} missing or not an integer in {v}"))
}

#[test]
fn quick_json_run_moves_every_message_through_every_contender() {
    let report = quick_json(&[]);
    let config = &report["config"];
    let (iters, msgs, runs) = (u(config, "iters"), u(config, "msgs"), u(config, "runs"));
    assert!(iters > 0 && msgs > 0 && runs > 0);

    let rtt = report["rtt"].as_array().expect("rtt array");
    let names: Vec<&str> = rtt.iter().filter_map(|r| r["contender"].as_str()).collect();
    assert_eq!(names, CONTENDERS);
    for r in rtt {
        assert_eq!(u(r, "trips"), iters, "{r}");
        assert_eq!(u(r, "completed"), iters, "{r}");
        assert_eq!(u(r, "echoed"), iters + runs * u(config, "warmup"), "{r}");
        assert_eq!(u(r, "echoed"), u(r, "expected_echoed"), "{r}");
        for key in ["p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"] {
            u(r, key);
        }
    }

    let tput = report["throughput"].as_array().expect("throughput array");
    let names: Vec<&str> = tput.iter().filter_map(|r| r["contender"].as_str()).collect();
    assert_eq!(names, &CONTENDERS[..4], "every contender but the atomic floor streams");
    for r in tput {
        assert_eq!(u(r, "runs"), runs, "{r}");
        assert_eq!(u(r, "received"), runs * msgs, "{r}");
        assert_eq!(r["in_order"], Value::Bool(true), "{r}");
        assert!(r["mmsgs_per_s_median"].is_f64(), "{r}");
    }

    for key in [
        "rtt_p50_tickline_over_atomic",
        "throughput_tickline_over_disruptor",
        "throughput_tickline_over_array_queue",
    ] {
        assert!(report["ratios"][key].is_number(), "ratio {key} missing: {}", report["ratios"]);
    }
}

#[test]
fn options_override_quick_sizes_and_bad_cores_fall_back_to_unpinned() {
    let report =
        quick_json(&["--iters", "300", "--msgs", "5000", "--runs", "3", "--cores", "0,999999"]);
    assert_eq!(u(&report["config"], "iters"), 300);
    assert_eq!(u(&report["config"], "runs"), 3);
    assert_eq!(report["pinned"], Value::Null);
    assert!(report["pin_note"].as_str().is_some_and(|n| n.contains("999999")), "{report}");
    for r in report["rtt"].as_array().expect("rtt array") {
        assert_eq!(u(r, "completed"), 300, "{r}");
    }
    for r in report["throughput"].as_array().expect("throughput array") {
        assert_eq!(u(r, "received"), 15_000, "{r}");
    }
}

#[test]
fn table_output_names_every_contender_and_ratio() {
    let out = Command::new(env!("CARGO_BIN_EXE_ring-harness"))
        .args([
            "--quick",
            "--wait",
            "spin-yield",
            "--iters",
            "200",
            "--msgs",
            "2000",
            "--runs",
            "1",
        ])
        .output()
        .expect("run ring-harness");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8(out.stdout).expect("utf-8 output");
    for name in CONTENDERS.iter().chain(&["rtt_p50_tickline_over_atomic", "p99.9"]) {
        assert!(table.contains(name), "{name} missing from:\n{table}");
    }
    assert!(!table.contains(" NO"), "a contender lost or reordered messages:\n{table}");
}
