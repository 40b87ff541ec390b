//! Replay of a journal whose run took operator commands mid-flight: halt and resume, a
//! strategy parameter, a risk limit, a strategy disabled and enabled, a cancel-all and the
//! kill switch. Every command is journaled as a control record; the replay applies them at
//! the same points and must reproduce every decision bit for bit.

mod support;

use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::runtime::{Command, Outcome, Pipeline};
use tickline_engine::types::Clock;
use tickline_tools::{journal_sink, replay_journal, wiring};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn operator_commands_replay_bit_for_bit() {
    Clock::init();
    let (loaded, dir) = support::journaled_default("journal-control");

    let (sink, journal) = journal_sink::open_for_run(&loaded, None).unwrap().expect("enabled");
    let mut parts = wiring::build(&loaded, Some(Box::new(sink))).unwrap();
    parts.order_ids = journal.order_ids.clone();
    let p = Pipeline::start(parts).unwrap();
    let ctl = p.control();
    let wait = Duration::from_secs(10);
    let pause = || std::thread::sleep(Duration::from_millis(60));
    let commands = [
        Command::Halt,
        Command::Resume,
        Command::SetStrategyParam {
            strategy: "threshold-a".into(),
            name: "threshold".into(),
            value: dec("0.10"),
        },
        Command::SetRiskLimit {
            name: "max_order_qty".into(),
            instrument: Some("SYN-C".into()),
            value: dec("5"),
        },
        Command::EnableStrategy { strategy: "threshold-a".into(), enabled: false },
        Command::CancelAll,
        Command::EnableStrategy { strategy: "threshold-a".into(), enabled: true },
        // Refused live (unknown parameter): journaled, changes nothing, replays as nothing.
        Command::SetStrategyParam {
            strategy: "threshold-c".into(),
            name: "nope".into(),
            value: dec("1"),
        },
        Command::SetRiskLimit { name: "kill_switch".into(), instrument: None, value: dec("1") },
        Command::Resume,
    ];
    pause();
    for c in &commands {
        let _ = ctl.call(c.clone(), "test", wait);
        pause();
    }
    p.stop();
    while !p.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(p.join(), Outcome::Clean);

    let report = replay_journal::replay(&dir, false).unwrap();
    assert_eq!(report.first_difference, None, "{report:?}");
    assert_eq!(report.sessions, 1);
    assert_eq!(report.control, commands.len() as u64, "every command journaled and replayed");
    assert_eq!(report.halts, 1);
    assert!(report.approved > 0 && report.rejected > 0, "{report:?}");
    std::fs::remove_dir_all(&dir).ok();
}
