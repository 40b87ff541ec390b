//! Bad input: corrupted, truncated and foreign files. Readers stop with an error naming the
//! spot, `verify` names every bad spot, the writer refuses what it must not overwrite, and
//! nothing panics.

mod common;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use common::{append_seq, check_record, config, TempDir};
use proptest::prelude::*;
use tickline_journal::format::{SegmentHeader, SEGMENT_HEADER_LEN};
use tickline_journal::{
    list_segments, verify, Durability, Error, Problem, Reader, SegmentInfo, SegmentState, Start,
    TailOptions, Tailer, Writer,
};

const RECORDS: u64 = 3_000;

/// A closed journal of `RECORDS` deterministic records over several 64 KiB segments.
fn journal(tag: &str) -> TempDir {
    let dir = TempDir::new(tag);
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..RECORDS {
        append_seq(&mut w, seq);
    }
    w.close().unwrap();
    dir
}

fn started(dir: &Path) -> Vec<SegmentInfo> {
    list_segments(dir).unwrap().into_iter().filter(|i| i.state != SegmentState::Prepared).collect()
}

fn patch(path: &Path, offset: u64, bytes: &[u8]) {
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(offset)).unwrap();
    f.write_all(bytes).unwrap();
}

/// Reads from the start until the first error; returns the records read and the error.
fn read_until_error(dir: &Path) -> (u64, Option<Error>) {
    let mut r = match Reader::open(dir) {
        Ok(r) => r,
        Err(e) => return (0, Some(e)),
    };
    let mut n = 0;
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                assert_eq!(rec.seq, n);
                check_record(&rec);
                n += 1;
            }
            Ok(None) => return (n, None),
            Err(e) => return (n, Some(e)),
        }
    }
}

#[test]
fn a_flipped_byte_is_named_by_reader_and_verify() {
    let dir = journal("flip");
    let segs = started(dir.path());
    let victim = &segs[1];
    patch(&victim.path, victim.used / 2, &[0xFF ^ 0x42]);

    let (read, err) = read_until_error(dir.path());
    let err = err.expect("the reader stops at the damage");
    let c = err.corruption().expect("a corruption error").clone();
    assert_eq!(c.segment, 1);
    assert_eq!(c.seq, Some(read));
    assert!((victim.first_seq.unwrap()..=victim.last_seq.unwrap()).contains(&read));
    assert!(c.offset <= victim.used / 2, "{c}");
    let msg = err.to_string();
    assert!(msg.contains("segment 1") && msg.contains(&format!("seq {read}")), "{msg}");

    let report = verify(dir.path()).unwrap();
    assert_eq!(report.issues.len(), 1, "{:?}", report.issues);
    assert_eq!(report.issues[0], c);
    // verify resynchronises after the bad record and checks the rest.
    assert_eq!(report.records, RECORDS - 1);
    assert_eq!(report.last_seq, Some(RECORDS - 1));
}

#[test]
fn every_damaged_record_is_reported() {
    let dir = journal("many");
    let segs = started(dir.path());
    for s in &segs[..3] {
        patch(&s.path, s.used - 20, &[0x77]);
    }
    let report = verify(dir.path()).unwrap();
    let hit: Vec<u64> = report.issues.iter().map(|c| c.segment).collect();
    assert_eq!(hit, vec![0, 1, 2], "{:?}", report.issues);
    assert_eq!(report.records, RECORDS - 3);
}

#[test]
fn a_truncated_sealed_segment_is_a_clear_error() {
    let dir = journal("trunc");
    let segs = started(dir.path());
    let victim = &segs[1];
    let f = OpenOptions::new().write(true).open(&victim.path).unwrap();
    f.set_len(victim.used / 2).unwrap();
    drop(f);

    let (read, err) = read_until_error(dir.path());
    let err = err.expect("the reader stops");
    let c = err.corruption().expect("corruption");
    assert_eq!((c.segment, c.seq), (1, Some(read)));
    assert!(read < victim.last_seq.unwrap());

    let report = verify(dir.path()).unwrap();
    let problems: Vec<_> = report.issues.iter().map(|c| (c.segment, c.problem)).collect();
    assert!(
        problems.iter().any(|(s, p)| *s == 1 && matches!(p, Problem::CapacityMismatch { .. })),
        "{problems:?}"
    );
    // Then either the record the cut went through, or (cut on a record boundary) the
    // sequence break at the next segment.
    assert!(
        problems.iter().any(|(s, p)| (*s == 1
            && matches!(p, Problem::LengthOutOfBounds { .. } | Problem::CrcMismatch { .. }))
            || (*s == 2 && matches!(p, Problem::SequenceGap { .. }))),
        "{problems:?}"
    );
}

#[test]
fn a_missing_or_unstarted_middle_segment_is_not_a_silent_end() {
    let dir = journal("missing");
    let segs = started(dir.path());
    patch(&segs[1].path, 0, &[0u8; 8]);
    let (read, err) = read_until_error(dir.path());
    assert_eq!(read, segs[0].last_seq.unwrap() + 1);
    let err = err.expect("an error, not a silent end");
    assert_eq!(err.corruption().unwrap().problem, Problem::UnstartedInMiddle);
    let report = verify(dir.path()).unwrap();
    assert!(report
        .issues
        .iter()
        .any(|c| c.segment == 1 && c.problem == Problem::UnstartedInMiddle));

    std::fs::remove_file(&segs[1].path).unwrap();
    let (_, err) = read_until_error(dir.path());
    assert!(
        matches!(
            err.as_ref().and_then(|e| e.corruption()).map(|c| c.problem),
            Some(Problem::SegmentMissing { expected: 1, found: 2 })
        ),
        "{err:?}"
    );
    let report = verify(dir.path()).unwrap();
    assert!(report
        .issues
        .iter()
        .any(|c| c.problem == Problem::SegmentMissing { expected: 1, found: 2 }));
}

#[test]
fn foreign_files_are_refused_not_overwritten() {
    let text = b"# my notes\nThis file has a journal segment's name but is not one. \
                 Nothing should read it as records or overwrite it.\n";
    let dir = TempDir::new("foreign");
    let seg = dir.join("00000000000000000000.tlj");
    std::fs::write(&seg, text).unwrap();

    let err = Reader::open(dir.path()).unwrap_err();
    assert_eq!(err.corruption().unwrap().problem, Problem::BadSegmentMagic, "{err}");
    assert!(err.to_string().contains("not a tickline journal segment"), "{err}");
    let report = verify(dir.path()).unwrap();
    assert_eq!(report.issues.len(), 1);
    assert_eq!(report.issues[0].problem, Problem::BadSegmentMagic);
    let err = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    assert_eq!(std::fs::read(&seg).unwrap(), text);

    std::fs::write(&seg, b"abc").unwrap();
    let err = Reader::open(dir.path()).unwrap_err();
    assert_eq!(err.corruption().unwrap().problem, Problem::HeaderTooShort { len: 3 });

    let mut header =
        SegmentHeader { index: 0, first_seq: 0, created_ns: 0, capacity: 1 << 16 }.encode();
    header[8] = 2;
    std::fs::write(&seg, header).unwrap();
    let err = Reader::open(dir.path()).unwrap_err();
    assert_eq!(err.corruption().unwrap().problem, Problem::UnsupportedVersion { found: 2 });

    let header = SegmentHeader { index: 5, first_seq: 0, created_ns: 0, capacity: 1 << 16 };
    std::fs::write(&seg, header.encode()).unwrap();
    let err = Reader::open(dir.path()).unwrap_err();
    assert_eq!(
        err.corruption().unwrap().problem,
        Problem::IndexMismatch { in_name: 0, in_header: 5 }
    );

    // Files without a segment's name are none of the journal's business.
    std::fs::remove_file(&seg).unwrap();
    std::fs::write(dir.join("notes.tlj"), text).unwrap();
    std::fs::write(dir.join("1.tlj"), text).unwrap();
    assert!(Reader::open(dir.path()).unwrap().next_record().unwrap().is_none());
    assert!(verify(dir.path()).unwrap().is_clean());

    let err = Reader::open(dir.join("no-such-dir")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
}

#[test]
fn the_tailer_waits_out_a_torn_tail_then_reports_it() {
    let dir = journal("tailtorn");
    let segs = started(dir.path());
    let last = segs.last().unwrap();
    // A frame whose first word made it but whose CRC is wrong.
    let mut frame = [0u8; 40];
    frame[0] = 8; // payload length
    frame[6..8].copy_from_slice(&0x544cu16.to_le_bytes());
    frame[8..16].copy_from_slice(&RECORDS.to_le_bytes());
    patch(&last.path, last.used, &frame);

    let err = read_until_error(dir.path()).1.expect("reader stops");
    assert!(matches!(err.corruption().unwrap().problem, Problem::CrcMismatch { .. }), "{err}");

    let opts = TailOptions {
        poll_interval: Duration::from_millis(1),
        torn_grace: Duration::from_millis(50),
    };
    let mut t = Tailer::open(dir.path(), Start::Seq(RECORDS - 1), opts).unwrap();
    assert_eq!(t.poll().unwrap().unwrap().seq, RECORDS - 1);
    assert!(t.poll().unwrap().is_none(), "within the grace period");
    std::thread::sleep(Duration::from_millis(60));
    let err = t.poll().unwrap_err();
    assert_eq!(err.corruption().unwrap().seq, Some(RECORDS));

    // A writer's recovery clears it, and the tailer picks up the new record.
    let mut t = Tailer::open(dir.path(), Start::End, opts).unwrap();
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    assert!(w.recovery().truncated.is_some());
    append_seq(&mut w, RECORDS);
    let rec = t.next_timeout(Duration::from_secs(5)).unwrap().unwrap();
    check_record(&rec);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random damage anywhere: readers, verify, listing, tailer and recovery return errors
    /// or results, never panic, and whatever a reader returns before stopping is intact.
    #[test]
    fn random_damage_never_panics(
        hits in prop::collection::vec(
            (0usize..3, 0u64..(64 << 10), prop::collection::vec(any::<u8>(), 1..64)),
            1..6,
        ),
        cut in proptest::option::of((0usize..3, 0u64..(64 << 10))),
    ) {
        let dir = TempDir::new("fuzz");
        let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
        for seq in 0..1_200 {
            append_seq(&mut w, seq);
        }
        drop(w);
        let segs = started(dir.path());
        for (s, off, bytes) in &hits {
            let seg = &segs[s % segs.len()];
            patch(&seg.path, *off, bytes);
        }
        if let Some((s, len)) = cut {
            let f = OpenOptions::new().write(true).open(&segs[s % segs.len()].path).unwrap();
            f.set_len(len).unwrap();
        }
        let _ = read_until_error(dir.path());
        let _ = verify(dir.path()).unwrap();
        let _ = list_segments(dir.path()).unwrap();
        for start in [Start::Beginning, Start::Seq(600), Start::Time(common::ts_for(700)), Start::End] {
            if let Ok(mut r) = Reader::open_at(dir.path(), start) {
                while let Ok(Some(rec)) = r.next_record() {
                    check_record(&rec);
                }
            }
        }
        let opts = TailOptions { poll_interval: Duration::ZERO, torn_grace: Duration::ZERO };
        if let Ok(mut t) = Tailer::open(dir.path(), Start::Beginning, opts) {
            while let Ok(Some(rec)) = t.poll() {
                check_record(&rec);
            }
        }
        if let Ok(w) = Writer::open(&config(dir.path(), Durability::PageCache)) {
            drop(w);
        }
    }

    /// A segment file of arbitrary bytes.
    #[test]
    fn arbitrary_files_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4_096), keep_magic: bool) {
        let dir = TempDir::new("arb");
        let mut bytes = bytes;
        if keep_magic && bytes.len() >= 64 {
            let h = SegmentHeader { index: 0, first_seq: 0, created_ns: 0, capacity: bytes.len() as u64 };
            bytes[..SEGMENT_HEADER_LEN].copy_from_slice(&h.encode());
        }
        std::fs::write(dir.join("00000000000000000000.tlj"), &bytes).unwrap();
        let _ = read_until_error(dir.path());
        let _ = verify(dir.path()).unwrap();
        let _ = list_segments(dir.path()).unwrap();
        let _ = Reader::open_at(dir.path(), Start::Time(0)).map(|r| r.count());
        let _ = Reader::open_at(dir.path(), Start::End).map(|r| r.count());
    }
}
