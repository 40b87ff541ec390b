//! A stage panic in a pipeline wired from the embedded default halts trading and maps to exit
//! status 70 with the stage named.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tickline_engine::risk::HaltCause;
use tickline_engine::runtime::Pipeline;
use tickline_engine::stage::{OrderSink, Strategy};
use tickline_engine::types::{InstrumentId, Tick};
use tickline_tools::config::Config;
use tickline_tools::run::{exit_status, EXIT_STAGE_PANIC};

struct Faulty {
    seen: u64,
}

impl Strategy for Faulty {
    fn name(&self) -> &str {
        "faulty"
    }
    fn wants(&self, _: InstrumentId) -> bool {
        true
    }
    fn on_tick(&mut self, _: &Tick, _: &mut OrderSink) {
        self.seen += 1;
        assert!(self.seen < 1_000, "faulty strategy: invariant broken at tick {}", self.seen);
    }
}

#[test]
fn strategy_panic_exits_70_naming_the_stage() {
    let loaded = Config::load(None).unwrap();
    let mut parts = tickline_tools::wiring::build(&loaded, None).unwrap();
    parts.strategies.push(Box::new(Faulty { seen: 0 }));
    let halt = Arc::clone(&parts.halt);
    let p = Pipeline::start(parts).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !p.is_finished() {
        assert!(Instant::now() < deadline, "hang guard");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (code, message) = exit_status(&p.join());
    assert_eq!(code, EXIT_STAGE_PANIC);
    let message = message.unwrap();
    assert!(message.contains("stage 'strategy'"), "{message}");
    assert!(message.contains("invariant broken at tick 1000"), "{message}");
    assert!(message.contains("trading was halted"), "{message}");
    assert_eq!(halt.cause(), HaltCause::StagePanic);
}
