//! Deterministic replay: a journal's inputs through the strategy and risk stages, on one
//! thread, with the recorded clock readings.
//!
//! `tickline replay --journal` reads a journal in order and hands each input (a tick, an
//! execution report, an operator command, an engine halt) to a [`Replayer`], which makes the
//! same calls in the same order as the strategy thread of a live pipeline (`hot.rs`:
//! `on_tick`, `route_intents`, `on_intent`, `notify_reject`, `on_exec`, `apply`). Each
//! decision it makes (an approved order or a risk reject) goes to a [`Script`], which compares
//! it with the recorded one. A change to that call order in `hot.rs` must be mirrored here;
//! the end-to-end replay test (`tests/tests/journal_replay.rs`) fails when it is not.
//!
//! **Clock.** A live strategy thread reads the clock at a callback's first order (the
//! decision time), at an approval and at a reject. Those readings are inputs like any other,
//! and the recorded decisions carry them, so the replayer asks its [`Script`] for them
//! instead ([`crate::stage::OrderSink::begin_at`], [`RiskStage::check`] with an explicit time).
//! Equal inputs then give equal bytes; the hot path is unchanged.
//!
//! **Not replayed.** Strategy timers (`on_timer`) are not journaled, so a strategy that acts
//! on them cannot be replayed exactly; nor can the venue session's connection state
//! ([`crate::risk::CancelOnDisconnect`]). Either shows up as a difference, never as a silent
//! pass.
//!
//! ```
//! use std::sync::Arc;
//! use tickline_engine::risk::{RiskLimits, RiskSetup};
//! use tickline_engine::runtime::replay::{Decision, Replayer, Script};
//! use tickline_engine::types::*;
//!
//! struct Log(Vec<Decision>);
//! impl Script for Log {
//!     fn decision_time(&self, _ahead: usize) -> Nanos { Nanos(10) }
//!     fn decision_stamp(&self) -> Nanos { Nanos(11) }
//!     fn decided(&mut self, d: Decision) { self.0.push(d) }
//! }
//!
//! let spec = InstrumentSpec {
//!     symbol: "A".into(), venue: "v".into(), price_scale: 2, qty_scale: 0,
//!     tick_size: "0.01".parse().unwrap(), lot_size: "1".parse().unwrap(),
//! };
//! let registry = Arc::new(InstrumentRegistry::build(&[spec]).unwrap());
//! let setup = RiskSetup::new(RiskLimits::unconfigured(&registry));
//! let mut r = Replayer::new(registry, Vec::new(), setup, ClientOrderIdGen::new(Nanos(0)));
//! let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(1) };
//! let mut log = Log(Vec::new());
//! r.on_tick(&Tick::quote(InstrumentId(0), l(99), l(101), 1, Nanos(1), Nanos(1)), &mut log);
//! assert!(log.0.is_empty(), "no strategy, no decision");
//! ```

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::record::{ControlRecord, Record};
use crate::risk::{HaltCause, HaltSwitch, RiskReject, RiskSetup, RiskStage};
use crate::stage::{OrderSink, Strategy};
use crate::types::{
    ClientOrderIdGen, ExecKind, ExecReport, InstrumentRegistry, Nanos, Order, OrderIntent,
    StrategyId, Tick,
};

use super::control::Command;

/// A decision the risk stage made: what the journal records as `approved` or `rejected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An approved order.
    Approved(Order),
    /// A refused intent.
    Rejected(RiskReject),
}

impl Decision {
    /// The intent decided on.
    pub fn intent(&self) -> &OrderIntent {
        match self {
            Decision::Approved(o) => &o.intent,
            Decision::Rejected(r) => &r.intent,
        }
    }

    /// When it was decided: the approval or reject time.
    pub fn stamp(&self) -> Nanos {
        match self {
            Decision::Approved(o) => o.approved_ns,
            Decision::Rejected(r) => r.ts,
        }
    }

    /// The record a live pipeline journals for it.
    pub fn record(&self) -> Record {
        match self {
            Decision::Approved(o) => Record::approved(o.approved_ns, o),
            Decision::Rejected(r) => Record::rejected(r.ts, r),
        }
    }
}

/// The replayer's view of the recorded decisions: the clock readings they carry, and where
/// new decisions go.
///
/// "The next decision" is the next one the replayer will make; `ahead` counts from it.
pub trait Script {
    /// The decision time of the intent `ahead` places after the next decision (the reading a
    /// live sink takes at a callback's first order). Never zero.
    fn decision_time(&self, ahead: usize) -> Nanos;
    /// The approval or reject time of the next decision.
    fn decision_stamp(&self) -> Nanos;
    /// The next decision, made.
    fn decided(&mut self, decision: Decision);
}

/// Why a control record could not be replayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlReplayError {
    /// The journaled text does not name a command this build knows (or it was cut at 64
    /// bytes before the command ended).
    #[error("control record {text:?} does not name a command this build can replay")]
    Unparsed {
        /// The record's text.
        text: String,
    },
    /// The command was applied live but refused in replay.
    #[error("control command {command:?} was applied live but refused in replay: {why}")]
    Refused {
        /// The command.
        command: String,
        /// Why replay refused it.
        why: String,
    },
}

/// The strategy thread's decision logic, single-threaded, with the clock supplied by a
/// [`Script`]. See the [module docs](self).
pub struct Replayer {
    strategies: Vec<Box<dyn Strategy>>,
    enabled: Vec<bool>,
    routes: Vec<Vec<u16>>,
    risk: RiskStage,
    sink: OrderSink,
    halt: Arc<HaltSwitch>,
    /// Intents of the sink already routed in the current batch.
    routed: usize,
}

impl std::fmt::Debug for Replayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replayer")
            .field("strategies", &self.strategies.len())
            .field("halted", &self.halt.is_halted())
            .finish_non_exhaustive()
    }
}

impl Replayer {
    /// A replayer over `strategies` (in config order: the index is the strategy id) and a
    /// risk stage built from `risk`, issuing client order ids from `ids`, as a pipeline
    /// started from the same config would.
    pub fn new(
        registry: Arc<InstrumentRegistry>,
        strategies: Vec<Box<dyn Strategy>>,
        risk: RiskSetup,
        ids: ClientOrderIdGen,
    ) -> Replayer {
        let routes = crate::stage::strategy_routes(registry.len(), &strategies);
        let halt = Arc::new(HaltSwitch::new());
        Replayer {
            enabled: vec![true; strategies.len()],
            strategies,
            routes,
            risk: RiskStage::with_setup(registry, Arc::clone(&halt), risk),
            sink: OrderSink::new(ids),
            halt,
            routed: 0,
        }
    }

    /// The risk stage (positions, open orders) as the replay left it.
    pub fn risk(&self) -> &RiskStage {
        &self.risk
    }

    /// Whether trading is halted in the replay.
    pub fn halted(&self) -> bool {
        self.halt.is_halted()
    }

    /// Intents emitted and not yet routed: the `ahead` of the next emit.
    fn pending(&self) -> usize {
        self.sink.intents().len() - self.routed
    }

    /// A tick, as `Core::on_tick` handles it.
    pub fn on_tick(&mut self, tick: &Tick, script: &mut dyn Script) {
        self.risk.on_tick(tick);
        if self.risk.take_cancel_all() {
            self.send_cancel_all(script);
        }
        if let Some(route) = self.routes.get(tick.instrument().index()) {
            for &i in route {
                if !self.enabled.get(usize::from(i)).copied().unwrap_or(false) {
                    continue;
                }
                let now = script.decision_time(self.pending());
                if let Some(s) = self.strategies.get_mut(usize::from(i)) {
                    self.sink.begin_at(StrategyId(i), tick.recv_ns(), now);
                    s.on_tick(tick, &mut self.sink);
                }
            }
        }
        self.route_intents(script);
        self.risk.settle();
    }

    /// An execution report, as `Core::on_exec` handles it.
    pub fn on_exec(&mut self, report: &ExecReport, script: &mut dyn Script) {
        self.risk.on_exec(report);
        if self.risk.take_cancel_all() {
            self.send_cancel_all(script);
        }
        let now = script.decision_time(self.pending());
        if let Some(s) = self.strategies.get_mut(usize::from(report.strategy.0)) {
            self.sink.begin_at(report.strategy, Nanos::ZERO, now);
            s.on_exec(report, &mut self.sink);
        }
        self.route_intents(script);
    }

    /// A journaled operator command, as `Core::apply` applied it. A command refused live
    /// changed nothing and is skipped.
    pub fn on_control(
        &mut self,
        record: &ControlRecord,
        script: &mut dyn Script,
    ) -> Result<(), ControlReplayError> {
        if record.accepted == 0 {
            return Ok(());
        }
        let text = record.text();
        let names: Vec<&str> = self.strategies.iter().map(|s| s.name()).collect();
        let command = parse_command(record.command, text, &names)
            .ok_or_else(|| ControlReplayError::Unparsed { text: text.to_owned() })?;
        let refused =
            |why: String| ControlReplayError::Refused { command: command.describe(), why };
        match &command {
            Command::Halt => self.halt.trip(HaltCause::Operator),
            Command::Resume => self.halt.resume(),
            Command::CancelAll => {
                let now = script.decision_time(self.pending());
                self.sink.begin_at(StrategyId(u16::MAX), Nanos::ZERO, now);
                if self.sink.cancel_all().is_none() {
                    return Err(refused("order sink full".into()));
                }
                self.route_intents(script);
            }
            Command::EnableStrategy { strategy, enabled } => {
                let i = self.find_strategy(strategy).map_err(refused)?;
                self.enabled[i] = *enabled;
            }
            Command::SetStrategyParam { strategy, name, value } => {
                let i = self.find_strategy(strategy).map_err(refused)?;
                self.strategies[i].set_param(name, *value).map_err(refused)?;
            }
            Command::SetRiskLimit { name, instrument, value } => {
                let id = match instrument {
                    Some(sym) => Some(
                        self.risk
                            .registry()
                            .iter()
                            .find(|i| &i.symbol == sym)
                            .map(|i| i.id)
                            .ok_or_else(|| refused(format!("unknown instrument {sym:?}")))?,
                    ),
                    None => None,
                };
                self.risk.set_limit(name, id, *value).map_err(refused)?;
                if self.risk.take_cancel_all() {
                    self.send_cancel_all(script);
                    self.route_intents(script);
                }
            }
        }
        Ok(())
    }

    /// A halt the engine made on its own account (a `halt` record).
    pub fn on_halt(&mut self, record: &ControlRecord) {
        let cause = if record.command == HaltCause::Shutdown as u8 {
            HaltCause::Shutdown
        } else {
            HaltCause::Operator
        };
        self.halt.trip(cause);
    }

    fn find_strategy(&self, name: &str) -> Result<usize, String> {
        self.strategies
            .iter()
            .position(|s| s.name() == name)
            .ok_or_else(|| format!("unknown strategy {name:?}"))
    }

    fn send_cancel_all(&mut self, script: &mut dyn Script) {
        let now = script.decision_time(self.pending());
        self.sink.begin_at(StrategyId(u16::MAX), Nanos::ZERO, now);
        let _ = self.sink.cancel_all();
    }

    fn route_intents(&mut self, script: &mut dyn Script) {
        while let Some(intent) = self.sink.intents().get(self.routed) {
            self.routed += 1;
            self.on_intent(intent, script);
        }
        self.sink.clear();
        self.routed = 0;
    }

    fn on_intent(&mut self, intent: OrderIntent, script: &mut dyn Script) {
        let now = script.decision_stamp();
        match self.risk.check(&intent, now) {
            Ok(order) => script.decided(Decision::Approved(*order.get())),
            Err(reason) => {
                let reject = RiskReject { intent, ts: now, reason, reserved: [0; 7] };
                script.decided(Decision::Rejected(reject));
                self.notify_reject(&intent, now, script);
            }
        }
    }

    fn notify_reject(&mut self, intent: &OrderIntent, now: Nanos, script: &mut dyn Script) {
        let report = ExecReport::unfilled(intent, ExecKind::Rejected, now);
        let at = script.decision_time(self.pending());
        let Some(s) = self.strategies.get_mut(usize::from(intent.strategy.0)) else { return };
        self.sink.begin_at(intent.strategy, Nanos::ZERO, at);
        s.on_exec(&report, &mut self.sink);
    }
}

/// The command a control record's text describes: the inverse of [`Command::describe`],
/// read from the text's first `" | "`-separated field. `names` are the configured
/// strategies (a strategy name may contain `.`, which `param` uses as its separator; the
/// longest name that fits wins).
pub fn parse_command(code: u8, text: &str, names: &[&str]) -> Option<Command> {
    // Without the separator the text may have been cut inside the command.
    let (what, _) = text.split_once(" | ")?;
    let command = match code {
        1 if what == "halt" => Command::Halt,
        2 if what == "resume" => Command::Resume,
        3 if what == "cancel-all" => Command::CancelAll,
        4 => {
            let (verb, strategy) = what.split_once(' ')?;
            let enabled = match verb {
                "enable" => true,
                "disable" => false,
                _ => return None,
            };
            Command::EnableStrategy { strategy: strategy.to_owned(), enabled }
        }
        5 => {
            let rest = what.strip_prefix("param ")?;
            let (strategy, tail) = names
                .iter()
                .filter_map(|n| rest.strip_prefix(n)?.strip_prefix('.').map(|t| (*n, t)))
                .max_by_key(|(n, _)| n.len())?;
            let (name, value) = tail.rsplit_once('=')?;
            Command::SetStrategyParam {
                strategy: strategy.to_owned(),
                name: name.to_owned(),
                value: value.parse::<Decimal>().ok()?,
            }
        }
        6 => {
            let rest = what.strip_prefix("limit ")?;
            let (lhs, value) = rest.rsplit_once('=')?;
            let value = value.parse::<Decimal>().ok()?;
            let (name, instrument) = match lhs.split_once('[') {
                Some((n, i)) => (n, Some(i.strip_suffix(']')?.to_owned())),
                None => (lhs, None),
            };
            Command::SetRiskLimit { name: name.to_owned(), instrument, value }
        }
        _ => return None,
    };
    // Anything describe() would not have written is not this command.
    (command.describe() == what).then_some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_inverts_describe() {
        let names = ["threshold-a", "mm.v2", "mm"];
        let commands = [
            Command::Halt,
            Command::Resume,
            Command::CancelAll,
            Command::EnableStrategy { strategy: "threshold-a".into(), enabled: false },
            Command::EnableStrategy { strategy: "mm.v2".into(), enabled: true },
            Command::SetStrategyParam {
                strategy: "mm.v2".into(),
                name: "spread".into(),
                value: "0.25".parse().unwrap(),
            },
            Command::SetRiskLimit {
                name: "max_order_qty".into(),
                instrument: Some("SYN-A".into()),
                value: "2.5".parse().unwrap(),
            },
            Command::SetRiskLimit { name: "kill_switch".into(), instrument: None, value: 1.into() },
        ];
        for c in commands {
            let text = format!("{} | admin 127.0.0.1:5 | ok: done", c.describe());
            assert_eq!(parse_command(c.code(), &text, &names), Some(c.clone()), "{text}");
            // Truncated before the separator: refused rather than guessed.
            assert_eq!(parse_command(c.code(), &c.describe(), &names), None);
        }
        assert_eq!(parse_command(2, "halt | x | ok", &names), None, "code and text disagree");
        assert_eq!(parse_command(9, "halt | x | ok", &names), None);
        assert_eq!(parse_command(5, "param nope.x=1 | x | ok", &names), None);
    }
}
