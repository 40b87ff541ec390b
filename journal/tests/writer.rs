//! The writer's contract: round trips, sequence resumption, durability modes, the writer
//! lock, recovery of torn tails, readers' seeks.

mod common;

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use common::{append_seq, check_record, config, TempDir, ALL_MODES};
use proptest::prelude::*;
use tickline_journal::format::{self, SEGMENT_HEADER_LEN};
use tickline_journal::{
    list_segments, verify, AppendError, Durability, Error, OwnedRecord, Problem, Reader,
    RecoveryPolicy, SegmentState, Start, Writer,
};

fn read_all(dir: &std::path::Path) -> Vec<OwnedRecord> {
    Reader::open(dir).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
}

#[test]
fn round_trip_across_segments_in_every_mode() {
    for mode in ALL_MODES {
        let dir = TempDir::new("rt");
        let mut w = Writer::open(&config(dir.path(), mode)).unwrap();
        for seq in 0..5_000 {
            append_seq(&mut w, seq);
            if seq % 100 == 99 {
                w.commit().unwrap();
            }
        }
        assert!(w.stats().rolls >= 5, "{mode:?}: {:?}", w.stats());
        w.close().unwrap();

        let mut r = Reader::open(dir.path()).unwrap();
        let mut n = 0;
        while let Some(rec) = r.next_record().unwrap() {
            assert_eq!(rec.seq, n);
            check_record(&rec);
            n += 1;
        }
        assert_eq!(n, 5_000);
        let report = verify(dir.path()).unwrap();
        assert!(report.is_clean(), "{:?}", report.issues);
        assert_eq!((report.records, report.last_seq), (5_000, Some(4_999)));
    }
}

#[test]
fn background_threads_are_given_by_their_thread_ids_in_every_mode() {
    for mode in ALL_MODES {
        let dir = TempDir::new("threads");
        let w = Writer::open(&config(dir.path(), mode)).unwrap();
        let ids = w.background_threads();
        // Each a live thread of this process, named for the journal ("tickline-journal",
        // "tickline-journal-sync", both cut to comm's 15 bytes).
        for tid in ids {
            let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap();
            assert_eq!(comm.trim_end(), "tickline-journa", "{mode:?}: thread {tid}");
        }
        let want = if matches!(mode, Durability::Periodic { .. }) { 2 } else { 1 };
        assert_eq!(ids.len(), want, "{mode:?}: the segment thread, and the msync thread");
        w.close().unwrap();
    }
}

#[test]
fn reopen_resumes_the_sequence() {
    let dir = TempDir::new("resume");
    for round in 0..4u64 {
        let mut w = Writer::open(&config(dir.path(), Durability::Batch)).unwrap();
        assert_eq!(w.next_seq(), round * 700);
        assert_eq!(w.committed(), (round * 700).checked_sub(1));
        assert!(w.recovery().truncated.is_none());
        for seq in round * 700..(round + 1) * 700 {
            append_seq(&mut w, seq);
        }
        w.commit().unwrap();
        // No close: drop must leave a journal the next open resumes.
    }
    let all = read_all(dir.path());
    assert_eq!(all.len(), 2_800);
    assert!(verify(dir.path()).unwrap().is_clean());
}

#[test]
fn committed_follows_the_mode() {
    let dir = TempDir::new("page");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    assert_eq!(w.committed(), None);
    w.append(1, 0, b"a").unwrap();
    assert_eq!(w.committed(), Some(0));
    drop(w);

    let dir = TempDir::new("batch");
    let mut w = Writer::open(&config(dir.path(), Durability::Batch)).unwrap();
    let watch = w.commit_watch();
    for i in 0..3_000u64 {
        w.append(1, 0, &i.to_le_bytes()).unwrap();
    }
    assert_eq!(w.committed(), None);
    assert_eq!(watch.written(), Some(2_999));
    assert_eq!(w.commit().unwrap(), Some(2_999));
    let seen = std::thread::spawn(move || watch.committed()).join().unwrap();
    assert_eq!(seen, Some(2_999));
    drop(w);

    let dir = TempDir::new("periodic");
    let mut w = Writer::open(&config(dir.path(), Durability::Periodic { interval_ms: 1 })).unwrap();
    for i in 0..3_000u64 {
        w.append(1, 0, &i.to_le_bytes()).unwrap();
    }
    assert_eq!(w.commit().unwrap(), w.committed());
    let deadline = Instant::now() + Duration::from_secs(10);
    while w.committed() != Some(2_999) {
        assert!(Instant::now() < deadline, "periodic flush never caught up");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(w.background_error().is_none());
}

#[test]
fn a_second_writer_is_refused_by_name() {
    let dir = TempDir::new("lock");
    let w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    let err = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap_err();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&format!("pid {}", std::process::id())), "{msg}");
    assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    drop(w);
    Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
}

#[test]
fn a_segment_that_cannot_be_prepared_is_an_append_error_until_it_can() {
    let dir = TempDir::new("unavail");
    let cfg = config(dir.path(), Durability::PageCache);
    let mut w = Writer::open(&cfg).unwrap();
    // Something that is not ours where segment 2 must go: the background thread refuses
    // to overwrite it.
    let squatter = dir.join("00000000000000000002.tlj");
    std::fs::write(&squatter, b"someone else's file, longer than a segment header....").unwrap();
    let payload = [1u8; 1_000];
    let err = loop {
        match w.append(1, 0, &payload) {
            Ok(_) => assert!(w.active_segment() <= 1),
            Err(e) => break e,
        }
    };
    assert_eq!(err, AppendError::SegmentUnavailable);
    assert_eq!(w.active_segment(), 1);
    let why = w.background_error().expect("the background error is kept");
    assert!(why.contains("00000000000000000002.tlj"), "{why}");
    let next = w.next_seq();

    // Once the file is gone, the background thread retries and appends carry on.
    std::fs::remove_file(&squatter).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let seq = loop {
        match w.append(1, 0, &payload) {
            Ok(seq) => break seq,
            Err(AppendError::SegmentUnavailable) => {
                assert!(Instant::now() < deadline, "never recovered");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(seq, next);
    assert_eq!(w.active_segment(), 2);
    assert!(w.background_error().is_none());
    w.close().unwrap();
    assert!(verify(dir.path()).unwrap().is_clean());
}

#[test]
fn too_large_is_refused_and_nothing_is_written() {
    let dir = TempDir::new("large");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    let max = w.max_payload();
    assert_eq!(max, format::max_payload(64 << 10));
    let err = w.append(1, 0, &vec![0u8; max + 1]).unwrap_err();
    assert_eq!(err, AppendError::TooLarge { len: max + 1, max });
    assert_eq!(w.append(1, 0, &vec![7u8; max]).unwrap(), 0);
    assert_eq!(w.append(1, 0, b"x").unwrap(), 1);
    drop(w);
    let all = read_all(dir.path());
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].payload.len(), max);
}

#[test]
fn empty_payloads_and_every_alignment() {
    let dir = TempDir::new("align");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for len in 0..64usize {
        w.append(u16::MAX, i64::MIN + len as i64, &vec![len as u8; len]).unwrap();
    }
    drop(w);
    let all = read_all(dir.path());
    for (len, r) in all.iter().enumerate() {
        assert_eq!(r.payload, vec![len as u8; len]);
        assert_eq!((r.kind, r.ts_ns), (u16::MAX, i64::MIN + len as i64));
    }
}

/// Offset just past the last record of segment 0 of a fresh single-segment journal.
fn end_offset(dir: &std::path::Path) -> u64 {
    list_segments(dir).unwrap()[0].used
}

/// Overwrites the first segment of `dir` at each `(offset, bytes)`: damage as a crash or a
/// disk would leave it.
fn scribble(dir: &std::path::Path, at: &[(u64, &[u8])]) {
    let seg = dir.join("00000000000000000000.tlj");
    let mut f = OpenOptions::new().write(true).open(seg).unwrap();
    for &(offset, bytes) in at {
        f.seek(SeekFrom::Start(offset)).unwrap();
        f.write_all(bytes).unwrap();
    }
}

#[test]
fn recovery_zeroes_a_torn_tail() {
    let dir = TempDir::new("torn");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..10 {
        append_seq(&mut w, seq);
    }
    drop(w);
    let end = end_offset(dir.path());

    // A record whose body made it but whose first word did not (a kill mid-append).
    scribble(dir.path(), &[(end + 8, &[0xAB; 40])]);
    let report = verify(dir.path()).unwrap();
    assert!(matches!(report.issues[0].problem, Problem::TrailingGarbage { .. }));

    let w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    let t = w.recovery().truncated.clone().expect("truncation reported");
    assert_eq!((t.offset, t.problem), (end, None));
    assert_eq!(w.next_seq(), 10);
    drop(w);
    assert!(verify(dir.path()).unwrap().is_clean());

    // A torn record: first word present, CRC wrong.
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    append_seq(&mut w, 10);
    drop(w);
    let end = end_offset(dir.path());
    // Record 10 has 81 payload bytes and 7 of padding: this lands in the payload.
    scribble(dir.path(), &[(end - 10, &[0xFF])]);
    let w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    let t = w.recovery().truncated.clone().expect("truncation reported");
    assert!(matches!(t.problem, Some(Problem::CrcMismatch { .. })), "{t:?}");
    assert_eq!(w.next_seq(), 10);
    drop(w);
    assert_eq!(read_all(dir.path()).len(), 10);
}

/// Garbage spread over the whole unused rest of a segment (a partial record just past the
/// data, a stray byte in the last word of the file): recovery zeroes exactly from the end of
/// data to the last non-zero byte, in every mode.
#[test]
fn recovery_zeroes_garbage_up_to_the_last_byte_of_the_segment() {
    for mode in ALL_MODES {
        let dir = TempDir::new("torn-span");
        let cfg = config(dir.path(), mode);
        let mut w = Writer::open(&cfg).unwrap();
        for seq in 0..5 {
            append_seq(&mut w, seq);
        }
        drop(w);
        let end = end_offset(dir.path());
        let last = cfg.segment_size - 2;
        scribble(dir.path(), &[(end + 8, &[0x11; 3]), (last, &[0x22])]);

        let w = Writer::open(&cfg).unwrap();
        let t = w.recovery().truncated.clone().expect("truncation reported");
        assert_eq!((t.offset, t.bytes, t.problem), (end, last + 1 - end, None), "{mode:?}");
        assert_eq!(w.next_seq(), 5);
        drop(w);
        let bytes = std::fs::read(dir.join("00000000000000000000.tlj")).unwrap();
        assert!(bytes[end as usize..].iter().all(|&b| b == 0), "{mode:?}: garbage left");
        assert!(verify(dir.path()).unwrap().is_clean(), "{mode:?}");
        assert_eq!(read_all(dir.path()).len(), 5);
    }
}

#[test]
fn recovery_refuses_damage_with_valid_records_after_it() {
    let dir = TempDir::new("damage");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..20 {
        append_seq(&mut w, seq);
    }
    drop(w);
    // Damage the CRC of record 0.
    scribble(dir.path(), &[((SEGMENT_HEADER_LEN + 24) as u64, &[0x5A; 4])]);

    let err = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap_err();
    let Error::CorruptTail { bad, valid_seq, .. } = &err else { panic!("{err}") };
    assert_eq!((bad.segment, bad.offset, bad.seq), (0, SEGMENT_HEADER_LEN as u64, Some(0)));
    assert_eq!(*valid_seq, 1);
    assert!(err.to_string().contains("truncate_corrupt"), "{err}");

    let mut cfg = config(dir.path(), Durability::PageCache);
    cfg.recovery = RecoveryPolicy::TruncateCorrupt;
    let w = Writer::open(&cfg).unwrap();
    assert_eq!(w.next_seq(), 0);
    drop(w);
    assert!(verify(dir.path()).unwrap().is_clean());
}

#[test]
fn seek_by_sequence_and_time() {
    let dir = TempDir::new("seek");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..4_000 {
        append_seq(&mut w, seq);
    }
    drop(w);
    let mut r = Reader::open(dir.path()).unwrap();
    for seq in [0u64, 1, 255, 256, 257, 1_000, 2_222, 3_999, 2, 3_000] {
        r.seek(seq).unwrap();
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!(rec.seq, seq);
        check_record(&rec);
    }
    r.seek(4_000).unwrap();
    assert!(r.next_record().unwrap().is_none());
    let err = r.seek(4_001).unwrap_err();
    assert!(
        matches!(err, Error::SeqUnavailable { seq: 4_001, first: 0, next: 4_000, .. }),
        "{err}"
    );

    for seq in [0u64, 17, 1_234, 3_999] {
        let t = common::ts_for(seq);
        let mut r = Reader::open_at(dir.path(), Start::Time(t)).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().seq, seq);
        let mut r = Reader::open_at(dir.path(), Start::Time(t - 1)).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().seq, seq);
    }
    let mut r = Reader::open_at(dir.path(), Start::Time(i64::MAX)).unwrap();
    assert!(r.next_record().unwrap().is_none());
    let mut r = Reader::open_at(dir.path(), Start::End).unwrap();
    assert_eq!(r.next_seq(), 4_000);
    assert!(r.next_record().unwrap().is_none());
}

#[test]
fn listing_names_states_and_ranges() {
    let dir = TempDir::new("list");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    for seq in 0..2_000 {
        append_seq(&mut w, seq);
    }
    // Let the background thread finish preparing the next segment.
    let deadline = Instant::now() + Duration::from_secs(10);
    while list_segments(dir.path()).unwrap().last().unwrap().state != SegmentState::Prepared {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    let infos = list_segments(dir.path()).unwrap();
    drop(w);
    let started: Vec<_> = infos.iter().filter(|i| i.state != SegmentState::Prepared).collect();
    assert!(started.len() >= 3);
    assert_eq!(infos.last().unwrap().state, SegmentState::Prepared);
    assert_eq!(started.last().unwrap().state, SegmentState::Active);
    let mut next = 0;
    for i in &started {
        assert_eq!(i.first_seq, Some(next));
        next = i.last_seq.unwrap() + 1;
        assert_eq!(i.records, i.last_seq.unwrap() - i.first_seq.unwrap() + 1);
        assert_eq!(i.first_ts, Some(common::ts_for(i.first_seq.unwrap())));
        assert_eq!(i.file_len, 64 << 10);
        assert!(i.problem.is_none());
    }
    assert_eq!(next, 2_000);
    assert!(started[..started.len() - 1]
        .iter()
        .all(|i| i.state == SegmentState::Sealed && i.sealed_ns.is_some()));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever is appended, in whatever sizes, comes back identical, in order, across
    /// segment rolls and reopens, and random access finds every record.
    #[test]
    fn append_then_read_is_identity(
        records in prop::collection::vec(
            (any::<u16>(), any::<i64>(), prop::collection::vec(any::<u8>(), 0..3_000)),
            1..200,
        ),
        reopen_at in any::<prop::sample::Index>(),
        probes in prop::collection::vec(any::<prop::sample::Index>(), 1..10),
    ) {
        let dir = TempDir::new("prop");
        let cfg = config(dir.path(), Durability::PageCache);
        let split = reopen_at.index(records.len());
        let mut w = Writer::open(&cfg).unwrap();
        for (i, (k, t, p)) in records.iter().enumerate() {
            if i == split {
                drop(w);
                w = Writer::open(&cfg).unwrap();
            }
            prop_assert_eq!(w.append(*k, *t, p).unwrap(), i as u64);
        }
        drop(w);
        let back = read_all(dir.path());
        prop_assert_eq!(back.len(), records.len());
        for (i, (r, (k, t, p))) in back.iter().zip(&records).enumerate() {
            prop_assert_eq!((r.seq, r.kind, r.ts_ns, &r.payload), (i as u64, *k, *t, p));
        }
        let mut reader = Reader::open(dir.path()).unwrap();
        for probe in probes {
            let i = probe.index(records.len());
            reader.seek(i as u64).unwrap();
            let r = reader.next_record().unwrap().unwrap();
            prop_assert_eq!(r.payload, &records[i].2[..]);
        }
        prop_assert!(verify(dir.path()).unwrap().is_clean());
    }
}

/// Stamps out of order (a tick stamped with its receive time written after a later-stamped
/// approval): a seek by time lands on the first record, in file order, stamped at or after
/// the time, even when a later index entry carries an earlier stamp.
#[test]
fn time_seek_lands_on_the_first_match_with_stamps_out_of_order() {
    let dir = TempDir::new("unordered");
    let mut w = Writer::open(&config(dir.path(), Durability::PageCache)).unwrap();
    // Records stamped 1000 + seq, except that every even record after 300 is stamped 1290:
    // record 300 is the first in file order stamped at or after 1300.
    for seq in 0..600i64 {
        let ts = if seq > 300 && seq % 2 == 0 { 1_000 + 290 } else { 1_000 + seq };
        w.append(1, ts, &seq.to_le_bytes()).unwrap();
    }
    drop(w);
    // Record 512 (an index entry at stride 256) is stamped 1290, below 1300.
    let mut r = Reader::open_at(dir.path(), Start::Time(1_300)).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap().seq, 300);
    let mut r = Reader::open_at(dir.path(), Start::Time(1_000)).unwrap();
    assert_eq!(r.next_record().unwrap().unwrap().seq, 0);
}
