use std::sync::atomic::AtomicBool;

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::NoUninit)]
#[repr(C)]
struct Keyed {
    key: u64,
    value: u64,
}

fn keyed(k: u64, v: u64) -> Keyed {
    Keyed { key: k, value: v }
}

#[test]
fn capacity_must_be_power_of_two_and_named() {
    let err = Ring::<u64>::builder("ticks", 6).build().unwrap_err();
    assert_eq!(err.to_string(), "ring ticks: capacity 6 is not a power of two");
    assert!(Ring::<u64>::builder("x", 0).build().is_err());
    assert!(Ring::<u64>::builder("x", 8).consumers(0).build().is_err());
    let err = Ring::<u64>::builder("md", 8).policy(FullPolicy::Conflate).build().unwrap_err();
    assert!(matches!(err, RingError::NoConflationKey { .. }));
}

#[test]
fn block_policy_refuses_when_full_and_counts_the_alarm() {
    let (mut tx, mut rx) = Ring::<u64>::builder("orders", 4).build_one().unwrap();
    for i in 0..4 {
        tx.try_push(i).unwrap();
    }
    assert_eq!(tx.try_push(99), Err(Full(99)));
    assert_eq!(tx.snapshot().full, 1);
    assert_eq!(tx.snapshot().depth, 4);
    assert_eq!(rx.try_pop(), Some(0));
    tx.try_push(4).unwrap();
    let mut got = Vec::new();
    rx.poll(usize::MAX, |v| got.push(v));
    assert_eq!(got, vec![1, 2, 3, 4]);
    let s = tx.snapshot();
    assert_eq!((s.pushed, s.depth, s.dropped), (5, 0, 0));
}

#[test]
fn poll_published_reads_only_below_the_published_head() {
    let (mut tx, mut rx) = Ring::<u64>::builder("records", 128).build_one().unwrap();
    for i in 0..40 {
        tx.try_push(i).unwrap();
    }
    let mut got = Vec::new();
    // `head` is stored every 32 values: the last 8 are not published through it yet.
    assert_eq!(rx.poll_published(usize::MAX, |v| got.push(v)), 32);
    assert_eq!(got, (0..32).collect::<Vec<_>>());
    assert_eq!(rx.poll_published(usize::MAX, |v| got.push(v)), 0);
    // A flush publishes the producer's position.
    assert_eq!(tx.flush(), 0);
    assert_eq!(rx.poll_published(3, |v| got.push(v)), 3, "bounded by max");
    assert_eq!(rx.poll_published(usize::MAX, |v| got.push(v)), 5);
    assert_eq!(got, (0..40).collect::<Vec<_>>());
    // The stamps still serve a consumer that follows the producer closely.
    tx.try_push(40).unwrap();
    assert_eq!(rx.poll_published(usize::MAX, |v| got.push(v)), 0);
    assert_eq!(rx.poll(usize::MAX, |v| got.push(v)), 1);
    assert_eq!(got.last(), Some(&40));
    // The slots read free up room for the producer.
    assert_eq!(tx.snapshot().depth, 0);
}

#[test]
fn block_policy_gates_on_the_slowest_consumer() {
    let (mut tx, mut rxs) = Ring::<u64>::builder("exec", 2).consumers(2).build().unwrap();
    tx.try_push(1).unwrap();
    tx.try_push(2).unwrap();
    assert_eq!(rxs[0].try_pop(), Some(1));
    assert_eq!(rxs[0].try_pop(), Some(2));
    // Consumer 1 has read nothing: still full.
    assert!(tx.try_push(3).is_err());
    assert_eq!(rxs[1].try_pop(), Some(1));
    tx.try_push(3).unwrap();
    assert_eq!(rxs[1].try_pop(), Some(2));
    assert_eq!(rxs[1].try_pop(), Some(3));
    assert_eq!(rxs[0].try_pop(), Some(3));
}

#[test]
fn drop_oldest_never_blocks_and_counts_what_the_consumer_missed() {
    let (mut tx, mut rx) =
        Ring::<u64>::builder("md", 4).policy(FullPolicy::DropOldest).build_one().unwrap();
    for i in 0..10 {
        tx.try_push(i).unwrap();
    }
    let mut got = Vec::new();
    rx.poll(usize::MAX, |v| got.push(v));
    assert_eq!(got, vec![6, 7, 8, 9], "keeps the newest capacity values");
    assert_eq!(rx.dropped(), 6);
    assert_eq!(rx.snapshot().dropped, 6);
    tx.try_push(10).unwrap();
    assert_eq!(rx.try_pop(), Some(10));
    assert_eq!(rx.dropped(), 6);
}

#[test]
fn conflate_keeps_the_latest_per_key_and_publishes_it_when_space_frees() {
    let (mut tx, mut rx) = Ring::<Keyed>::builder("md", 2)
        .policy(FullPolicy::Conflate)
        .conflate_by(|k| k.key as usize, 4)
        .build_one()
        .unwrap();
    tx.try_push(keyed(0, 1)).unwrap();
    tx.try_push(keyed(1, 1)).unwrap();
    // Full: these wait in the table, same keys replace each other.
    tx.try_push(keyed(2, 1)).unwrap();
    tx.try_push(keyed(3, 1)).unwrap();
    tx.try_push(keyed(2, 2)).unwrap();
    tx.try_push(keyed(2, 3)).unwrap();
    let s = tx.snapshot();
    assert_eq!(s.conflated, 2);
    assert_eq!(s.pushed, 2);
    assert_eq!(rx.try_pop(), Some(keyed(0, 1)));
    assert_eq!(rx.try_pop(), Some(keyed(1, 1)));
    assert_eq!(tx.flush(), 0);
    assert_eq!(rx.try_pop(), Some(keyed(2, 3)), "latest value for key 2, in first-pending order");
    assert_eq!(rx.try_pop(), Some(keyed(3, 1)));
    assert_eq!(rx.try_pop(), None);
    // A new push while values are pending publishes the pending ones first.
    tx.try_push(keyed(0, 5)).unwrap();
    assert_eq!(rx.try_pop(), Some(keyed(0, 5)));
}

#[test]
fn dropping_the_producer_finishes_consumers_after_they_drain() {
    let (mut tx, mut rx) = Ring::<u64>::builder("x", 8).build_one().unwrap();
    tx.try_push(1).unwrap();
    drop(tx);
    assert!(!rx.is_finished());
    assert_eq!(rx.try_pop(), Some(1));
    assert!(rx.is_finished());
}

#[test]
fn push_gives_the_value_back_when_aborted() {
    let (mut tx, _rx) = Ring::<u64>::builder("x", 1).build_one().unwrap();
    tx.try_push(1).unwrap();
    let abort = AtomicBool::new(true);
    let mut w = WaitStrategy::spin_yield().waiter();
    assert_eq!(tx.push(2, &mut w, &abort), Err(Full(2)));
}

#[test]
fn block_ring_delivers_every_value_in_order_across_threads() {
    const N: u64 = 200_000;
    let (mut tx, rxs) = Ring::<Keyed>::builder("t", 64).consumers(2).build().unwrap();
    let abort = AtomicBool::new(false);
    std::thread::scope(|s| {
        for mut rx in rxs {
            s.spawn(move || {
                let mut w = WaitStrategy::spin_yield().waiter();
                let mut expect = 0;
                while expect < N {
                    match rx.try_pop() {
                        Some(v) => {
                            assert_eq!(v, keyed(expect, expect * 3));
                            expect += 1;
                            w.reset();
                        }
                        None => w.idle(),
                    }
                }
                assert_eq!(rx.dropped(), 0);
            });
        }
        let mut w = WaitStrategy::spin_yield().waiter();
        for i in 0..N {
            tx.push(keyed(i, i * 3), &mut w, &abort).unwrap();
        }
    });
}

#[test]
fn lapped_reader_never_sees_a_torn_value() {
    // The producer overwrites as fast as it can while a reader races it: every value the
    // reader accepts must be one the producer wrote whole, and sequences only go up.
    const N: u64 = 300_000;
    let (mut tx, mut rx) =
        Ring::<Keyed>::builder("lossy", 8).policy(FullPolicy::DropOldest).build_one().unwrap();
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 1..=N {
                tx.try_push(keyed(i, !i)).unwrap();
            }
        });
        let mut last = 0;
        let mut seen = 0u64;
        let mut w = WaitStrategy::spin_yield().waiter();
        loop {
            match rx.try_pop() {
                Some(v) => {
                    assert_eq!(v.value, !v.key, "torn read: {v:?}");
                    assert!(v.key > last, "went backwards: {} after {last}", v.key);
                    last = v.key;
                    seen += 1;
                    w.reset();
                    if v.key == N {
                        break;
                    }
                }
                None if rx.is_finished() => break,
                None => w.idle(),
            }
        }
        assert_eq!(seen + rx.dropped(), last, "every sequence is either seen or counted dropped");
    });
}

/// A batch poll takes at most `max`, in order: a `max` inside the backlog, zero, and no limit.
#[test]
fn batch_poll_takes_at_most_max_in_order() {
    let (mut tx, mut rx) = Ring::<u64>::builder("records", 64).build_one().unwrap();
    for i in 0..40 {
        tx.try_push(i).unwrap();
    }
    let mut got = Vec::new();
    assert_eq!(rx.poll(0, |v| got.push(v)), 0);
    assert_eq!(rx.poll(3, |v| got.push(v)), 3);
    assert_eq!(rx.poll(20, |v| got.push(v)), 20);
    assert_eq!(rx.poll(usize::MAX, |v| got.push(v)), 17);
    assert_eq!(rx.poll(usize::MAX, |v| got.push(v)), 0);
    assert_eq!(got, (0..40).collect::<Vec<_>>());
}
