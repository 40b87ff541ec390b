//! The stage runtime end to end, on yielding waits (these run on 2-core machines).

mod support;

use std::time::Duration;

use support::*;
use tickline_engine::record::RecordKind;
use tickline_engine::risk::HaltCause;
use tickline_engine::runtime::{Outcome, Pipeline};

const N: u64 = 200_000;
const EVERY: u64 = 10;

fn finished(p: &Pipeline) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !p.is_finished() {
        assert!(std::time::Instant::now() < deadline, "pipeline did not finish (hang guard)");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn check_lossless_run(p: Pipeline, sink: &CountSink) {
    finished(&p);
    let t = p.snapshot();
    let risk = p.risk().clone();
    let tel = std::sync::Arc::clone(p.telemetry());
    assert_eq!(p.join(), Outcome::Clean);
    // What the admin port reads: the feed's end and last tick, the fills, no order left open.
    let feed = tel.stage("feed:f").unwrap();
    assert!(feed.is_finished() && feed.last_emit_ns.get() > 0);
    assert_eq!(tel.fill_log.written(), N / 2 / EVERY);
    let latest = tel.fill_log.latest(2);
    assert!(latest.len() == 2 && latest[0].client_id.0 > latest[1].client_id.0, "{latest:?}");
    assert!(risk.orders.snapshot().is_empty(), "every order filled");
    let strategy = t.stage("strategy").unwrap();
    let gateway = t.stage("gateway").unwrap();
    assert_eq!(strategy.events, N, "every tick reached the strategy");
    // Instrument A is every other tick; the strategy orders on every EVERY-th of those.
    let orders = N / 2 / EVERY;
    assert_eq!(strategy.emitted, orders);
    assert_eq!(risk.approved.get(), orders);
    assert_eq!(gateway.events, orders, "every approved order reached the venue");
    assert_eq!(t.exec_reports, 2 * orders, "every report came back");
    assert_eq!(t.fills, orders);
    assert_eq!(t.lost, 0);
    assert_eq!(t.tick_to_order.count, orders);
    assert_eq!(sink.count(RecordKind::Tick), N);
    assert_eq!(sink.count(RecordKind::Approved), orders);
    assert_eq!(sink.count(RecordKind::Exec), 2 * orders);
    assert_eq!(sink.misstamped(), 0, "tick receipt <= decision <= approval, for every order");
    for r in &t.rings {
        assert_eq!((r.dropped, r.conflated, r.depth), (0, 0, 0), "{r:?}");
    }
}

#[test]
fn fused_layout_carries_every_event() {
    let sink = CountSink::default();
    // Ticks stamped after the loop's clock read: a decision is never stamped before them.
    let feed = CountFeed { own_clock: true, ..CountFeed::new("f", N) };
    let p = Pipeline::start(parts(
        vec![Box::new(feed)],
        EveryK { every: EVERY, seen: 0, panic_at: None },
        EchoVenue::new(),
        Some(sink.clone()),
        fused_plan(),
    ))
    .unwrap();
    let rings: Vec<String> = p.snapshot().rings.iter().map(|r| r.name.clone()).collect();
    assert_eq!(rings, vec!["records"], "fused: no ring but the recorder's");
    check_lossless_run(p, &sink);
}

#[test]
fn split_layout_carries_every_event_over_rings() {
    let sink = CountSink::default();
    let p = Pipeline::start(parts(
        vec![Box::new(CountFeed::new("f", N))],
        EveryK { every: EVERY, seen: 0, panic_at: None },
        EchoVenue::new(),
        Some(sink.clone()),
        split_plan(&["f"]),
    ))
    .unwrap();
    let rings: Vec<String> = p.snapshot().rings.iter().map(|r| r.name.clone()).collect();
    assert_eq!(rings, vec!["ticks:md", "orders", "exec", "records"]);
    check_lossless_run(p, &sink);
}

#[test]
fn two_feeds_into_one_strategy() {
    let sink = CountSink::default();
    let plan = {
        use tickline_engine::config::{LayoutConfig, LayoutMode, ThreadConfig};
        let t = |name: &str, stages: &[&str]| ThreadConfig {
            name: name.into(),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            core: None,
            wait: "spin-yield".into(),
        };
        let cfg = LayoutConfig {
            mode: LayoutMode::Explicit,
            threads: vec![
                t("a", &["feed:a"]),
                t("b", &["feed:b"]),
                t("trade", &["strategy", "risk", "gateway"]),
            ],
            ..LayoutConfig::default()
        };
        tickline_engine::runtime::resolve(&cfg, &["a".into(), "b".into()], &[]).unwrap()
    };
    let p = Pipeline::start(parts(
        vec![Box::new(CountFeed::new("a", N / 2)), Box::new(CountFeed::new("b", N / 2))],
        EveryK { every: EVERY, seen: 0, panic_at: None },
        EchoVenue::new(),
        Some(sink.clone()),
        plan,
    ))
    .unwrap();
    finished(&p);
    let t = p.snapshot();
    assert_eq!(p.join(), Outcome::Clean);
    assert_eq!(t.stage("strategy").unwrap().events, N);
    assert_eq!(t.stage("feed:a").unwrap().emitted, N / 2);
    assert_eq!(t.stage("feed:b").unwrap().emitted, N / 2);
    assert_eq!(sink.count(RecordKind::Tick), N);
}

#[test]
fn stop_drains_in_flight_events_and_loses_none_on_never_drop_rings() {
    for plan in [fused_plan(), split_plan(&["f"])] {
        let sink = CountSink::default();
        let p = Pipeline::start(parts(
            vec![Box::new(CountFeed::new("f", 0))],
            EveryK { every: 3, seen: 0, panic_at: None },
            EchoVenue::new(),
            Some(sink.clone()),
            plan,
        ))
        .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        p.stop();
        finished(&p);
        let t = p.snapshot();
        let halt = p.lifecycle().halt().clone();
        let risk = p.risk().clone();
        assert_eq!(p.join(), Outcome::Clean);
        let gateway = t.stage("gateway").unwrap();
        assert!(gateway.events > 0, "orders flowed before the stop");
        assert_eq!(
            risk.approved.get(),
            gateway.events,
            "no approved order lost between risk and venue"
        );
        assert_eq!(
            t.exec_reports,
            2 * gateway.events,
            "every in-flight order's reports drained back"
        );
        assert_eq!(t.lost, 0);
        let ticks = t.stage("strategy").unwrap().events;
        assert_eq!(sink.count(RecordKind::Tick), ticks, "every tick recorded");
        assert_eq!(sink.count(RecordKind::Approved), gateway.events);
        assert_eq!(sink.count(RecordKind::Exec), t.exec_reports);
        assert_eq!(halt.cause(), HaltCause::Shutdown, "no new order after the stop");
    }
}

#[test]
fn strategy_panic_halts_and_names_the_stage() {
    let p = Pipeline::start(parts(
        vec![Box::new(CountFeed::new("f", 0))],
        EveryK { every: 5, seen: 0, panic_at: Some(5_000) },
        EchoVenue::new(),
        Some(CountSink::default()),
        split_plan(&["f"]),
    ))
    .unwrap();
    finished(&p);
    let halt = p.lifecycle().halt().clone();
    let risk = p.risk().clone();
    let before = risk.approved.get();
    match p.join() {
        Outcome::Failed(f) => {
            assert_eq!(f.stage, "strategy");
            assert_eq!(f.thread, "trade");
            assert!(f.message.contains("strategy gave up at tick 5000"), "{f}");
        }
        Outcome::Clean => panic!("a panic must not end cleanly"),
    }
    assert_eq!(halt.cause(), HaltCause::StagePanic);
    assert_eq!(risk.approved.get(), before, "no order approved after the halt");
}

#[test]
fn feed_and_venue_panics_name_their_stage() {
    let mut feed = CountFeed::new("boom", 0);
    feed.panic_at = Some(1_000);
    let p = Pipeline::start(parts(
        vec![Box::new(feed)],
        EveryK { every: 5, seen: 0, panic_at: None },
        EchoVenue::new(),
        None,
        split_plan(&["boom"]),
    ))
    .unwrap();
    finished(&p);
    match p.join() {
        Outcome::Failed(f) => {
            assert_eq!((f.stage.as_str(), f.thread.as_str()), ("feed:boom", "md"))
        }
        Outcome::Clean => panic!("feed panic ended cleanly"),
    }
    let mut venue = EchoVenue::new();
    venue.panic_at = Some(10);
    let p = Pipeline::start(parts(
        vec![Box::new(CountFeed::new("f", 0))],
        EveryK { every: 5, seen: 0, panic_at: None },
        venue,
        None,
        fused_plan(),
    ))
    .unwrap();
    finished(&p);
    match p.join() {
        Outcome::Failed(f) => {
            assert_eq!(f.stage, "gateway");
            assert!(f.message.contains("venue lost its connection"));
        }
        Outcome::Clean => panic!("venue panic ended cleanly"),
    }
}

#[test]
fn control_commands_apply_between_events_and_are_journaled() {
    use tickline_engine::record::RecordKind;
    use tickline_engine::runtime::{Command, ControlError};

    let sink = CountSink::default();
    let p = Pipeline::start(parts(
        vec![Box::new(CountFeed::new("f", 0))],
        EveryK { every: 3, seen: 0, panic_at: None },
        EchoVenue::new(),
        Some(sink.clone()),
        fused_plan(),
    ))
    .unwrap();
    let ctl = p.control();
    let wait = Duration::from_secs(10);
    let risk = p.risk().clone();
    let approved = || risk.approved.get();

    std::thread::sleep(Duration::from_millis(100));
    assert!(approved() > 0);
    assert_eq!(ctl.call(Command::Halt, "test", wait), Ok("trading halted".into()));
    let halted_at = approved();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(approved(), halted_at, "no order approved while halted");
    assert!(risk.rejects_of(tickline_engine::risk::RejectReason::Halted) > 0);
    assert_eq!(ctl.call(Command::Resume, "test", wait), Ok("trading resumed".into()));
    std::thread::sleep(Duration::from_millis(100));
    assert!(approved() > halted_at, "orders flow again after resume");

    let off = Command::EnableStrategy { strategy: "every-k".into(), enabled: false };
    assert_eq!(ctl.call(off, "test", wait), Ok("every-k disabled".into()));
    let intents = p.snapshot().stage("strategy").unwrap().emitted;
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        p.snapshot().stage("strategy").unwrap().emitted,
        intents,
        "a disabled strategy is not called"
    );

    let bad = Command::SetStrategyParam {
        strategy: "every-k".into(),
        name: "every".into(),
        value: 5.into(),
    };
    assert!(
        matches!(ctl.call(bad, "test", wait), Err(ControlError::Refused(why)) if why.contains("no parameter"))
    );
    let unknown = Command::EnableStrategy { strategy: "nope".into(), enabled: true };
    assert!(
        matches!(ctl.call(unknown, "test", wait), Err(ControlError::Refused(why)) if why.contains("unknown strategy"))
    );
    let before = p.snapshot().stage("gateway").unwrap().events;
    assert_eq!(ctl.call(Command::CancelAll, "test", wait), Ok("cancel-all sent".into()));
    assert_eq!(
        p.snapshot().stage("gateway").unwrap().events,
        before + 1,
        "cancel-all reached the venue through risk"
    );

    p.stop();
    finished(&p);
    assert_eq!(p.join(), Outcome::Clean);
    assert_eq!(sink.count(RecordKind::Control), 6, "every command journaled, applied or refused");
    assert_eq!(ctl.call(Command::Halt, "test", wait), Err(ControlError::Stopped));
}
