//! Backup and prune, beside a live writer; an in-process tailer following a writer thread.

mod common;

use std::time::Duration;

use common::{append_seq, check_record, config, TempDir};
use tickline_journal::{
    backup, list_segments, prune, verify, Durability, Error, PruneBudget, Reader, SegmentState,
    Start, TailOptions, Tailer, Writer,
};

#[test]
fn backup_copies_a_consistent_prefix_while_the_writer_runs() {
    let src = TempDir::new("bsrc");
    let dest = TempDir::new("bdst");
    let mut w = Writer::open(&config(src.path(), Durability::Batch)).unwrap();
    for seq in 0..2_500 {
        append_seq(&mut w, seq);
    }
    let up_to = w.commit().unwrap().unwrap();
    // Uncommitted records after the backup point must not leak into the copy.
    for seq in 2_500..2_600 {
        append_seq(&mut w, seq);
    }
    let report = backup(src.path(), dest.path(), up_to).unwrap();
    assert_eq!((report.first_seq, report.last_seq, report.records), (0, up_to, up_to + 1));
    assert!(report.segments >= 4);

    let mut n = 0;
    for r in Reader::open(dest.path()).unwrap() {
        let r = r.unwrap();
        assert_eq!(r.seq, n);
        n += 1;
    }
    assert_eq!(n, up_to + 1);

    // A mid-segment cut, and the copy is a journal a writer can continue.
    let dest2 = TempDir::new("bdst2");
    backup(src.path(), dest2.path(), 1_234).unwrap();
    let mut w2 = Writer::open(&config(dest2.path(), Durability::PageCache)).unwrap();
    assert_eq!(w2.next_seq(), 1_235);
    assert!(w2.recovery().truncated.is_none());
    append_seq(&mut w2, 1_235);
    drop(w2);
    assert_eq!(verify(dest2.path()).unwrap().last_seq, Some(1_235));

    // Refusals.
    let err = backup(src.path(), dest.path(), 10).unwrap_err();
    assert!(matches!(err, Error::Backup { .. }), "{err}");
    let err = backup(src.path(), src.path(), 10).unwrap_err();
    assert!(matches!(err, Error::Backup { .. }), "{err}");
    let empty = TempDir::new("bdst3");
    let err = backup(src.path(), empty.path(), 99_999).unwrap_err();
    assert!(matches!(err, Error::SeqUnavailable { seq: 99_999, next: 2_600, .. }), "{err}");
    drop(w);
}

#[test]
fn prune_removes_only_old_sealed_segments() {
    let dir = TempDir::new("prune");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..4_000 {
        append_seq(&mut w, seq);
    }
    // Let the background thread finish preparing the next segment, so the listing is stable.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while list_segments(dir.path()).unwrap().last().unwrap().state != SegmentState::Prepared {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    let before = list_segments(dir.path()).unwrap();
    let sealed = before.iter().filter(|i| i.state == SegmentState::Sealed).count();
    assert!(sealed >= 5);
    let total: u64 = before.iter().map(|i| i.file_len).sum();

    // Dry run: nothing goes.
    let dry = prune(dir.path(), PruneBudget { max_bytes: Some(0), max_age: None }, true).unwrap();
    assert_eq!(dry.removed.len(), sealed);
    assert_eq!(list_segments(dir.path()).unwrap(), before);

    // A size budget takes the oldest first and keeps the journal contiguous.
    let budget = PruneBudget { max_bytes: Some(total - 2 * (64 << 10)), max_age: None };
    let report = prune(dir.path(), budget, false).unwrap();
    let gone: Vec<u64> = report.removed.iter().map(|i| i.index).collect();
    assert_eq!(gone, vec![0, 1]);
    let first_left = before[2].first_seq.unwrap();
    let mut r = Reader::open(dir.path()).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap().seq, first_left);
    let err = r.seek(0).unwrap_err();
    assert!(matches!(err, Error::SeqUnavailable { seq: 0, .. }), "{err}");
    assert!(err.to_string().contains("pruned"), "{err}");

    // An age budget of zero takes every sealed segment, never the active one, and the
    // writer carries on.
    let report =
        prune(dir.path(), PruneBudget { max_age: Some(Duration::ZERO), max_bytes: None }, false)
            .unwrap();
    assert_eq!(report.removed.len(), sealed - 2);
    let left = list_segments(dir.path()).unwrap();
    assert!(left.iter().all(|i| i.state != SegmentState::Sealed));
    assert!(left.iter().any(|i| i.state == SegmentState::Active));
    for seq in 4_000..4_100 {
        append_seq(&mut w, seq);
    }
    drop(w);
    let report = verify(dir.path()).unwrap();
    assert!(report.is_clean(), "{:?}", report.issues);
    assert_eq!(report.last_seq, Some(4_099));
}

#[test]
fn a_tailer_follows_a_writer_thread_across_rolls() {
    let dir = TempDir::new("tail");
    let cfg = config(dir.path(), Durability::Periodic { interval_ms: 1 });
    // The tailer can start before the journal has anything in it.
    let mut t = Tailer::open(dir.path(), Start::Beginning, TailOptions::default()).unwrap();
    assert!(t.poll().unwrap().is_none());
    let writer = std::thread::spawn(move || {
        let mut w = Writer::open(&cfg).unwrap();
        for seq in 0..6_000 {
            append_seq(&mut w, seq);
            if seq % 500 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        w.close().unwrap();
    });
    let mut next = 0;
    while next < 6_000 {
        let rec = t.next_timeout(Duration::from_secs(10)).unwrap().expect("tailer stalled");
        assert_eq!(rec.seq, next);
        check_record(&rec);
        next += 1;
        if next % 1_500 == 0 {
            // verify on a live journal: the record being written is not a torn tail.
            let report = verify(dir.path()).unwrap();
            assert!(report.is_clean(), "{:?}", report.issues);
        }
    }
    writer.join().unwrap();
    assert!(t.poll().unwrap().is_none());

    // Restartable from a sequence and from a time.
    let mut t = Tailer::open(dir.path(), Start::Seq(4_321), TailOptions::default()).unwrap();
    assert_eq!(t.poll().unwrap().unwrap().seq, 4_321);
    let at = Start::Time(common::ts_for(5_000));
    let mut t = Tailer::open(dir.path(), at, TailOptions::default()).unwrap();
    assert_eq!(t.poll().unwrap().unwrap().seq, 5_000);
}
