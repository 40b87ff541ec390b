//! The goals the project holds itself to (`bench/README.md`), checked round by round against
//! what a harness run measured.
//!
//! A goal is read per round, never across rounds: a ratio pairs runs that shared one state
//! of the host, and a host that is slow in one round and fast in the next would otherwise
//! pair its slow baseline with its fast pipeline. The report says in how many rounds each
//! goal held, and each round's figure, so a reader sees the spread instead of one verdict.

use super::{Contender, Layout, Measured, Phase};
use crate::pipeline::report::Report;

/// What a goal reads from a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// tickline's fused throughput-phase ticks/s; held at or above the target.
    FusedThroughput,
    /// A baseline's latency-phase p50 over tickline's fused p50; held at or above the target.
    P50Ratio(Contender),
    /// The most allocations per tick in any of tickline's runs; held at or below the target.
    AllocsPerTick,
}

/// One goal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Goal {
    /// As the report prints it.
    pub name: &'static str,
    /// What it reads.
    pub measure: Measure,
    /// The bound.
    pub target: f64,
}

/// The project's goals, with the journal on (`bench/README.md`).
pub const GOALS: [Goal; 4] = [
    Goal {
        name: "fused throughput ≥ 5 M ticks/s", measure: Measure::FusedThroughput, target: 5e6
    },
    Goal {
        name: "tick-to-order p50 ≥ 5× better than crossbeam-channel",
        measure: Measure::P50Ratio(Contender::CrossbeamChannel),
        target: 5.0,
    },
    Goal {
        name: "tick-to-order p50 ≥ 100× better than std-mpsc",
        measure: Measure::P50Ratio(Contender::StdMpsc),
        target: 100.0,
    },
    Goal { name: "0 allocations per tick", measure: Measure::AllocsPerTick, target: 0.0 },
];

/// One round's reading of a goal.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct RoundCheck {
    /// The round, from 1.
    pub round: u32,
    /// What the round measured (ticks/s, a ratio, allocations per tick).
    pub value: f64,
    /// Whether the goal held in it.
    pub held: bool,
}

/// A goal against every round that measured what it reads.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GoalCheck {
    /// The goal, as printed.
    pub goal: &'static str,
    /// What it reads (for formatting its rounds' figures).
    #[serde(skip)]
    pub measure: Measure,
    /// Its bound.
    pub target: f64,
    /// Rounds it held in.
    pub held: usize,
    /// Each round that measured it, in round order.
    pub rounds: Vec<RoundCheck>,
}

impl Goal {
    /// What round `round` of `report` measured for this goal; `None` when the round ran
    /// nothing it reads (the phase or the baseline was not asked for).
    pub fn read(&self, report: &Report, round: u32) -> Option<f64> {
        let in_round = |m: &&Measured| m.round == round;
        let fused = |m: &&Measured| m.contender == Contender::Tickline && m.layout == Layout::Fused;
        match self.measure {
            Measure::FusedThroughput => report
                .runs
                .iter()
                .filter(in_round)
                .find(|m| fused(m) && m.phase == Phase::Throughput)
                .map(|m| m.window.ticks_per_sec()),
            Measure::P50Ratio(baseline) => report
                .ratios()
                .into_iter()
                .find(|r| {
                    r.round == round
                        && r.phase == Phase::Latency
                        && r.layout == Layout::Fused
                        && r.baseline == baseline
                })
                .and_then(|r| r.p50),
            Measure::AllocsPerTick => report
                .runs
                .iter()
                .filter(in_round)
                .filter(|m| m.contender == Contender::Tickline)
                .map(|m| m.window.allocs_per_tick())
                .reduce(f64::max),
        }
    }

    /// Whether `value` meets this goal.
    pub fn holds(&self, value: f64) -> bool {
        match self.measure {
            Measure::FusedThroughput | Measure::P50Ratio(_) => value >= self.target,
            Measure::AllocsPerTick => value <= self.target,
        }
    }

    /// This goal over every round of `report`; `None` when no round measured it.
    pub fn check(&self, report: &Report) -> Option<GoalCheck> {
        let mut rounds: Vec<u32> = report.runs.iter().map(|m| m.round).collect();
        rounds.sort_unstable();
        rounds.dedup();
        let rounds: Vec<RoundCheck> = rounds
            .into_iter()
            .filter_map(|round| {
                let value = self.read(report, round)?;
                Some(RoundCheck { round, value, held: self.holds(value) })
            })
            .collect();
        if rounds.is_empty() {
            return None;
        }
        Some(GoalCheck {
            goal: self.name,
            measure: self.measure,
            target: self.target,
            held: rounds.iter().filter(|r| r.held).count(),
            rounds,
        })
    }
}

impl Measure {
    /// A round's value as the goals table prints it.
    pub fn format(self, value: f64) -> String {
        match self {
            Measure::FusedThroughput => format!("{:.2} M", value / 1e6),
            Measure::P50Ratio(_) => format!("{value:.1}×"),
            Measure::AllocsPerTick => super::report::fmt_per_tick(value),
        }
    }
}

/// Every goal some round of `report` measured.
pub fn check_all(report: &Report) -> Vec<GoalCheck> {
    GOALS.iter().filter_map(|g| g.check(report)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::report::tests::run;
    use crate::pipeline::HarnessConfig;

    /// One round: tickline and both baselines in the latency phase, tickline in the
    /// throughput phase.
    fn round(r: u32, ours_p50: u64, mpsc_p50: u64, ticks_per_sec: u64) -> Vec<Measured> {
        vec![
            run(r, Contender::Tickline, Phase::Latency, ours_p50, 1000),
            run(r, Contender::CrossbeamChannel, Phase::Latency, 1500, 1000),
            run(r, Contender::StdMpsc, Phase::Latency, mpsc_p50, 1000),
            run(r, Contender::Tickline, Phase::Throughput, 100, ticks_per_sec),
        ]
    }

    fn report(runs: Vec<Measured>, journal: bool) -> Report {
        let mut cfg = HarnessConfig::new().unwrap();
        cfg.rounds = runs.iter().map(|m| m.round).max().unwrap_or(1);
        cfg.journal = journal;
        Report::new(&cfg, runs)
    }

    fn find(checks: &[GoalCheck], measure: Measure) -> &GoalCheck {
        checks.iter().find(|c| c.measure == measure).unwrap()
    }

    #[test]
    fn each_goal_is_read_round_by_round() {
        // Round 1 meets every goal; round 2 misses 100× std-mpsc (1,000 / 20 = 50×) and the
        // throughput (4 M); round 3 allocates in its latency run.
        let mut runs = round(1, 10, 1200, 6_000_000);
        runs.extend(round(2, 20, 1000, 4_000_000));
        let mut third = round(3, 10, 1100, 7_000_000);
        third[0].window.allocs = 5;
        runs.extend(third);
        let r = report(runs, true);
        let checks = check_all(&r);
        assert_eq!(checks.len(), 4, "{checks:?}");

        let tp = find(&checks, Measure::FusedThroughput);
        assert_eq!(tp.held, 2);
        let held: Vec<(u32, bool)> = tp.rounds.iter().map(|x| (x.round, x.held)).collect();
        assert_eq!(held, [(1, true), (2, false), (3, true)]);

        let cb = find(&checks, Measure::P50Ratio(Contender::CrossbeamChannel));
        let values: Vec<f64> = cb.rounds.iter().map(|x| x.value).collect();
        assert_eq!(values, [150.0, 75.0, 150.0]);
        assert_eq!(cb.held, 3);

        let mpsc = find(&checks, Measure::P50Ratio(Contender::StdMpsc));
        let values: Vec<f64> = mpsc.rounds.iter().map(|x| x.value).collect();
        assert_eq!(values, [120.0, 50.0, 110.0]);
        assert_eq!(mpsc.held, 2);

        let allocs = find(&checks, Measure::AllocsPerTick);
        assert_eq!(allocs.rounds[2].value, 0.005);
        assert_eq!(allocs.held, 2);

        let table = r.table();
        assert!(
            table.contains(
                "| tick-to-order p50 ≥ 100× better than std-mpsc | 2 of 3 | 1: 120.0×, 2: 50.0× (missed), 3: 110.0× |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| fused throughput ≥ 5 M ticks/s | 2 of 3 | 1: 6.00 M, 2: 4.00 M (missed), 3: 7.00 M |"),
            "{table}"
        );
        assert!(!table.contains("these ran with it off"), "{table}");
        assert!(
            table.contains("| 0 allocations per tick | 2 of 3 | 1: 0, 2: 0, 3: 5.00e-3 (missed) |"),
            "{table}"
        );
        let json = r.to_json();
        assert_eq!(json["goals"].as_array().map(Vec::len), Some(4), "{json}");
        assert_eq!(json["goals"][2]["held"], 2, "{json}");
    }

    #[test]
    fn the_exact_bound_holds_and_a_goal_nothing_measured_is_left_out() {
        // Exactly 100× and exactly 5 M/s meet their goals; no crossbeam run, so its goal
        // has no row.
        let runs = vec![
            run(1, Contender::Tickline, Phase::Latency, 10, 1000),
            run(1, Contender::StdMpsc, Phase::Latency, 1000, 1000),
            run(1, Contender::Tickline, Phase::Throughput, 100, 5_000_000),
        ];
        let r = report(runs, false);
        let checks = check_all(&r);
        let names: Vec<&str> = checks.iter().map(|c| c.goal).collect();
        assert_eq!(
            names,
            [
                "fused throughput ≥ 5 M ticks/s",
                "tick-to-order p50 ≥ 100× better than std-mpsc",
                "0 allocations per tick"
            ]
        );
        assert!(checks.iter().all(|c| c.held == 1), "{checks:?}");
        assert!(r.table().contains("with the journal on; these ran with it off"));
    }

    #[test]
    fn a_report_without_tickline_runs_has_no_goals() {
        let r = report(vec![run(1, Contender::StdMpsc, Phase::Latency, 1000, 1000)], true);
        assert!(check_all(&r).is_empty());
        assert!(!r.table().contains("| goal |"));
    }
}
