//! `tickline replay --journal` end to end: a journal recorded by `tickline run` replays to
//! the same orders bit for bit; a tampered journal (one order byte changed with its CRC
//! fixed, or an execution report dropped) makes replay name the first difference.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tickline_journal::{JournalConfig, Reader, Writer};
use tickline_tests::{run_tickline, scratch, stderr, stdout, summary, tickline};

/// Record types, as `engine::record::RecordKind` numbers them.
const APPROVED: u16 = 3;
const EXEC: u16 = 5;
/// `ExecKind::Fill`, at byte 70 of an `ExecReport`.
const FILL: u8 = 3;
/// Byte offset of `OrderIntent::price` in an approved order's payload.
const PRICE_AT: usize = 32;

/// Runs the embedded default into `dir` for `duration`; returns the JSON summary.
fn record(dir: &Path, duration: &str) -> serde_json::Value {
    summary(&run_tickline(duration, &[OsStr::new("--journal"), dir.as_os_str()]))
}

fn replay(dir: &Path) -> (Output, serde_json::Value) {
    let out =
        Command::new(tickline()).args(["replay", "--json", "--journal"]).arg(dir).output().unwrap();
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(&out), stderr(&out)));
    (out, v)
}

fn rejects(summary: &serde_json::Value) -> u64 {
    summary["rejects"].as_array().map_or(0, |a| a.iter().map(|r| r[1].as_u64().unwrap()).sum())
}

#[test]
fn replay_reproduces_the_orders_of_a_recorded_run() {
    let tmp = scratch("journal-replay");
    let dir = tmp.join("journal");
    let s = record(&dir, "1s");
    let orders = s["orders"].as_u64().unwrap();
    assert!(orders > 0, "{s}");

    let (out, v) = replay(&dir);
    assert_eq!(out.status.code(), Some(0), "{v} {}", stderr(&out));
    assert_eq!(v["identical"], true, "{v}");
    assert_eq!(v["sessions"], 1);
    assert_eq!(v["approved"].as_u64(), Some(orders), "every approved order reproduced: {v}");
    assert_eq!(v["rejected"].as_u64(), Some(rejects(&s)), "every reject reproduced: {v}");
    assert_eq!(v["ticks"], s["ticks"], "{v}");
    assert_eq!(v["exec_reports"], s["exec_reports"], "{v}");
    assert_eq!(v["halts"], 1, "the shutdown halt is journaled");

    // A second session in the same journal continues it and replays too.
    let s2 = record(&dir, "300ms");
    let (out, v) = replay(&dir);
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["sessions"], 2);
    assert_eq!(
        v["orders_identical"].as_u64(),
        Some(orders + rejects(&s) + s2["orders"].as_u64().unwrap() + rejects(&s2))
    );

    // Text output says how many.
    let out = Command::new(tickline()).args(["replay", "--journal"]).arg(&dir).output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("orders identical"), "{}", stdout(&out));
}

/// A record's frame in a segment file.
struct Frame {
    path: PathBuf,
    offset: usize,
    kind: u16,
    seq: u64,
    len: usize,
}

/// Every frame of every segment, walked by hand (the format's layout table).
fn frames(dir: &Path) -> Vec<Frame> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tlj"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let b = std::fs::read(&path).unwrap();
        let mut off = 64;
        while off + 32 <= b.len() {
            let len = u32::from_le_bytes(b[off..off + 4].try_into().unwrap()) as usize;
            let kind = u16::from_le_bytes(b[off + 4..off + 6].try_into().unwrap());
            if u16::from_le_bytes(b[off + 6..off + 8].try_into().unwrap()) != 0x544c {
                break;
            }
            let seq = u64::from_le_bytes(b[off + 8..off + 16].try_into().unwrap());
            out.push(Frame { path: path.clone(), offset: off, kind, seq, len });
            off += (32 + len).div_ceil(8) * 8;
        }
    }
    out
}

/// Rewrites a frame's payload with `edit` and stores the CRC of the new bytes, so the
/// journal still verifies: the change is one only replay can see.
fn tamper(f: &Frame, edit: impl FnOnce(&mut [u8])) {
    let mut b = std::fs::read(&f.path).unwrap();
    let (head, payload) = (f.offset, f.offset + 32);
    edit(&mut b[payload..payload + f.len]);
    let mut crc = crc32c::crc32c(&b[head..head + 24]);
    crc = crc32c::crc32c_append(crc, &b[payload..payload + f.len]);
    b[head + 24..head + 28].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&f.path, b).unwrap();
}

#[test]
fn a_changed_order_is_the_first_difference() {
    let tmp = scratch("journal-tamper");
    let dir = tmp.join("journal");
    record(&dir, "1s");
    let all = frames(&dir);
    let approved: Vec<&Frame> = all.iter().filter(|f| f.kind == APPROVED).collect();
    assert!(approved.len() > 4, "need orders to tamper with");
    let victim = approved[approved.len() / 2];
    let mut before = 0i64;
    tamper(victim, |p| {
        before = i64::from_le_bytes(p[PRICE_AT..PRICE_AT + 8].try_into().unwrap());
        p[PRICE_AT..PRICE_AT + 8].copy_from_slice(&(before + 1).to_le_bytes());
    });

    let verify = Command::new(tickline()).args(["journal", "verify"]).arg(&dir).output().unwrap();
    assert_eq!(verify.status.code(), Some(0), "CRC fixed: {}", stdout(&verify));

    let (out, v) = replay(&dir);
    assert_eq!(out.status.code(), Some(1), "{v}");
    assert_eq!(v["identical"], false);
    let d = &v["first_difference"];
    assert_eq!(d["seq"].as_u64(), Some(victim.seq), "{v}");
    assert_eq!(d["field"], "intent.price", "{v}");
    assert_eq!(d["recorded"], (before + 1).to_string(), "{v}");
    assert_eq!(d["replayed"], before.to_string(), "{v}");
    assert_eq!(
        v["approved"].as_u64(),
        Some((approved.len() / 2) as u64),
        "every order before it matched: {v}"
    );

    let out = Command::new(tickline()).args(["replay", "--journal"]).arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("seq {}", victim.seq)) && text.contains("intent.price"),
        "{text}"
    );
}

#[test]
fn a_dropped_fill_is_found() {
    let tmp = scratch("journal-drop");
    let src = tmp.join("journal");
    record(&src, "1s");
    // Copy the journal record by record, leaving out the first fill.
    let dest = tmp.join("dropped");
    let mut cfg = JournalConfig::new(&dest);
    cfg.segment_size = 64 << 20;
    cfg.pretouch = false;
    let mut w = Writer::open(&cfg).unwrap();
    let mut dropped = None;
    for r in Reader::open(&src).unwrap() {
        let r = r.unwrap();
        if dropped.is_none() && r.kind == EXEC && r.payload[70] == FILL {
            dropped = Some(r.seq);
            continue;
        }
        w.append(r.kind, r.ts_ns, &r.payload).unwrap();
    }
    w.close().unwrap();
    let dropped = dropped.expect("the run filled an order");

    let (out, v) = replay(&dest);
    assert_eq!(out.status.code(), Some(1), "replay must notice the missing fill: {v}");
    let d = &v["first_difference"];
    assert!(d["seq"].as_u64().unwrap() >= dropped, "{v}");
    assert!(!d["field"].as_str().unwrap().is_empty(), "{v}");
    // The untouched journal still replays clean.
    let (out, v) = replay(&src);
    assert_eq!(out.status.code(), Some(0), "{v}");
}
