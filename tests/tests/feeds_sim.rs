//! The live Binance and OKX feeds against `tickline feed-sim` over real loopback sockets:
//! book sync through the REST snapshot, gap → resync, disconnect → reconnect, stall →
//! stale reconnect, ping storms, every bad-input kind (counted, never a crash, never a
//! tick), OKX resubscription and client pings, and a capture that replays through the book
//! check. Timeouts here are hang guards only.

mod feeds_support;

use std::process::Command;
use std::time::Duration;

use feeds_support::{poll_until, registry, spawn_with_port, Proc, BTCUSDT, BTC_USDT};
use tickline_engine::types::{Tick, TickFlags, TickKind};
use tickline_feeds::capture_writer::CaptureConfig;
use tickline_feeds::venue::binance::connection::{BinanceFeed, BinanceFeedConfig};
use tickline_feeds::venue::okx::connection::{OkxFeed, OkxFeedConfig};
use tickline_feeds::DecodeError;
use tickline_tests::{scratch, tickline};

const GUARD: Duration = Duration::from_secs(60);

fn sim(args: &[&str]) -> (Proc, u16) {
    let mut cmd = Command::new(tickline());
    cmd.arg("feed-sim").args(args);
    spawn_with_port(cmd)
}

fn binance(port: u16) -> BinanceFeed {
    let mut c = BinanceFeedConfig::new("binance", &["BTCUSDT"]);
    c.ws_url = format!("ws://127.0.0.1:{port}");
    c.rest_url = format!("http://127.0.0.1:{port}");
    c.connection.backoff_min = Duration::from_millis(20);
    c.connection.backoff_max = Duration::from_millis(200);
    c.connection.stale_after = Duration::from_secs(5);
    BinanceFeed::new(&registry(), c).expect("feed")
}

fn binance_with(port: u16, edit: impl FnOnce(&mut BinanceFeedConfig)) -> BinanceFeed {
    let mut c = BinanceFeedConfig::new("binance", &["BTCUSDT"]);
    c.ws_url = format!("ws://127.0.0.1:{port}");
    c.rest_url = format!("http://127.0.0.1:{port}");
    c.connection.backoff_min = Duration::from_millis(20);
    c.connection.backoff_max = Duration::from_millis(200);
    c.connection.stale_after = Duration::from_secs(5);
    edit(&mut c);
    BinanceFeed::new(&registry(), c).expect("feed")
}

/// The synced book's top equals the latest bookTicker at or below its update id.
fn book_matches_ticker(feed: &BinanceFeed, ticks: &[Tick]) -> bool {
    let Some(sync) = feed.handler().sync(BTCUSDT) else { return false };
    let Some(id) = sync.last_update_id() else { return false };
    let Some(t) = ticks.iter().rev().find(|t| {
        t.kind() == TickKind::Quote
            && !t.flags().intersects(TickFlags::FROM_DEPTH.union(TickFlags::STALE))
            && t.seq() <= id
    }) else {
        return false;
    };
    t.seq() == id && sync.book().best_bid() == t.bid() && sync.book().best_ask() == t.ask()
}

fn live_and_matching(feed: &BinanceFeed, ticks: &[Tick], min_applied: u64) -> bool {
    let Some(sync) = feed.handler().sync(BTCUSDT) else { return false };
    sync.is_synced()
        && sync.counters().applied.get() >= min_applied
        && book_matches_ticker(feed, ticks)
}

#[test]
fn binance_book_syncs_from_the_rest_snapshot_and_tracks_book_ticker() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "2000"]);
    let mut feed = binance(port);
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "a synced book matching bookTicker", |f, t| {
        live_and_matching(f, t, 300)
    });
    let t = feed.telemetry().snapshot(tickline_engine::types::Clock::now());
    assert_eq!(t.snapshots, 1, "{t:?}");
    assert_eq!((t.gaps, t.decode_errors.len(), t.reconnects), (0, 0, 0), "{t:?}");
    assert!(ticks
        .iter()
        .any(|t| t.flags().contains(TickFlags::RESYNC.union(TickFlags::FROM_DEPTH))));
    assert!(ticks.iter().any(|t| t.kind() == TickKind::Trade));
    assert!(
        ticks.iter().all(|t| !t.flags().intersects(TickFlags::UNREASONABLE)),
        "no flags on clean data"
    );
    assert!(t.decode_ns.count > 0 && t.last_frame_age_ns.is_some());
}

#[test]
fn binance_gap_resyncs_from_a_new_snapshot() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "2000", "--fault", "drop@400"]);
    let mut feed = binance(port);
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "a gap, a resync and a matching book", |f, t| {
        let c = f.handler().sync(BTCUSDT).map(|s| s.counters().gaps.get()).unwrap_or(0);
        c >= 1 && f.telemetry().snapshots() >= 2 && live_and_matching(f, t, 400)
    });
    let t = feed.telemetry();
    assert_eq!(t.gaps(), 1);
    assert_eq!(t.conn.reconnects.get(), 0, "a gap is repaired without reconnecting");
    assert!(t.snapshot_requests.get() >= 2);
}

#[test]
fn binance_disconnect_reconnects_resyncs_and_flags_stale_meanwhile() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "2000", "--fault", "disconnect@400"]);
    let mut feed = binance(port);
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "a reconnect and a matching book", |f, t| {
        f.telemetry().conn.reconnects.get() >= 1
            && f.telemetry().snapshots() >= 2
            && live_and_matching(f, t, 400)
    });
    let t = feed.telemetry();
    assert!(t.resyncs() >= 1);
    assert!(t.reasonability.stale.get() >= 1, "the last quote goes out as STALE on a disconnect");
    let stale =
        ticks.iter().position(|t| t.flags().contains(TickFlags::STALE)).expect("a STALE tick");
    let resync = ticks[stale..].iter().any(|t| t.flags().contains(TickFlags::RESYNC));
    assert!(resync, "the book is resynced after the reconnect");
}

#[test]
fn binance_stall_is_detected_as_stale_and_reconnected() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "1000", "--fault", "stall@300:4000"]);
    let mut feed = binance_with(port, |c| {
        c.connection.stale_after = Duration::from_millis(600);
        c.reasonability.stale_after = Duration::from_millis(300);
    });
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "a stale disconnect and a resynced book", |f, t| {
        f.telemetry().conn.stale.get() >= 1
            && f.telemetry().conn.reconnects.get() >= 1
            && live_and_matching(f, t, 350)
    });
    assert!(feed.telemetry().reasonability.stale.get() >= 1);
}

#[test]
fn binance_ping_storm_is_answered_and_the_stream_goes_on() {
    let (_sim, port) =
        sim(&["--venue", "binance", "--rate", "2000", "--fault", "ping-storm@200:2000"]);
    let mut feed = binance(port);
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "2000 pings and a live book", |f, t| {
        f.telemetry().conn.pings_received.get() >= 2_000 && live_and_matching(f, t, 400)
    });
    assert_eq!(feed.telemetry().conn.reconnects.get(), 0);
}

#[test]
fn binance_every_bad_input_kind_is_counted_and_never_ticks() {
    let bad = [
        "malformed@100",
        "binary@105",
        "oversized@110:100000",
        "bad@115:wrong-type",
        "bad@120:unknown-symbol",
        "bad@125:negative",
        "bad@130:overflow",
        "bad@135:too-precise",
        "bad@140:bad-number",
        "bad@145:missing-field",
        "bad@150:unknown-stream",
        "bad@155:symbol-mismatch",
        "bad@160:bad-sequence",
        "reorder@165",
    ];
    let mut args = vec!["--venue", "binance", "--rate", "2000"];
    for f in &bad {
        args.extend(["--fault", f]);
    }
    let (_sim, port) = sim(&args);
    let mut feed = binance_with(port, |c| c.handler.max_frame_bytes = 64 << 10);
    let mut ticks = Vec::new();
    poll_until(
        &mut feed,
        &mut ticks,
        GUARD,
        "every bad frame and a live book after them",
        |f, t| f.telemetry().handler.decode_errors.total() >= 12 && live_and_matching(f, t, 300),
    );
    let errors = &feed.telemetry().handler.decode_errors;
    for kind in [
        DecodeError::Malformed,
        DecodeError::Binary,
        DecodeError::TooLarge,
        DecodeError::WrongType,
        DecodeError::UnknownSymbol,
        DecodeError::Negative,
        DecodeError::Overflow,
        DecodeError::TooPrecise,
        DecodeError::BadNumber,
        DecodeError::MissingField,
        DecodeError::UnknownStream,
        DecodeError::SymbolMismatch,
        DecodeError::BadSequence,
    ] {
        let all: Vec<_> = errors.iter().filter(|e| e.1 > 0).collect();
        assert_eq!(errors.get(kind), 1, "{} counted once: {all:?}", kind.as_str());
    }
    let t = feed.telemetry();
    assert_eq!(t.conn.reconnects.get(), 0, "bad frames do not cost the connection");
    assert!(
        feed.handler().sync(BTCUSDT).unwrap().counters().dropped_stale.get() >= 1,
        "the replayed diff is dropped"
    );
    assert_eq!(t.gaps(), 0);
    // The bad frames quote 100.00 against a book near 60000: none became a tick.
    assert!(ticks.iter().all(|t| t.bid().is_none_or(|b| b.px.raw() != 10_000)));
    assert_eq!(t.reasonability.out_of_band.get(), 0);
}

#[test]
fn binance_frame_over_the_connection_limit_reconnects() {
    let (_sim, port) =
        sim(&["--venue", "binance", "--rate", "2000", "--fault", "oversized@200:3000000"]);
    let mut feed = binance_with(port, |c| c.connection.max_message_bytes = 1 << 20);
    let mut ticks = Vec::new();
    poll_until(
        &mut feed,
        &mut ticks,
        GUARD,
        "a too-large close, a reconnect and a live book",
        |f, t| {
            f.telemetry().conn.too_large.get() >= 1
                && f.telemetry().conn.reconnects.get() >= 1
                && live_and_matching(f, t, 300)
        },
    );
}

#[test]
fn okx_books_sync_gap_resubscribes_and_client_pings_are_answered() {
    let (_sim, port) = sim(&[
        "--venue",
        "okx",
        "--rate",
        "1000",
        "--fault",
        "drop@300",
        "--fault",
        "stall@600:2500",
    ]);
    let mut c = OkxFeedConfig::new("okx", &["BTC-USDT"]);
    c.url = format!("ws://127.0.0.1:{port}/ws/v5/public");
    c.connection.backoff_min = Duration::from_millis(20);
    c.connection.stale_after = Duration::from_millis(2_000);
    c.connection.ping_after = Some(Duration::from_millis(200));
    c.resubscribe_after = Duration::from_millis(300);
    let mut feed = OkxFeed::new(&registry(), c).expect("feed");
    let mut ticks = Vec::new();
    poll_until(
        &mut feed,
        &mut ticks,
        GUARD,
        "a gap, a resubscription and pings through a stall",
        |f, _| {
            let t = f.telemetry();
            t.gaps() >= 1
                && t.resubscribes.get() >= 1
                && t.conn.pings_sent.get() >= 2
                && f.handler()
                    .sync(BTC_USDT)
                    .is_some_and(|s| s.is_synced() && s.counters().applied.get() >= 500)
        },
    );
    let t = feed.telemetry();
    assert_eq!(t.conn.stale.get(), 0, "pongs keep a quiet connection alive");
    assert_eq!(t.conn.reconnects.get(), 0);
    assert!(t.snapshots() >= 2);
    assert!(ticks.iter().any(|t| t.kind() == TickKind::Trade));
    let book = feed.handler().book(BTC_USDT).unwrap();
    assert!(!book.is_crossed() && book.best_bid().is_some());
}

#[test]
fn captured_frames_replay_through_the_book_check() {
    let dir = scratch("feeds-capture");
    let path = dir.join("binance.gz");
    let (sim_proc, port) = sim(&["--venue", "binance", "--rate", "3000"]);
    let mut feed =
        binance_with(port, |c| c.capture = Some(CaptureConfig { path: path.clone(), gzip: None }));
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "1000 applied diffs", |f, t| {
        live_and_matching(f, t, 1_000)
    });
    tickline_engine::stage::Feed::stop(&mut feed);
    drop(sim_proc);
    let out = Command::new(tickline())
        .args(["replay", "--capture", path.to_str().unwrap(), "--check-book", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mismatches"], 0, "{r}");
    assert_eq!(r["gaps"], 0, "{r}");
    assert_eq!(r["snapshots"], 1, "{r}");
    assert!(r["events_checked"].as_u64().unwrap() >= 900, "{r}");
    assert_eq!(r["frames"].as_u64(), Some(feed.telemetry().capture.as_ref().unwrap().lines.get()));
}

#[test]
fn binance_rotates_the_connection_before_its_lifetime_limit() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "2000"]);
    let mut feed = binance_with(port, |c| c.connection.rotate_after = Duration::from_millis(800));
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "two rotations and a resynced book", |f, t| {
        f.telemetry().conn.rotations.get() >= 2 && live_and_matching(f, t, 300)
    });
    let t = feed.telemetry();
    assert_eq!(t.conn.connect_failures.get(), 0);
    assert!(t.conn.reconnects.get() >= 2 && t.snapshots() >= 3);
}

#[test]
fn connection_attempts_respect_the_rate_limit() {
    let (_sim, port) = sim(&["--venue", "binance", "--rate", "2000", "--fault", "disconnect%150"]);
    let mut feed = binance_with(port, |c| {
        c.connection.max_connects = 2;
        c.connection.connect_window = Duration::from_secs(600);
    });
    let mut ticks = Vec::new();
    poll_until(&mut feed, &mut ticks, GUARD, "an attempt held back by the limit", |f, _| {
        f.telemetry().conn.rate_limited.get() >= 1
    });
    // Poll a little longer: the limit holds.
    let until = std::time::Instant::now() + Duration::from_millis(300);
    poll_until(&mut feed, &mut ticks, GUARD, "300 ms", |_, _| std::time::Instant::now() > until);
    assert_eq!(feed.telemetry().conn.attempts.get(), 2);
    assert_eq!(feed.telemetry().conn.state(), tickline_feeds::ws::ConnState::Waiting);
}
