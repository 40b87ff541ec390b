//! `tickline replay --journal DIR`: re-run a journal's recorded inputs through the same
//! strategy and risk code and check that every decision (approved order, risk reject) comes
//! out identical, bit for bit, to the recorded one.
//!
//! For each session in the journal (a `config` record followed by a `session` record) it
//! rebuilds the strategies and the risk stage from the recorded config, starts the client
//! order ids where the session did, and feeds a single-threaded
//! [`Replayer`](tickline_engine::runtime::replay::Replayer) the session's ticks, execution
//! reports, operator commands and engine halts in recorded order. The clock readings a live
//! strategy thread takes (decision, approval and reject times) are inputs too: the replay
//! reads them from the recorded decisions, so equal inputs must give equal bytes.
//!
//! Records are read once, in order. A tick's or report's decisions follow it in the journal;
//! an operator command's precede it (the command is journaled once applied), so the replay
//! holds the decisions it reads in a queue and matches each input against the head of it.
//! The first difference (a changed field, a decision the journal has and the replay did not
//! make, or the reverse) stops the replay: exit status 1. A journal that cannot be read, or
//! that holds a record this build does not know, is an error: exit status 2.
//!
//! ```text
//! tickline run --journal target/journal --duration 2s
//! tickline replay --journal target/journal
//! ```

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use tickline_engine::record::{ControlRecord, Record, RecordBody, RecordKind};
use tickline_engine::risk::RiskSetup;
use tickline_engine::runtime::replay::{Decision, Replayer, Script};
use tickline_engine::types::{ExecReport, Nanos, Order, OrderIntent, Tick};
use tickline_journal::{list_segments, Reader};

use crate::config::Config;
use crate::journal_cmd::progress::Progress;
use crate::journal_sink::{parse_config_record, parse_session_record, ConfigRecord, SessionRecord};

/// What a replay found.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReplayReport {
    /// Sessions replayed.
    pub sessions: u64,
    /// Records read.
    pub records: u64,
    /// Records before the first session start (pruned history): not replayed.
    pub skipped: u64,
    /// Ticks fed.
    pub ticks: u64,
    /// Execution reports fed.
    pub exec_reports: u64,
    /// Operator commands applied.
    pub control: u64,
    /// Engine halts applied.
    pub halts: u64,
    /// Recorded approved orders matched.
    pub approved: u64,
    /// Recorded risk rejects matched.
    pub rejected: u64,
    /// The first difference, if any.
    pub first_difference: Option<Difference>,
}

impl ReplayReport {
    /// Decisions that came out identical.
    pub fn identical(&self) -> u64 {
        self.approved + self.rejected
    }
}

/// The first place the replay disagrees with the journal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    /// Sequence of the recorded decision compared (or, for a decision the journal lacks, of
    /// the input that led to it).
    pub seq: u64,
    /// Sequence of the input being replayed.
    pub input_seq: u64,
    /// The field that differs (`intent.price`, `approved_ns`, `decision`...).
    pub field: String,
    /// The recorded value.
    pub recorded: String,
    /// The replayed value.
    pub replayed: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "seq {} (replaying input seq {}): {}: recorded {}, replayed {}",
            self.seq, self.input_seq, self.field, self.recorded, self.replayed
        )
    }
}

/// Runs `tickline replay --journal DIR`; returns the exit status (0 identical, 1 a
/// difference).
pub fn run(dir: &Path, json: bool, progress: bool) -> anyhow::Result<u8> {
    let report = replay(dir, progress).map_err(|e| crate::journal_cmd::one_line(&e))?;
    if json {
        let mut v = serde_json::to_value(&report)?;
        v["journal"] = dir.display().to_string().into();
        v["identical"] = report.first_difference.is_none().into();
        v["orders_identical"] = report.identical().into();
        println!("{v}");
    } else {
        println!(
            "journal {}: {} session(s), {} records ({} ticks, {} exec reports, {} control, {} halts{})",
            dir.display(),
            report.sessions,
            report.records,
            report.ticks,
            report.exec_reports,
            report.control,
            report.halts,
            if report.skipped > 0 {
                format!("; {} before the first session start skipped", report.skipped)
            } else {
                String::new()
            }
        );
        match &report.first_difference {
            None => println!(
                "replay: {} orders identical ({} approved, {} rejected)",
                report.identical(),
                report.approved,
                report.rejected
            ),
            Some(d) => {
                println!("replay: DIFFERENCE after {} identical orders: {d}", report.identical())
            }
        }
    }
    Ok(if report.first_difference.is_none() { 0 } else { 1 })
}

/// A recorded decision waiting to be compared.
#[derive(Debug)]
struct Recorded {
    seq: u64,
    ts: i64,
    kind: RecordKind,
    payload: Vec<u8>,
    decision: Decision,
}

/// The [`Script`]: recorded decisions in, replayed decisions compared.
#[derive(Debug, Default)]
struct Checker {
    pending: VecDeque<Recorded>,
    /// Time for decisions the journal does not have (they are a difference anyway).
    fallback: Nanos,
    input_seq: u64,
    approved: u64,
    rejected: u64,
    diff: Option<Difference>,
}

impl Script for Checker {
    fn decision_time(&self, ahead: usize) -> Nanos {
        self.pending
            .get(ahead)
            .map(|r| r.decision.intent().decided_ns)
            .filter(|t| *t != Nanos::ZERO)
            .unwrap_or(self.fallback)
    }

    fn decision_stamp(&self) -> Nanos {
        self.pending.front().map_or(self.fallback, |r| r.decision.stamp())
    }

    fn decided(&mut self, replayed: Decision) {
        if self.diff.is_some() {
            return;
        }
        let Some(rec) = self.pending.pop_front() else {
            self.diff = Some(Difference {
                seq: self.input_seq,
                input_seq: self.input_seq,
                field: "decision".into(),
                recorded: "nothing".into(),
                replayed: describe(&replayed),
            });
            return;
        };
        let r = replayed.record();
        if r.kind == rec.kind && r.ts.0 == rec.ts && r.payload() == rec.payload.as_slice() {
            match rec.kind {
                RecordKind::Approved => self.approved += 1,
                _ => self.rejected += 1,
            }
            return;
        }
        let (field, recorded, replayed_v) = first_field_difference(&rec, &replayed, &r);
        self.diff = Some(Difference {
            seq: rec.seq,
            input_seq: self.input_seq,
            field,
            recorded,
            replayed: replayed_v,
        });
    }
}

impl Checker {
    /// Every recorded decision up to here must have been made.
    fn expect_drained(&mut self) {
        if self.diff.is_some() {
            return;
        }
        if let Some(rec) = self.pending.front() {
            self.diff = Some(Difference {
                seq: rec.seq,
                input_seq: self.input_seq,
                field: "decision".into(),
                recorded: describe(&rec.decision),
                replayed: "nothing".into(),
            });
        }
    }
}

fn describe(d: &Decision) -> String {
    let i = d.intent();
    match d {
        Decision::Approved(_) => format!(
            "approved {:?} {:?} client id {} (instrument {}, price {}, qty {})",
            i.action,
            i.side,
            i.client_id.0,
            i.instrument.0,
            i.price.raw(),
            i.qty.raw()
        ),
        Decision::Rejected(r) => format!(
            "rejected ({}) {:?} {:?} client id {} (instrument {}, price {}, qty {})",
            r.reason.as_str(),
            i.action,
            i.side,
            i.client_id.0,
            i.instrument.0,
            i.price.raw(),
            i.qty.raw()
        ),
    }
}

fn intent_fields(i: &OrderIntent) -> Vec<(&'static str, String)> {
    vec![
        ("intent.decided_ns", i.decided_ns.0.to_string()),
        ("intent.tick_recv_ns", i.tick_recv_ns.0.to_string()),
        ("intent.client_id", i.client_id.0.to_string()),
        ("intent.target", i.target.0.to_string()),
        ("intent.price", i.price.raw().to_string()),
        ("intent.qty", i.qty.raw().to_string()),
        ("intent.instrument", i.instrument.0.to_string()),
        ("intent.strategy", i.strategy.0.to_string()),
        ("intent.action", format!("{:?}", i.action)),
        ("intent.side", format!("{:?}", i.side)),
        ("intent.ord_type", format!("{:?}", i.ord_type)),
        ("intent.tif", format!("{:?}", i.tif)),
        ("intent.reserved", format!("{:?}", i.reserved)),
    ]
}

fn fields(d: &Decision) -> Vec<(&'static str, String)> {
    match d {
        Decision::Approved(Order { intent, approved_ns }) => {
            let mut v = intent_fields(intent);
            v.push(("approved_ns", approved_ns.0.to_string()));
            v
        }
        Decision::Rejected(r) => {
            let mut v = intent_fields(&r.intent);
            v.push(("ts", r.ts.0.to_string()));
            v.push(("reason", r.reason.as_str().to_owned()));
            v.push(("reserved", format!("{:?}", r.reserved)));
            v
        }
    }
}

fn first_field_difference(
    rec: &Recorded,
    replayed: &Decision,
    r: &Record,
) -> (String, String, String) {
    if std::mem::discriminant(&rec.decision) != std::mem::discriminant(replayed) {
        return ("decision".into(), describe(&rec.decision), describe(replayed));
    }
    for ((name, a), (_, b)) in fields(&rec.decision).into_iter().zip(fields(replayed)) {
        if a != b {
            return (name.into(), a, b);
        }
    }
    if r.ts.0 != rec.ts {
        return ("record timestamp".into(), rec.ts.to_string(), r.ts.0.to_string());
    }
    ("payload bytes".into(), hex(&rec.payload), hex(r.payload()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A tick or report waiting for the decisions that follow it in the journal.
#[derive(Debug)]
enum Input {
    Tick(u64, Tick),
    Exec(u64, i64, ExecReport),
}

/// Replays every session of the journal in `dir`.
pub fn replay(dir: &Path, show_progress: bool) -> anyhow::Result<ReplayReport> {
    let segments = list_segments(dir)?;
    let first = segments.iter().find_map(|s| s.first_seq).unwrap_or(0);
    let last = segments.iter().rev().find_map(|s| s.last_seq);
    let total = last.map_or(0, |l| l + 1 - first);
    let mut progress = Progress::new("replay", "records", total, show_progress);

    let mut report = ReplayReport::default();
    let mut checker = Checker::default();
    let mut replayer: Option<Replayer> = None;
    let mut config: Option<(u64, ConfigRecord)> = None;
    let mut deferred: Option<Input> = None;
    let mut reader = Reader::open(dir)?;
    loop {
        let Some(rec) = reader.next_record().with_context(|| {
            format!("reading journal {} (stopped at the first bad record)", dir.display())
        })?
        else {
            break;
        };
        report.records += 1;
        if report.records % 65_536 == 0 {
            progress.update(report.records);
        }
        let (seq, ts) = (rec.seq, rec.ts_ns);
        let Some(kind) = RecordKind::from_u16(rec.kind) else {
            bail!(
                "record seq {seq} has type {} which this build does not know; replay it with \
                 the tickline that wrote it",
                rec.kind
            );
        };
        let body = || {
            Record::decode(kind, rec.payload).with_context(|| {
                format!(
                    "record seq {seq} ({}, {} bytes) does not decode; run `tickline journal verify`",
                    kind.as_str(),
                    rec.payload.len()
                )
            })
        };
        if replayer.is_none() && !matches!(kind, RecordKind::Config | RecordKind::Session) {
            report.skipped += 1;
            continue;
        }
        match kind {
            RecordKind::Approved | RecordKind::Rejected => {
                let decision = match body()? {
                    RecordBody::Approved(o) => Decision::Approved(o),
                    RecordBody::Rejected(r) => Decision::Rejected(r),
                    _ => unreachable!("decode returns the kind asked for"),
                };
                checker.pending.push_back(Recorded {
                    seq,
                    ts,
                    kind,
                    payload: rec.payload.to_vec(),
                    decision,
                });
            }
            RecordKind::Tick | RecordKind::Exec => {
                let input = match body()? {
                    RecordBody::Tick(t) => Input::Tick(seq, t),
                    RecordBody::Exec(e) => Input::Exec(seq, ts, e),
                    _ => unreachable!("decode returns the kind asked for"),
                };
                flush(&mut replayer, &mut deferred, &mut checker, &mut report);
                checker.expect_drained();
                deferred = Some(input);
            }
            RecordKind::Control => {
                let RecordBody::Control(c) = body()? else { unreachable!() };
                flush(&mut replayer, &mut deferred, &mut checker, &mut report);
                control(&mut replayer, seq, ts, &c, &mut checker)?;
                report.control += 1;
                checker.expect_drained();
            }
            RecordKind::Halt => {
                let RecordBody::Halt(c) = body()? else { unreachable!() };
                flush(&mut replayer, &mut deferred, &mut checker, &mut report);
                checker.expect_drained();
                if let Some(r) = replayer.as_mut() {
                    r.on_halt(&c);
                }
                report.halts += 1;
            }
            RecordKind::Config => {
                flush(&mut replayer, &mut deferred, &mut checker, &mut report);
                checker.expect_drained();
                let c = parse_config_record(rec.payload)
                    .with_context(|| format!("config record seq {seq}"))?;
                config = Some((seq, c));
                replayer = None;
            }
            RecordKind::Session => {
                let Some((cseq, c)) = config.take() else {
                    // A session start whose config was pruned away: skip to the next one.
                    report.skipped += 1;
                    continue;
                };
                let s = parse_session_record(rec.payload)
                    .with_context(|| format!("session record seq {seq}"))?;
                replayer = Some(session_replayer(&c, &s).with_context(|| {
                    format!("rebuilding the session of config record seq {cseq}")
                })?);
                report.sessions += 1;
            }
            // A live pipeline does not journal intents on their own (the decision carries
            // them), and a venue's sequence numbers are not an input: nothing to replay.
            RecordKind::Intent | RecordKind::VenueSeq => {}
        }
        if checker.diff.is_some() {
            break;
        }
    }
    if checker.diff.is_none() {
        flush(&mut replayer, &mut deferred, &mut checker, &mut report);
        checker.expect_drained();
    }
    progress.finish(report.records);
    report.approved = checker.approved;
    report.rejected = checker.rejected;
    report.first_difference = checker.diff;
    Ok(report)
}

/// Feeds the deferred tick or report, with the decisions read since.
fn flush(
    replayer: &mut Option<Replayer>,
    deferred: &mut Option<Input>,
    checker: &mut Checker,
    report: &mut ReplayReport,
) {
    let (Some(r), Some(input)) = (replayer.as_mut(), deferred.take()) else { return };
    match input {
        Input::Tick(seq, t) => {
            checker.input_seq = seq;
            checker.fallback = nonzero(t.recv_ns());
            r.on_tick(&t, checker);
            report.ticks += 1;
        }
        Input::Exec(seq, ts, e) => {
            checker.input_seq = seq;
            checker.fallback = nonzero(Nanos(ts));
            r.on_exec(&e, checker);
            report.exec_reports += 1;
        }
    }
}

fn control(
    replayer: &mut Option<Replayer>,
    seq: u64,
    ts: i64,
    c: &ControlRecord,
    checker: &mut Checker,
) -> anyhow::Result<()> {
    let Some(r) = replayer.as_mut() else { return Ok(()) };
    checker.input_seq = seq;
    checker.fallback = nonzero(Nanos(ts));
    r.on_control(c, checker).with_context(|| format!("control record seq {seq}"))
}

fn nonzero(t: Nanos) -> Nanos {
    if t == Nanos::ZERO {
        Nanos(1)
    } else {
        t
    }
}

/// The strategies and risk stage the recorded config builds, as `tickline run` builds them
/// (`wiring::strategy`, `[risk]` resolved against the registry, seeded with what the session
/// restored). What only matters on the host that ran it (layout, admin port, journal) is set
/// aside first, so a journal replays on any machine.
fn session_replayer(c: &ConfigRecord, s: &SessionRecord) -> anyhow::Result<Replayer> {
    let ids = s.order_ids();
    let mut config: Config =
        toml::from_str(&c.config).context("the recorded config does not parse")?;
    config.layout = Default::default();
    config.admin = Default::default();
    config.journal = Default::default();
    config.run = Default::default();
    let text = toml::to_string(&config)?;
    let loaded = Config::parse(&text, &format!("recorded config ({})", c.origin))?;
    let registry = Arc::new(loaded.registry.clone());
    let strategies = loaded
        .config
        .strategies
        .iter()
        .enumerate()
        .map(|(i, s)| crate::wiring::strategy(i, s, &registry))
        .collect::<Result<Vec<_>, _>>()?;
    let limits = loaded.config.risk.resolve(&registry)?;
    let names: Vec<String> = loaded.config.strategies.iter().map(|s| s.name().to_owned()).collect();
    let seed = match &s.restored {
        Some(r) => r.to_seed(&registry, &names).context("the session's restored state")?,
        None => Default::default(),
    };
    Ok(Replayer::new(registry, strategies, RiskSetup::new(limits).with_seed(seed), ids))
}
