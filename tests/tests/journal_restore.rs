//! A restart on a journal, end to end with the real binary: the second `tickline run` on the
//! same journal starts with the positions the first ended with (the risk stage is seeded from
//! the journal), client order ids carry on, the sessions still replay bit for bit, and a
//! damaged journal stops the start with the file named instead of a panic.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rust_decimal::Decimal;
use tickline_tests::{default_config, run_tickline, scratch, stderr, stdout, summary, tickline};

/// Record types, as `engine::record::RecordKind` numbers them.
const EXEC: u16 = 5;
/// Byte offset of `ExecReport::kind` in an execution report's payload.
const EXEC_KIND_AT: usize = 70;

/// `tickline run --json` on `journal` for `duration`, with `config` (or the embedded
/// default).
fn run(journal: &Path, config: Option<&Path>, duration: &str) -> Output {
    let mut args = vec![OsStr::new("--journal"), journal.as_os_str()];
    if let Some(c) = config {
        args.extend([OsStr::new("--config"), c.as_os_str()]);
    }
    run_tickline(duration, &args)
}

/// Every record of `types` in the journal, as `tickline journal dump --json` prints them.
fn dump(journal: &Path, types: &str) -> Vec<serde_json::Value> {
    let out = Command::new(tickline())
        .args(["journal", "dump", "--json", "--type", types])
        .arg(journal)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// The default config with thresholds no synthetic price reaches: it trades nothing.
fn idle_config(tmp: &Path) -> PathBuf {
    let text = default_config();
    assert!(text.contains("threshold = \"0.05\"") && text.contains("threshold = \"0.0025\""));
    let text = text
        .replace("threshold = \"0.05\"", "threshold = \"50\"")
        .replace("threshold = \"0.0025\"", "threshold = \"50\"");
    let path = tmp.join("idle.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn dec(v: &serde_json::Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}")).parse().unwrap()
}

/// A restored position (raw, from a session record) as the summary's decimals.
fn restored_as_decimals(p: &serde_json::Value) -> [Decimal; 5] {
    let n = |k: &str| p[k].as_i64().unwrap_or_else(|| panic!("{k} in {p}"));
    let (ps, qs) = (n("price_scale") as u32, n("qty_scale") as u32);
    let money = |k: &str| Decimal::from_i128_with_scale(i128::from(n(k)), ps + qs);
    let qty = Decimal::new(n("qty"), qs);
    let avg = if qty.is_zero() { Decimal::ZERO } else { (money("cost") / qty.abs()).normalize() };
    [qty, avg, Decimal::new(n("mark"), ps), money("realized"), money("fees")]
}

fn summary_as_decimals(p: &serde_json::Value) -> [Decimal; 5] {
    let avg = if p["avg_price"].is_null() { Decimal::ZERO } else { dec(&p["avg_price"]) };
    [dec(&p["position"]), avg, dec(&p["mark"]), dec(&p["realized"]), dec(&p["fees"])]
}

fn by_symbol(s: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut v: Vec<_> = s["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["symbol"].as_str().unwrap().to_owned(), p.clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_second_run_starts_from_the_positions_the_first_ended_with() {
    let tmp = scratch("journal-restore");
    let dir = tmp.join("journal");

    // 1. Trade for a while: fills move positions.
    let s1 = summary(&run(&dir, None, "1s"));
    let p1 = by_symbol(&s1);
    assert!(!p1.is_empty() && s1["fills"].as_u64().unwrap() > 0, "{s1}");
    let max_id_1 = dump(&dir, "approved").iter().map(|r| r["client_id"].as_u64().unwrap()).max();

    // 2. Restart on the same journal with strategies that trade nothing: the risk stage
    //    starts from the first run's positions and ends with them.
    let idle = idle_config(&tmp);
    let out = run(&dir, Some(&idle), "300ms");
    let s2 = summary(&out);
    assert_eq!(s2["orders"], 0, "{s2}");
    let p2 = by_symbol(&s2);
    assert_eq!(p2.len(), p1.len(), "{s1}\n{s2}");
    for ((sym1, a), (sym2, b)) in p1.iter().zip(&p2) {
        assert_eq!(sym1, sym2);
        for k in ["position", "avg_price", "realized", "fees", "fills"] {
            assert_eq!(a[k], b[k], "{sym1} {k}: end of run 1 {a}, run 2 {b}");
        }
    }
    assert!(stderr(&out).contains("session state restored from the journal"), "{}", stderr(&out));

    // The second session's record holds exactly the first run's end state, marks included.
    let sessions = dump(&dir, "session");
    assert_eq!(sessions.len(), 2);
    let (first, second) = (&sessions[0], &sessions[1]);
    assert!(first.get("restored").is_none(), "a journal's first session restores nothing");
    let restored = &second["restored"];
    // Every traded instrument (an untraded one carries only its last mark).
    let positions: Vec<_> = restored["positions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["fills"] != 0 || p["qty"] != 0)
        .collect();
    assert_eq!(positions.len(), p1.len(), "{restored}");
    for ((sym, end), r) in p1.iter().zip(positions) {
        assert_eq!(r["symbol"].as_str(), Some(sym.as_str()));
        assert_eq!(restored_as_decimals(r), summary_as_decimals(end), "{sym}: {r} vs {end}");
        assert_eq!(r["fills"], end["fills"]);
    }
    // The instant venue keeps no orders across a restart: none carried.
    assert_eq!(restored["open_orders"].as_array().map(Vec::len), Some(0));
    // Client order ids carry on past every id the first session used.
    let first_id_2 = second["first_client_id"].as_u64().unwrap();
    assert!(max_id_1.is_some_and(|m| first_id_2 > m), "{first_id_2} after {max_id_1:?}");

    // 3. Trade again: ids stay above, positions build on the restored ones, and all three
    //    sessions replay bit for bit (each from the state it restored).
    let s3 = summary(&run(&dir, None, "300ms"));
    let ids_3: Vec<u64> = dump(&dir, "approved")
        .iter()
        .map(|r| r["client_id"].as_u64().unwrap())
        .filter(|id| Some(*id) > max_id_1)
        .collect();
    assert_eq!(ids_3.len() as u64, s3["orders"].as_u64().unwrap(), "every new id is above");
    assert!(ids_3.iter().all(|id| *id >= first_id_2));
    let fills = |s: &serde_json::Value| -> u64 {
        s["positions"].as_array().unwrap().iter().map(|p| p["fills"].as_u64().unwrap()).sum()
    };
    assert_eq!(fills(&s3), fills(&s1) + s3["fills"].as_u64().unwrap(), "{s3}");

    let out = Command::new(tickline())
        .args(["replay", "--json", "--journal"])
        .arg(&dir)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} / {}", stdout(&out), stderr(&out)));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!((v["identical"].as_bool(), v["sessions"].as_u64()), (Some(true), Some(3)), "{v}");
}

/// The segment files of a journal, in order.
fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tlj"))
        .collect();
    files.sort();
    files
}

/// Offset, sequence and payload length of the middle frame of type `kind` in a segment's
/// `bytes` (the journal's frame layout: length, type, marker, sequence, time, CRC, payload).
fn frame_of(bytes: &[u8], kind: u16) -> Option<(usize, u64, usize)> {
    let mut off = 64;
    let mut found = Vec::new();
    while off + 32 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
        if u16::from_le_bytes(bytes[off + 6..off + 8].try_into().unwrap()) != 0x544c {
            break;
        }
        let k = u16::from_le_bytes(bytes[off + 4..off + 6].try_into().unwrap());
        let seq = u64::from_le_bytes(bytes[off + 8..off + 16].try_into().unwrap());
        if k == kind {
            found.push((off, seq, len));
        }
        off += (32 + len).div_ceil(8) * 8;
    }
    (found.len() > 2).then(|| found[found.len() / 2])
}

#[test]
fn a_damaged_journal_stops_the_start_naming_the_file() {
    let tmp = scratch("journal-restore-damaged");
    let dir = tmp.join("journal");
    // Short runs until one has filled an order (a loaded host may need more than one).
    let mut found = None;
    for _ in 0..10 {
        summary(&run(&dir, None, "300ms"));
        found = segments(&dir).into_iter().find_map(|seg| {
            let bytes = std::fs::read(&seg).unwrap();
            frame_of(&bytes, EXEC).map(|f| (seg, bytes, f))
        });
        if found.is_some() {
            break;
        }
    }
    let (seg, pristine, (off, seq, len)) =
        found.expect("execution reports in the journal after ten short runs");
    let seg_name = seg.file_name().unwrap().to_string_lossy().into_owned();

    // A report whose kind is no execution kind, its CRC fixed: only restore can tell.
    let mut b = pristine.clone();
    b[off + 32 + EXEC_KIND_AT] = 99;
    let mut crc = crc32c::crc32c(&b[off..off + 24]);
    crc = crc32c::crc32c_append(crc, &b[off + 32..off + 32 + len]);
    b[off + 24..off + 28].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(&seg, &b).unwrap();
    let out = run(&dir, None, "100ms");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&seg_name) && err.contains(&format!("record seq {seq}")), "{err}");
    assert!(err.contains("does not decode") && err.contains("journal verify"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    // A byte flipped under the CRC in the middle of the data: recovery refuses, naming it.
    let mut b = pristine;
    b[off + 32] ^= 0xff;
    std::fs::write(&seg, &b).unwrap();
    let out = run(&dir, None, "100ms");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&seg_name) && err.contains("corrupt"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
