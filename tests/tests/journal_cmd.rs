//! `tickline journal …` end to end on journals recorded by `tickline run`: every subcommand,
//! filters, human and JSON output, exports that parse back, backup and prune, `tail -f` on a
//! live run, a second writer refused, and damaged or foreign files named without a panic.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tickline_tests::{default_config, run_tickline, scratch, stderr, stdout, summary, tickline};

fn journal(args: &[&str], dir: &Path) -> Output {
    let out = Command::new(tickline()).arg("journal").args(args).arg(dir).output().unwrap();
    // Nothing may panic, whatever the input (a panic exits 101).
    assert_ne!(out.status.code(), Some(101), "panicked: {}", stderr(&out));
    out
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(out), stderr(out)))
}

/// A config journaling into `dir` with 1 MiB segments, so a short run spans several.
fn small_segments_config(tmp: &Path, dir: &Path) -> PathBuf {
    let text = default_config();
    assert!(text.contains("segment_size = 67108864"), "configs/default.toml changed its [journal]");
    let text = text
        .replace("segment_size = 67108864", "segment_size = 1048576")
        .replace("dir = \"target/journal\"", &format!("dir = {:?}", dir.display().to_string()));
    let text = text.replacen("enabled = false\n# Relative", "enabled = true\n# Relative", 1);
    let path = tmp.join("journal.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn run_with(config: &Path, duration: &str) -> serde_json::Value {
    summary(&run_tickline(duration, &[OsStr::new("--config"), config.as_os_str()]))
}

/// Splits one CSV line (quotes and doubled quotes).
fn csv_fields(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

#[test]
fn every_subcommand_on_a_recorded_journal() {
    let tmp = scratch("journal-cmd");
    let dir = tmp.join("journal");
    let config = small_segments_config(&tmp, &dir);
    let summary = run_with(&config, "500ms");
    let orders = summary["orders"].as_u64().unwrap();
    let ticks = summary["ticks"].as_u64().unwrap();

    // ls: several segments, the last started one active.
    let ls = json(&journal(&["ls", "--json"], &dir));
    let segs = ls["segments"].as_array().unwrap();
    assert!(segs.len() >= 3, "{ls}");
    assert_eq!(segs[0]["state"], "sealed");
    assert!(segs.iter().any(|s| s["state"] == "active"), "{ls}");
    let listed: u64 = segs.iter().map(|s| s["records"].as_u64().unwrap()).sum();
    let text = stdout(&journal(&["ls"], &dir));
    assert!(text.contains("sealed") && text.contains("records"), "{text}");

    // stats agrees with the run's own summary.
    let st = json(&journal(&["stats", "--json"], &dir));
    assert_eq!(st["records"].as_u64(), Some(listed), "{st}");
    assert_eq!(st["by_type"]["approved"].as_u64(), Some(orders), "{st}");
    assert_eq!(st["by_type"]["tick"].as_u64(), Some(ticks), "{st}");
    assert_eq!(st["by_type"]["config"], 1);
    assert_eq!(st["sessions"], 1);
    assert_eq!(st["undecodable"], 0);
    let a =
        json(&journal(&["stats", "--json", "--instrument", "SYN-A", "--type", "approved"], &dir));
    let a_orders = a["records"].as_u64().unwrap();
    assert!(a_orders > 0 && a_orders < orders, "{a}");
    assert_eq!(a["instruments"].as_object().unwrap().len(), 1, "{a}");
    let text = stdout(&journal(&["stats"], &dir));
    assert!(text.contains("by type") && text.contains("SYN-A"), "{text}");

    // dump: filters by type, instrument, sequence and time; JSON lines.
    let out = journal(
        &["dump", "--json", "--type", "approved", "--instrument", "SYN-C", "--limit", "5"],
        &dir,
    );
    let lines: Vec<serde_json::Value> =
        stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 5);
    for l in &lines {
        assert_eq!(l["kind"], "approved");
        assert_eq!(l["instrument"], "SYN-C");
        assert!(l["price"].as_str().unwrap().contains('.'), "decimal price: {l}");
    }
    let (s0, s1) = (lines[1]["seq"].as_u64().unwrap(), lines[3]["seq"].as_u64().unwrap());
    let out = journal(
        &["dump", "--json", "--from-seq", &s0.to_string(), "--to-seq", &s1.to_string()],
        &dir,
    );
    let seqs: Vec<u64> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (s0..=s1).collect::<Vec<_>>());
    let t0 = lines[0]["ts_ns"].as_i64().unwrap();
    let out = journal(
        &[
            "dump",
            "--json",
            "--type",
            "approved",
            "--instrument",
            "SYN-C",
            "--since",
            &t0.to_string(),
            "--limit",
            "1",
        ],
        &dir,
    );
    let first: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    // Record times are not strictly ordered (a tick's receive time can precede the last
    // approval), so the time seek lands near, never past, the first match.
    assert!(first["ts_ns"].as_i64().unwrap() >= t0, "{first}");
    assert!(first["seq"].as_u64() <= lines[1]["seq"].as_u64(), "{first}");
    let text = stdout(&journal(&["dump", "--type", "session,config"], &dir));
    assert!(text.contains("session") && text.contains("first client id"), "{text}");

    // export jsonl and csv parse back to the same records.
    let jsonl = tmp.join("all.jsonl");
    let out = journal(
        &["export", "--format", "jsonl", "--progress", "-o", jsonl.to_str().unwrap()],
        &dir,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("export: "), "progress line: {}", stderr(&out));
    let exported: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(exported.len() as u64, listed);
    assert!(exported
        .windows(2)
        .all(|w| w[1]["seq"].as_u64() == w[0]["seq"].as_u64().map(|s| s + 1)));
    let out = journal(&["export", "--format", "csv", "--type", "approved,exec"], &dir);
    let text = stdout(&out);
    let mut rows = text.lines();
    let header = csv_fields(rows.next().unwrap());
    assert_eq!(header[0], "seq");
    let kind_col = header.iter().position(|h| h == "kind").unwrap();
    let price_col = header.iter().position(|h| h == "price").unwrap();
    let rows: Vec<Vec<String>> = rows.map(csv_fields).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()), "every row has every column");
    let approved_rows = rows.iter().filter(|r| r[kind_col] == "approved").count() as u64;
    assert_eq!(approved_rows, orders);
    assert_eq!(rows.len() as u64 - approved_rows, summary["exec_reports"].as_u64().unwrap());
    assert!(rows.iter().all(|r| !r[price_col].is_empty()));

    // verify: clean, with a progress line when asked.
    let out = journal(&["verify", "--progress"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("verify: clean"));
    assert!(stderr(&out).contains("verify: "), "{}", stderr(&out));

    // backup: a verified copy, which verifies and replays on its own.
    let dest = tmp.join("backup");
    let out = Command::new(tickline())
        .args(["journal", "backup", "--json"])
        .arg(&dir)
        .arg(&dest)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let b = json(&out);
    assert_eq!(b["records"].as_u64(), Some(listed), "{b}");
    assert_eq!(b["verified"], true);
    let v = json(&journal(&["verify", "--json"], &dest));
    assert_eq!(v["clean"], true, "{v}");
    assert_eq!(v["records"].as_u64(), Some(listed));
    let out = Command::new(tickline()).args(["replay", "--journal"]).arg(&dest).output().unwrap();
    assert!(out.status.success(), "{}", stdout(&out));
    // The runbook's spelling: --dir and --to.
    let partial = tmp.join("partial");
    let out = Command::new(tickline())
        .args(["journal", "backup", "--json", "--up-to", "100", "--dir"])
        .arg(&dir)
        .arg("--to")
        .arg(&partial)
        .output()
        .unwrap();
    assert_eq!(json(&out)["records"], 101);
    let out = Command::new(tickline())
        .args(["journal", "verify", "--dir"])
        .arg(&partial)
        .output()
        .unwrap();
    assert!(stdout(&out).contains("0 bad records"), "{}", stdout(&out));

    // tail without -f: the last N records, then exit.
    let out = journal(&["tail", "-n", "5", "--json"], &dir);
    let seqs: Vec<u64> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, ((listed - 5)..listed).collect::<Vec<_>>());

    // prune: a dry run removes nothing; a real one removes sealed segments, oldest first.
    let files = |d: &Path| {
        std::fs::read_dir(d)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tlj"))
            .count()
    };
    let before = files(&dir);
    let p = json(&journal(&["prune", "--json", "--dry-run", "--max-bytes", "1"], &dir));
    let would = p["removed"].as_array().unwrap().len();
    assert!(would >= 2, "{p}");
    assert_eq!(p["dry_run"], true);
    assert_eq!(files(&dir), before, "a dry run removes nothing");
    let p = json(&journal(&["prune", "--json", "--max-bytes", "1"], &dir));
    assert_eq!(p["removed"].as_array().unwrap().len(), would, "{p}");
    assert_eq!(files(&dir), before - would);
    let v = json(&journal(&["verify", "--json"], &dir));
    assert_eq!(v["clean"], true, "what is left is a contiguous journal: {v}");
    assert!(v["first_seq"].as_u64().unwrap() > 0);
    let out = journal(&["prune"], &dir);
    assert_eq!(out.status.code(), Some(2), "a budget is required");
}

#[test]
fn tail_follows_a_live_run_and_a_second_writer_is_refused() {
    let tmp = scratch("journal-tail");
    let dir = tmp.join("journal");
    std::fs::create_dir_all(&dir).unwrap();
    let mut tail = Command::new(tickline())
        .args(["journal", "tail", "-f", "--json", "--type", "tick,approved", "--for", "60s"])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut run = Command::new(tickline())
        .args(["run", "--duration", "30s", "--json", "--journal"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while seen.len() < 200 {
        assert!(Instant::now() < deadline, "tail -f saw only {} records", seen.len());
        let line = lines.next().expect("tail output").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(v["kind"] == "tick" || v["kind"] == "approved", "{v}");
        seen.push(v["seq"].as_u64().unwrap());
    }
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order");

    // The journal has a live writer: a second one is refused, cleanly.
    let second = Command::new(tickline())
        .args(["run", "--duration", "1s", "--journal"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1), "{}", stderr(&second));
    let err = stderr(&second);
    assert!(err.contains("already open for writing by pid"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // SIGINT drains and stops the first run cleanly.
    let kill = Command::new("kill").args(["-INT", &run.id().to_string()]).status().unwrap();
    assert!(kill.success());
    assert!(run.wait().unwrap().success());
    let v = json(&journal(&["verify", "--json"], &dir));
    assert_eq!(v["clean"], true, "{v}");
    tail.kill().unwrap();
    tail.wait().unwrap();
}

/// The offset of a payload byte of the first record at or after `near` (frames walked by
/// hand from the format's layout table: 64-byte segment header, 32-byte frame headers,
/// payload length in the first 4 bytes, frames 8-byte aligned).
fn payload_near(seg: &[u8], near: usize) -> usize {
    let mut off = 64;
    loop {
        let len = u32::from_le_bytes(seg[off..off + 4].try_into().unwrap()) as usize;
        assert!(len > 0, "ran out of records");
        if off >= near {
            return off + 32 + len / 2;
        }
        off += (32 + len).div_ceil(8) * 8;
    }
}

#[test]
fn damaged_and_foreign_files_are_named_not_panicked_on() {
    let tmp = scratch("journal-bad");
    let dir = tmp.join("journal");
    let config = small_segments_config(&tmp, &dir);
    run_with(&config, "300ms");

    // Flip one payload byte of a record in the middle of the first segment: CRC mismatch.
    let seg0 = dir.join(format!("{:020}.tlj", 0));
    let mut b = std::fs::read(&seg0).unwrap();
    let at = payload_near(&b, b.len() / 2);
    b[at] ^= 0xff;
    std::fs::write(&seg0, &b).unwrap();
    let out = journal(&["verify"], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stdout(&out);
    let bad = text.lines().find(|l| l.starts_with("BAD")).unwrap_or_else(|| panic!("{text}"));
    assert!(bad.contains("segment 0") && bad.contains("offset") && bad.contains("seq"), "{bad}");
    assert!(bad.contains("CRC mismatch"), "{bad}");
    let v = json(&journal(&["verify", "--json"], &dir));
    assert_eq!(v["clean"], false);
    assert_eq!(v["issues"][0]["segment"], 0);
    // Readers stop at the bad record with an error naming it.
    let out = journal(&["dump"], &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("corrupt journal") && stderr(&out).contains("seq"),
        "{}",
        stderr(&out)
    );
    let out = Command::new(tickline()).args(["replay", "--journal"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("CRC mismatch"), "{}", stderr(&out));

    // A truncated segment file.
    let last = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tlj"))
        .max()
        .unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(1000).unwrap();
    drop(f);
    let out = journal(&["verify"], &dir);
    assert_eq!(out.status.code(), Some(1));
    for args in [&["ls"][..], &["stats"], &["dump"], &["export", "--format", "csv"], &["tail"]] {
        journal(args, &dir);
    }

    // A foreign file with a segment's name, and an empty journal directory.
    let foreign = tmp.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join(format!("{:020}.tlj", 0)), vec![0x42u8; 4096]).unwrap();
    let out = journal(&["verify"], &foreign);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not a tickline journal segment"), "{}", stdout(&out));
    let ls = stdout(&journal(&["ls"], &foreign));
    assert!(ls.contains("invalid"), "{ls}");
    for args in [&["stats"][..], &["dump"], &["tail"]] {
        journal(args, &foreign);
    }
    let out =
        Command::new(tickline()).args(["replay", "--journal"]).arg(&foreign).output().unwrap();
    assert_ne!(out.status.code(), Some(101));
    let empty = tmp.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert_eq!(journal(&["verify"], &empty).status.code(), Some(0));
    assert_eq!(journal(&["verify"], &tmp.join("missing")).status.code(), Some(2));
}
