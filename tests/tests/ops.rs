//! Operations: the systemd unit verifies, and preflight runs on this host.

use std::process::Command;

use tickline_tests::{root, scratch, tickline};

#[test]
fn systemd_unit_verifies() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "systemd-analyze is missing under CI (.ci/run installs systemd)"
        );
        eprintln!("skip: systemd-analyze not installed");
        return;
    };
    assert!(out.status.success());
    // Point the unit at the binary we built so `verify` can check the executables exist.
    let unit = std::fs::read_to_string(root().join("configs/systemd/tickline.service")).unwrap();
    let unit = unit.replace("/usr/local/bin/tickline", &tickline().display().to_string());
    let dir = scratch("systemd");
    let path = dir.join("tickline.service");
    std::fs::write(&path, unit).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.trim().is_empty(), "systemd-analyze verify reported:\n{text}");
}

#[test]
fn preflight_runs_here_and_says_what_it_cannot_know() {
    let out = Command::new(tickline()).args(["preflight", "--json"]).output().unwrap();
    let code = out.status.code().expect("exit code");
    assert!((0..=2).contains(&code), "exit {code}: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let checks = v["checks"].as_array().unwrap();
    let names: Vec<&str> = checks.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for name in [
        "layout.cores",
        "cpu.isolcpus",
        "cpu.governor",
        "mm.thp",
        "clock.source",
        "mm.swap",
        "limits.memlock",
        "limits.nofile",
    ] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    for c in checks {
        let status = c["status"].as_str().unwrap();
        assert!(["pass", "warn", "fail", "unknown"].contains(&status));
        if status == "warn" || status == "fail" {
            assert!(c["fix"].is_string(), "a {status} says how to fix it: {c}");
        }
    }
    assert_eq!(v["exit"].as_i64(), Some(i64::from(code)));
    let text = Command::new(tickline()).arg("preflight").output().unwrap();
    println!("{}", String::from_utf8_lossy(&text.stdout));
}

fn wait_for(path: &std::path::Path, needle: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {needle:?} in the log (hang guard):\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sighup_applies_changed_limits_and_parameters_or_keeps_the_old_ones() {
    let dir = scratch("sighup");
    let config = dir.join("tickline.toml");
    // A tenth of the default feed rate: the journal grows by about 2 MB a second, not 20,
    // however long a loaded machine takes over the reloads.
    let base = tickline_tests::default_config().replace("rate = 200000", "rate = 20000");
    assert!(base.contains("rate = 20000\n"), "the default config sets the feed rate");
    std::fs::write(&config, &base).unwrap();
    let journal = dir.join("journal");
    let log = dir.join("stderr.log");
    let mut child = Command::new(tickline())
        .args(["run", "--duration", "60s", "--config"])
        .arg(&config)
        .arg("--journal")
        .arg(&journal)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for(&log, "starting pipeline");
    let hup = || {
        assert!(Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .unwrap()
            .success())
    };

    // A valid change: one risk limit and one strategy parameter.
    let changed = base
        .replace("daily_loss_limit = \"1000\"", "daily_loss_limit = \"900\"")
        .replace("threshold = \"0.05\"", "threshold = \"0.06\"");
    assert_ne!(changed, base, "the default config has the keys this test edits");
    std::fs::write(&config, &changed).unwrap();
    hup();
    let text = wait_for(&log, "config reloaded");
    assert!(
        text.contains("limit daily_loss_limit=900")
            && text.contains("param threshold-a.threshold=0.06"),
        "{text}"
    );

    // An invalid file: refused whole, the running values kept.
    std::fs::write(
        &config,
        changed.replace("daily_loss_limit = \"900\"", "daily_loss_limit = \"lots\""),
    )
    .unwrap();
    hup();
    wait_for(&log, "config reload refused");
    // A structural change: refused, needs a restart.
    std::fs::write(&config, changed.replace("rate = 20000\n", "rate = 1000\n")).unwrap();
    hup();
    let text = wait_for(&log, "feeds changed");
    assert!(text.contains("needs a restart"), "{text}");

    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    // Each applied change was journaled as a control record from "sighup".
    let dump = Command::new(tickline())
        .args(["journal", "dump", "--type", "control"])
        .arg(&journal)
        .output()
        .unwrap();
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("limit daily_loss_limit=900 | sighup | ok"), "{dump}");
    assert!(dump.contains("param threshold-a.threshold=0.06 | sighup | ok"), "{dump}");
}

#[test]
fn check_config_fails_on_a_readable_token_file_and_warns_on_debug_logging() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("security");
    let token = dir.join("token");
    std::fs::write(&token, "k3Jx9vQz2Lm8Pw4Rt6Yb1Hn5Dc7Fg0aBcXyZ").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let base = tickline_tests::default_config();
    let head = base.split("[admin]").next().unwrap();
    let path = dir.join("prod.toml");
    std::fs::write(
        &path,
        format!("{head}\n[admin]\nenabled = true\nbind = \"127.0.0.1:9100\"\ntoken_file = \"{}\"\n[log]\nlevel = \"debug\"\n", token.display()),
    )
    .unwrap();
    let out = Command::new(tickline()).arg("check-config").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("admin.token_file") && text.contains("chmod 0600"), "{text}");
    assert!(text.contains("log.level") && text.contains("Warn"), "{text}");
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = Command::new(tickline()).arg("check-config").arg(&path).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "warnings alone pass: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}
