//! `tickline run` end to end: the embedded default, signals, invalid configs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tickline_tests::{default_config, scratch, tickline};

fn json_summary(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!("summary is not JSON ({e}): {}", String::from_utf8_lossy(stdout))
    })
}

#[test]
fn embedded_default_runs_and_summarises() {
    let out =
        Command::new(tickline()).args(["run", "--duration", "1s", "--json"]).output().unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let s = json_summary(&out.stdout);
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("{k} missing in {s}"));
    assert!(n("ticks") > 10_000, "{s}");
    assert!(n("orders") > 0, "{s}");
    assert_eq!(n("orders"), n("orders_sent"));
    assert_eq!(n("fills"), n("orders"), "the instant venue fills every order");
    assert_eq!(n("exec_reports"), 2 * n("orders"));
    assert_eq!(n("lost"), 0);
    assert_eq!(s["tick_to_order"]["count"].as_u64(), Some(n("orders")));
    assert!(s["tick_to_order"]["p50"].as_u64().unwrap() > 0);
}

#[test]
fn text_summary_has_every_figure() {
    let out = Command::new(tickline()).args(["run", "--duration", "300ms"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for line in
        ["ticks", "orders", "rejects", "fills", "lost", "rings", "tick-to-order ns", "p99.9"]
    {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

fn stop_with(signal: &str) {
    let mut child = Command::new(tickline())
        .args(["run", "--duration", "120s", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    let sent = Instant::now();
    let kill = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let deadline = sent + Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "tickline ignored {signal} (hang guard)");
        std::thread::sleep(Duration::from_millis(5));
    };
    let exit_after = sent.elapsed();
    let mut stdout = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    assert_eq!(status.code(), Some(0), "{signal} must exit 0");
    let s = json_summary(&stdout);
    assert_eq!(s["lost"].as_u64(), Some(0));
    assert_eq!(s["orders"], s["orders_sent"], "every approved order reached the venue before exit");
    assert_eq!(s["exec_reports"].as_u64().unwrap(), 2 * s["orders"].as_u64().unwrap());
    println!("{signal}: exited {:.1} ms after the signal", exit_after.as_secs_f64() * 1e3);
}

#[test]
fn sigterm_stops_drains_and_exits_zero() {
    stop_with("-TERM");
}

#[test]
fn sigint_stops_drains_and_exits_zero() {
    stop_with("-INT");
}

fn expect_config_error(name: &str, config: &str, needle: &str) {
    let dir = scratch(name);
    let path = dir.join("bad.toml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(tickline()).args(["run", "--config"]).arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: stderr {stderr}");
    assert!(stderr.contains(needle), "{name}: {needle:?} not in {stderr}");
    assert!(
        out.stdout.is_empty(),
        "{name}: nothing may start: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let check = Command::new(tickline()).arg("check-config").arg(&path).output().unwrap();
    assert_eq!(check.status.code(), Some(2), "{name}: check-config agrees");
}

#[test]
fn invalid_configs_exit_2_naming_the_key() {
    let base = default_config();
    expect_config_error(
        "unknown-key",
        &base.replace("[gateway]", "[gateway]\nspeed = \"fast\""),
        "unknown field `speed`",
    );
    expect_config_error(
        "ring-size",
        &base.replace("exec = { capacity = 4096", "exec = { capacity = 3000"),
        "rings.exec.capacity",
    );
    expect_config_error(
        "unknown-core",
        &format!(
            "{}[layout]\nmode = \"explicit\"\n[[layout.threads]]\nname = \"hot\"\nstages = [\"feeds\", \"strategy\", \"risk\", \"gateway\"]\ncore = 999\n",
            base.split("[layout]").next().unwrap()
        ),
        "layout.threads[0].core",
    );
    expect_config_error(
        "duplicate-instrument",
        &base.replace("symbol = \"SYN-C\"", "symbol = \"SYN-A\""),
        "synthetic:SYN-A is declared twice",
    );
    expect_config_error("not-toml", "this is [not toml", "bad.toml");
    let out =
        Command::new(tickline()).args(["run", "--config", "/nonexistent/x.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.toml"));
}

#[test]
fn check_config_accepts_the_shipped_default() {
    let out = Command::new(tickline())
        .arg("check-config")
        .arg(tickline_tests::root().join("configs/default.toml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (3 instruments"));
}
