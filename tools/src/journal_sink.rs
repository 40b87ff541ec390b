//! The journal in `tickline run`: the `[journal]` config section, the [`RecordSink`] that
//! appends the recorder thread's records to a [`Writer`], and what happens at start-up
//! (recovery, restoring the previous session's state, the config and session records).
//!
//! At start-up [`open_for_run`] opens the journal (a second writer is refused), lets the
//! writer recover a torn tail, and restores what the previous session left:
//!
//! - **Client order ids**: it finds the last id the journal holds and resumes after it when
//!   the clock alone would not give larger ids.
//! - **Positions and open orders**: it reads the last session (from its `session` record to
//!   the end) and rebuilds its end state with the risk stage's own rules
//!   ([`SeedBuilder`]): that session's start (the `restored` of its session record), then its
//!   ticks (marks), approvals and execution reports. The risk stage starts from the result
//!   ([`StartState`], passed to [`crate::wiring::build_with_probes`]): positions with cost,
//!   realized PnL, fees and mark, and the open orders it counts against its limits. The loss
//!   limits measure from the restored net PnL (a restart re-bases the daily loss and the
//!   drawdown, as it clears a halt).
//! - **Open orders, by venue**: the instant and sim venues live in the process, so their
//!   orders died with it: orders the previous session left open there are counted as
//!   cancelled (`orders_dropped`, logged), never resurrected. A FIX venue keeps them: when
//!   this session runs the same FIX session (venue name and CompIDs) they stay open, risk
//!   counts them and the gateway tracks them, so the venue's reports on them are applied; with
//!   `cancel_on_disconnect` (the default) the gateway cancels them once the first Logon
//!   completes. On any other venue they are dropped with a warning: they may still be live
//!   where they were sent. A replace or cancel still unanswered at the end keeps the original
//!   order (its outcome is the venue's to say) and is logged.
//! - **FIX sequence numbers**: the gateway's sequence file stays the primary store (written
//!   ahead of every send). The journal holds a copy: the numbers each session started from
//!   (`fix_seqs` of its session record) and a `venue_seq` record whenever the recorder commits
//!   after they moved ([`JournalSink`]). At start the larger of the file and the journal's
//!   last checkpoint for the same CompIDs is taken (the file rewritten to it); a file behind
//!   the journal (lost, reset, replaced) is a warning. The checkpoint trails the file by the
//!   messages since the recorder's last idle commit, so a file ahead of it is normal.
//!
//! A position or open order on an instrument this config no longer has (or has at other
//! scales) stops the start with an error naming it; a damaged journal stops it with an error
//! naming the segment file and record. Then it appends two records before the pipeline
//! starts:
//!
//! - `config` (kind 8): the effective config as TOML, with where it came from;
//! - `session` (kind 9): process, start time, the first client order id, the recovery, what
//!   was restored and the FIX sequence numbers.
//!
//! Both payloads are JSON ([`ConfigRecord`], [`SessionRecord`]). `tickline replay --journal`
//! rebuilds strategies and risk from the first, the id generator and the risk stage's
//! starting state from the second. Strategies start without memory of the previous session:
//! risk holds the restored positions, a strategy learns of them only through later reports.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rust_decimal::Decimal;
use tickline_engine::position::Position;
use tickline_engine::record::{Record, RecordBody, RecordKind, RecordSink, VenueSeqRecord};
use tickline_engine::risk::{Rebuilt, RiskSeed, SeedBuilder, SeedOrder};
use tickline_engine::types::{
    ClientOrderId, ClientOrderIdGen, Clock, InstrumentId, InstrumentRegistry, OrdType, Px, Qty,
    Scale, Side, StrategyId, TimeInForce,
};
use tickline_gateway::config::FixSettings;
use tickline_gateway::venue::fix::seq_store::{self, SeqStore, SeqWatch};
use tickline_journal::config::DEFAULT_SEGMENT_SIZE;
use tickline_journal::format::frame_len;
use tickline_journal::{
    list_segments, CommitWatch, Durability, JournalConfig, Reader, RecoveryPolicy, SegmentInfo,
    Start, Writer,
};

use crate::config::{Config, GatewayConfig, Loaded};
use crate::journal_probe::JournalProbe;

/// Version of the `config` and `session` record payloads.
pub const RECORD_FORMAT: u32 = 1;

/// `[journal]`: whether and where `tickline run` records, and how durably.
///
/// The writer settings are [`JournalConfig`]'s, with the same names and defaults.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSection {
    /// Record every event the strategy thread handles. Default `false` (no `[journal]`
    /// table records nothing).
    #[serde(default)]
    pub enabled: bool,
    /// Journal directory, created if missing; a relative path is relative to the working
    /// directory. One writer at a time. Default `target/journal`.
    #[serde(default = "JournalSection::default_dir")]
    pub dir: PathBuf,
    /// Segment file size in bytes: a multiple of 4096 from 64 KiB to 1 GiB. Default 64 MiB.
    #[serde(default = "JournalSection::default_segment_size")]
    pub segment_size: u64,
    /// When a record counts as committed: `{ mode = "page_cache" }`, `{ mode = "periodic",
    /// interval_ms = N }` or `{ mode = "batch" }` (msync each time the recorder goes idle).
    /// Default periodic, 10 ms.
    #[serde(default)]
    pub durability: Durability,
    /// Touch the next segment's pages before the writer needs them. Default `true`.
    #[serde(default = "JournalSection::default_pretouch")]
    pub pretouch: bool,
    /// What recovery may cut off at start: `truncate_torn_tail` (default) or
    /// `truncate_corrupt`.
    #[serde(default)]
    pub recovery: RecoveryPolicy,
}

impl Default for JournalSection {
    fn default() -> Self {
        JournalSection {
            enabled: false,
            dir: Self::default_dir(),
            segment_size: Self::default_segment_size(),
            durability: Durability::default(),
            pretouch: Self::default_pretouch(),
            recovery: RecoveryPolicy::default(),
        }
    }
}

impl JournalSection {
    fn default_dir() -> PathBuf {
        PathBuf::from("target/journal")
    }
    fn default_segment_size() -> u64 {
        DEFAULT_SEGMENT_SIZE
    }
    fn default_pretouch() -> bool {
        true
    }

    /// The writer's configuration.
    pub fn writer_config(&self) -> JournalConfig {
        JournalConfig {
            dir: self.dir.clone(),
            segment_size: self.segment_size,
            durability: self.durability,
            pretouch: self.pretouch,
            recovery: self.recovery,
        }
    }

    /// Checks the writer settings (whether or not journaling is enabled), naming the key.
    pub fn validate(&self) -> Result<(), tickline_engine::config::ConfigError> {
        self.writer_config().validate().map_err(|e| match e {
            tickline_journal::Error::Config { key, problem } => {
                tickline_engine::config::ConfigError::new(format!("journal.{key}"), problem)
            }
            other => tickline_engine::config::ConfigError::new("journal", other.to_string()),
        })
    }
}

/// Payload of a `config` record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ConfigRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// Where the config came from (a file, or "embedded default").
    pub origin: String,
    /// The effective config (command-line overrides applied), as TOML.
    pub config: String,
}

/// Payload of a `session` record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct SessionRecord {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// `tickline` version that wrote it.
    pub version: String,
    /// Process id.
    pub pid: u32,
    /// Session start, ns since the epoch.
    pub started_ns: i64,
    /// The first client order id the session issues (a replay starts its generator here).
    pub first_client_id: u64,
    /// The last client order id found in the journal at start-up, when the session resumed
    /// the counter after it (a restart within the second of the previous session's start).
    pub resumed_after: Option<u64>,
    /// Bytes recovery cut off the journal's tail at start-up (a crash mid-append), if any.
    pub truncated_bytes: Option<u64>,
    /// What start-up restored from the previous session (positions, open orders kept and
    /// dropped); absent for a journal's first session, and in journals written before
    /// restore existed (those sessions started flat).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<Restored>,
    /// The FIX sequence numbers the session started from and where they came from; absent
    /// unless the gateway is FIX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_seqs: Option<FixSeqs>,
}

/// What a session took over from the one before it (the `restored` of its `session`
/// record). Values are exact: raw integers at the instrument's scales, as the risk stage
/// holds them (money at `price_scale + qty_scale` places).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct Restored {
    /// Sequence of the previous session's `session` record.
    pub from_session: u64,
    /// Records of the previous session read to rebuild its end state.
    pub records: u64,
    /// Positions (and last marks) at the end of the previous session.
    pub positions: Vec<RestoredPosition>,
    /// Orders the previous session left open that may still be live at the venue (FIX): risk
    /// counts them and the gateway tracks them from the start.
    pub open_orders: Vec<RestoredOrder>,
    /// Client order ids of orders the previous session left open on a venue that keeps no
    /// orders across a restart (instant, sim) or on a venue this session does not use:
    /// counted as cancelled, not resurrected.
    pub orders_dropped: Vec<u64>,
}

/// One instrument's position as restored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct RestoredPosition {
    /// Symbol.
    pub symbol: String,
    /// Venue.
    pub venue: String,
    /// Decimal places of prices.
    pub price_scale: u8,
    /// Decimal places of quantities.
    pub qty_scale: u8,
    /// Signed quantity, raw.
    pub qty: i64,
    /// Cost basis of the open quantity, raw at the notional scale.
    pub cost: i128,
    /// Realized PnL before fees, raw at the notional scale.
    pub realized: i128,
    /// Fees paid, raw at the notional scale.
    pub fees: i128,
    /// Last mark price, raw.
    pub mark: i64,
    /// Fills applied since the journal's first session.
    pub fills: u64,
}

/// One open order as restored.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct RestoredOrder {
    /// Client order id.
    pub id: u64,
    /// Symbol.
    pub symbol: String,
    /// Venue.
    pub venue: String,
    /// Decimal places of prices.
    pub price_scale: u8,
    /// Decimal places of quantities.
    pub qty_scale: u8,
    /// Name of the strategy that sent it.
    pub strategy: String,
    /// `buy` or `sell`.
    pub side: String,
    /// `limit` or `market`.
    pub ord_type: String,
    /// `gtc`, `ioc`, `fok` or `post_only`.
    pub tif: String,
    /// Limit price, raw.
    pub price: i64,
    /// Order quantity, raw.
    pub qty: i64,
    /// Filled so far as the venue last reported, raw.
    pub cum: i64,
    /// Quantity risk reserves for it, raw.
    pub leaves: i64,
}

/// A FIX session's sequence numbers at a session start (the `fix_seqs` of its `session`
/// record).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct FixSeqs {
    /// Our `SenderCompID`.
    pub sender_comp_id: String,
    /// The venue's `CompID`.
    pub target_comp_id: String,
    /// The gateway's sequence file.
    pub seq_file: String,
    /// Next outbound sequence number the session starts from.
    pub next_out: u64,
    /// Next inbound sequence number it expects.
    pub next_in: u64,
    /// What the sequence file held at start (`[out, in]`); absent when there was no file.
    pub file: Option<[u64; 2]>,
    /// The journal's last checkpoint for the same `SenderCompID`/`TargetCompID`; absent when
    /// the previous session did not run that FIX session.
    pub journal: Option<[u64; 2]>,
}

impl SessionRecord {
    /// A generator that issues [`SessionRecord::first_client_id`] first.
    pub fn order_ids(&self) -> ClientOrderIdGen {
        generator_starting_at(ClientOrderId(self.first_client_id))
    }
}

/// A generator whose first id is `first`.
pub fn generator_starting_at(first: ClientOrderId) -> ClientOrderIdGen {
    // `resume_after(x)` keeps x's high half and counts on from its low half + 1.
    let base = first.0 & !0xffff_ffff;
    let low = (first.0 as u32).wrapping_sub(1);
    ClientOrderIdGen::resume_after(ClientOrderId(base | u64::from(low)))
}

/// The recorder thread's sink: appends each record to the journal, commits when idle, and
/// closes the writer (a last msync, errors logged) when the recorder thread lets go of it.
/// With a FIX gateway it also checkpoints the session's sequence numbers (a `venue_seq`
/// record) at each idle commit after they moved.
#[derive(Debug)]
pub struct JournalSink {
    /// `None` only once dropped.
    writer: Option<Writer>,
    /// The FIX gateway's sequence numbers, when it is one.
    seqs: Option<SeqCheckpoint>,
    /// What the admin port reads.
    probe: Arc<JournalProbe>,
}

/// The FIX gateway's sequence numbers and the last ones journaled.
#[derive(Debug)]
struct SeqCheckpoint {
    watch: Arc<SeqWatch>,
    last: Option<(u64, u64)>,
}

impl JournalSink {
    fn closed() -> std::io::Error {
        std::io::Error::other("journal writer already closed")
    }

    /// Journals the FIX sequence numbers if they moved since the last checkpoint.
    fn checkpoint_seqs(&mut self) -> std::io::Result<()> {
        let (Some(w), Some(SeqCheckpoint { watch, last })) =
            (self.writer.as_mut(), self.seqs.as_mut())
        else {
            return Ok(());
        };
        let Some(now) = watch.get().filter(|n| Some(*n) != *last) else { return Ok(()) };
        let r =
            Record::venue_seq(Clock::now(), &VenueSeqRecord { next_out: now.0, next_in: now.1 });
        w.append(r.kind as u16, r.ts.0, r.payload()).map_err(std::io::Error::other)?;
        self.probe.appended(r.payload().len(), r.ts.0);
        *last = Some(now);
        Ok(())
    }
}

impl RecordSink for JournalSink {
    #[inline]
    fn record(&mut self, record: &Record) -> std::io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(Self::closed)?;
        let payload = record.payload();
        match w.append(record.kind as u16, record.ts.0, payload) {
            Ok(_) => {
                self.probe.appended(payload.len(), record.ts.0);
                Ok(())
            }
            Err(e) => {
                self.probe.failed();
                Err(std::io::Error::other(e))
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.checkpoint_seqs().and_then(|()| {
            let w = self.writer.as_mut().ok_or_else(Self::closed)?;
            w.commit().map_err(std::io::Error::other)?;
            // A failed background msync stops the committed sequence for good.
            Ok(w.background_error().is_none())
        });
        match r {
            Ok(true) => self.probe.committed(),
            Ok(false) | Err(_) => self.probe.failed(),
        }
        r.map(drop)
    }

    fn helper_threads(&self) -> Vec<i32> {
        self.writer.as_ref().map(|w| w.background_threads().to_vec()).unwrap_or_default()
    }
}

impl Drop for JournalSink {
    fn drop(&mut self) {
        if let Err(e) = self.checkpoint_seqs() {
            tracing::warn!(error = %e, "journaling the last FIX sequence numbers failed");
        }
        self.probe.failed();
        if let Some(w) = self.writer.take() {
            let dir = w.dir().to_path_buf();
            if let Err(e) = w.close() {
                tracing::error!(dir = %dir.display(), error = %e, "closing the journal failed");
            }
        }
    }
}

/// A journal opened for a run (the sink itself goes to the recorder thread).
#[derive(Debug)]
pub struct RunJournal {
    /// The client order ids the session issues.
    pub order_ids: ClientOrderIdGen,
    /// What was written at start-up.
    pub session: SessionRecord,
    /// The journal directory.
    pub dir: PathBuf,
    /// Sequence number of the `config` record: the session's first.
    pub first_seq: u64,
    /// Reads the committed and written sequences while the recorder owns the writer.
    pub watch: CommitWatch,
    /// Writability, bytes and the oldest uncommitted record, as the recorder publishes them.
    pub probe: Arc<JournalProbe>,
    /// What the pipeline starts from (see [`crate::wiring::build_with_probes`]).
    pub start: StartState,
}

/// What a run's pipeline starts from, restored from the journal.
#[derive(Clone, Debug, Default)]
pub struct StartState {
    /// Positions and open orders for the risk stage (this config's ids); the open orders
    /// are the ones a FIX gateway tracks from the start too.
    pub risk: RiskSeed,
    /// With a FIX gateway: where it publishes its sequence numbers for the journal's
    /// checkpoints.
    pub fix_seqs: Option<Arc<SeqWatch>>,
}

impl RunJournal {
    /// Logs where the session's records ended up (call once the pipeline has stopped).
    pub fn log_end(&self) {
        tracing::info!(
            dir = %self.dir.display(),
            first_seq = self.first_seq,
            last_seq = ?self.watch.written(),
            committed = ?self.watch.committed(),
            "journal closed"
        );
    }
}

/// Opens the journal `loaded` configures (if enabled), recovers it, restores what the
/// previous session left (positions, open orders, FIX sequence numbers: see the module docs),
/// writes the config and session records and commits them, and returns the sink for the
/// recorder thread with what the run needs to know. `duration` is the effective run duration
/// (a command-line override included). Call after [`Clock::init`].
pub fn open_for_run(
    loaded: &Loaded,
    duration: Option<Duration>,
) -> anyhow::Result<Option<(JournalSink, RunJournal)>> {
    let section = &loaded.config.journal;
    if !section.enabled {
        return Ok(None);
    }
    let cfg = section.writer_config();
    let mut writer = Writer::open(&cfg).with_context(|| {
        format!("opening the journal (config key `journal.dir` = {})", cfg.dir.display())
    })?;
    let recovered = writer.recovery().clone();
    let verify_hint = || {
        format!(
            "run `tickline journal verify {}`, or move it aside to start flat",
            cfg.dir.display()
        )
    };
    let last = last_client_id(&cfg.dir).with_context(|| {
        format!(
            "recovering the last client order id from journal {}; {}",
            cfg.dir.display(),
            verify_hint()
        )
    })?;
    let previous = read_last_session(&cfg.dir).with_context(|| {
        format!(
            "restoring positions and open orders from journal {}; {}",
            cfg.dir.display(),
            verify_hint()
        )
    })?;
    let (restored, seed) = restore(loaded, &cfg.dir, previous.as_ref())?;
    let fix_seqs = match &loaded.config.gateway {
        GatewayConfig::Fix(f) => Some(reconcile_fix_seqs(f, previous.as_ref())?),
        _ => None,
    };
    let now = Clock::now();
    let fresh = ClientOrderIdGen::new(now);
    let fresh_first = fresh.clone().next_id();
    let (order_ids, resumed_after) = match last {
        Some(l) if fresh_first <= l => (ClientOrderIdGen::resume_after(l), Some(l.0)),
        _ => (fresh, None),
    };
    let first_client_id = order_ids.clone().next_id().0;

    let mut effective = loaded.config.clone();
    effective.run.duration = duration.map(|d| format!("{}ms", d.as_millis()));
    let config = ConfigRecord {
        format: RECORD_FORMAT,
        origin: loaded.origin.clone(),
        config: toml::to_string(&effective).context("writing the effective config as TOML")?,
    };
    let session = SessionRecord {
        format: RECORD_FORMAT,
        version: env!("CARGO_PKG_VERSION").to_owned(),
        pid: std::process::id(),
        started_ns: now.0,
        first_client_id,
        resumed_after,
        truncated_bytes: recovered.truncated.as_ref().map(|t| t.bytes),
        restored,
        fix_seqs,
    };
    let (config_bytes, session_bytes) =
        (serde_json::to_vec(&config)?, serde_json::to_vec(&session)?);
    let first_seq = writer
        .append(RecordKind::Config as u16, now.0, &config_bytes)
        .context("journaling the config")?;
    writer
        .append(RecordKind::Session as u16, now.0, &session_bytes)
        .context("journaling the session start")?;
    let probe = Arc::new(JournalProbe::new(
        (frame_len(config_bytes.len()) + frame_len(session_bytes.len())) as u64,
    ));
    writer.commit().context("committing the session start")?;
    tracing::info!(
        dir = %cfg.dir.display(),
        first_seq,
        first_client_id,
        resumed_after = ?resumed_after,
        truncated_bytes = ?session.truncated_bytes,
        "journal open"
    );
    log_restored(loaded, &session);
    let fix_watch = session.fix_seqs.as_ref().map(|_| Arc::new(SeqWatch::default()));
    let seqs = fix_watch
        .as_ref()
        .zip(session.fix_seqs.as_ref())
        .map(|(w, f)| SeqCheckpoint { watch: Arc::clone(w), last: Some((f.next_out, f.next_in)) });
    let watch = writer.commit_watch();
    Ok(Some((
        JournalSink { writer: Some(writer), seqs, probe: Arc::clone(&probe) },
        RunJournal {
            order_ids,
            session,
            dir: cfg.dir,
            first_seq,
            watch,
            probe,
            start: StartState { risk: seed, fix_seqs: fix_watch },
        },
    )))
}

/// Logs what the session took over (cold, once).
fn log_restored(loaded: &Loaded, session: &SessionRecord) {
    if let Some(r) = &session.restored {
        // An instrument that never traded carries only its last mark: not worth a line.
        for p in r.positions.iter().filter(|p| p.fills > 0 || p.qty != 0) {
            let (ps, qs) = (Scale::new(p.price_scale), Scale::new(p.qty_scale));
            let (Some(ps), Some(qs)) = (ps, qs) else { continue };
            let money = |raw: i128| {
                Decimal::try_from_i128_with_scale(
                    raw,
                    u32::from(ps.places()) + u32::from(qs.places()),
                )
                .map_or_else(|_| format!("{raw} (raw)"), |d| d.normalize().to_string())
            };
            tracing::info!(
                instrument = %p.symbol,
                venue = %p.venue,
                position = %Qty::from_raw(p.qty).to_decimal(qs).normalize(),
                avg_price = %position_of(p).avg_price_decimal(ps, qs).map_or("-".into(), |d| d.to_string()),
                realized = %money(p.realized),
                fees = %money(p.fees),
                mark = %Px::from_raw(p.mark).to_decimal(ps).normalize(),
                fills = p.fills,
                "position restored"
            );
        }
        if !r.orders_dropped.is_empty() {
            tracing::warn!(
                count = r.orders_dropped.len(),
                ids = ?r.orders_dropped,
                "orders the previous session left open are gone with its venue (it keeps no orders across a restart, or this session uses another): counted as cancelled"
            );
        }
    }
    let restored = session.restored.as_ref();
    tracing::info!(
        from_session = ?restored.map(|r| r.from_session),
        records = restored.map_or(0, |r| r.records),
        positions = restored.map_or(0, |r| r.positions.len()),
        open_orders = restored.map_or(0, |r| r.open_orders.len()),
        orders_dropped = restored.map_or(0, |r| r.orders_dropped.len()),
        next_client_id = session.first_client_id,
        fix_next_out = ?session.fix_seqs.as_ref().map(|f| f.next_out),
        fix_next_in = ?session.fix_seqs.as_ref().map(|f| f.next_in),
        gateway = gateway_name(&loaded.config.gateway),
        "session state restored from the journal"
    );
}

/// The highest client order id the journal in `dir` has used: that of its last decision
/// (ids only grow within a session, and a session starts above every earlier one), or below
/// the first id of its last session if that session decided nothing. Reads the last segment
/// that holds either, walking back from the end.
pub fn last_client_id(dir: &Path) -> anyhow::Result<Option<ClientOrderId>> {
    let segments = list_segments(dir)?;
    for seg in segments.iter().rev() {
        let (Some(first), Some(last)) = (seg.first_seq, seg.last_seq) else { continue };
        let mut found: Option<ClientOrderId> = None;
        let mut reader = Reader::open_at(dir, Start::Seq(first))?;
        while let Some(r) = reader.next_record()? {
            if r.seq > last {
                break;
            }
            if let Some(id) = client_id_of(r.kind, r.payload) {
                found = Some(id);
            }
        }
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// The client order id a record says has been used, if any.
fn client_id_of(kind: u16, payload: &[u8]) -> Option<ClientOrderId> {
    let kind = RecordKind::from_u16(kind)?;
    if kind == RecordKind::Session {
        let s: SessionRecord = serde_json::from_slice(payload).ok()?;
        return Some(ClientOrderId(s.first_client_id.checked_sub(1)?));
    }
    match Record::decode(kind, payload)? {
        RecordBody::Approved(o) => Some(o.intent.client_id),
        RecordBody::Rejected(r) => Some(r.intent.client_id),
        RecordBody::Intent(i) => Some(i.client_id),
        _ => None,
    }
    .filter(|id| id.0 != 0)
}

/// The journal's last session, rebuilt to its end.
#[derive(Debug)]
struct LastSession {
    /// Sequence of its `session` record.
    seq: u64,
    /// Its config (instruments, strategies, gateway).
    config: Config,
    /// Its instruments.
    registry: InstrumentRegistry,
    /// Its session record.
    session: SessionRecord,
    /// Its positions and open orders at its end, in its own instrument ids.
    rebuilt: Rebuilt,
    /// Its last `venue_seq` checkpoint.
    venue_seq: Option<(u64, u64)>,
}

impl LastSession {
    /// The journal's word on the FIX session `sender`/`target`: the last checkpoint of the
    /// previous session if it ran that FIX session, else what it started from.
    fn fix_seqs(&self, sender: &str, target: &str) -> Option<(u64, u64)> {
        let f = self.session.fix_seqs.as_ref()?;
        (f.sender_comp_id == sender && f.target_comp_id == target)
            .then(|| self.venue_seq.unwrap_or((f.next_out, f.next_in)))
    }
}

/// The segment file that holds record `seq`, for error messages.
fn segment_of(segments: &[SegmentInfo], seq: u64) -> String {
    segments
        .iter()
        .find(|s| s.first_seq.is_some_and(|f| f <= seq) && s.last_seq.is_some_and(|l| seq <= l))
        .map_or_else(|| "an unknown segment".to_owned(), |s| s.path.display().to_string())
}

/// Reads the journal's last session (from its `config` record to the end) and rebuilds its
/// end state: its start (the `restored` of its session record) plus its ticks, decisions and
/// execution reports. `None` when the journal holds no session start.
fn read_last_session(dir: &Path) -> anyhow::Result<Option<LastSession>> {
    let segments = list_segments(dir)?;
    let mut found = None;
    for seg in segments.iter().rev() {
        let (Some(first), Some(last)) = (seg.first_seq, seg.last_seq) else { continue };
        let mut reader = Reader::open_at(dir, Start::Seq(first))?;
        while let Some(r) = reader.next_record()? {
            if r.seq > last {
                break;
            }
            if r.kind == RecordKind::Session as u16 {
                found = Some(r.seq);
            }
        }
        if found.is_some() {
            break;
        }
    }
    let Some(seq) = found else { return Ok(None) };
    let at = |s: u64| format!("record seq {s} in {}", segment_of(&segments, s));
    anyhow::ensure!(seq > 0, "the session record at seq 0 has no config record before it");
    let mut reader = Reader::open_at(dir, Start::Seq(seq - 1))?;
    let config = match reader.next_record()? {
        Some(r) if r.kind == RecordKind::Config as u16 => parse_config_record(r.payload)
            .and_then(|c| toml::from_str::<Config>(&c.config).context("its TOML does not parse"))
            .with_context(|| format!("the previous session's config ({})", at(r.seq)))?,
        _ => anyhow::bail!("the session record ({}) does not follow a config record", at(seq)),
    };
    let registry = InstrumentRegistry::build(&config.instruments)
        .with_context(|| format!("the previous session's instruments ({})", at(seq - 1)))?;
    let session = match reader.next_record()? {
        Some(r) => parse_session_record(r.payload).with_context(|| at(r.seq))?,
        None => anyhow::bail!("{} vanished while reading", at(seq)),
    };
    let start = match &session.restored {
        Some(r) => r.to_seed(&registry, &strategy_names(&config)).with_context(|| {
            format!("the restored state in the previous session's record ({})", at(seq))
        })?,
        None => RiskSeed::default(),
    };
    let mut builder = SeedBuilder::new(registry.len(), &start);
    let mut venue_seq = None;
    while let Some(r) = reader.next_record()? {
        let Some(kind) = RecordKind::from_u16(r.kind) else {
            anyhow::bail!(
                "{} has type {}, which this build does not know: restore with the tickline that wrote it",
                at(r.seq),
                r.kind
            );
        };
        match kind {
            // A start whose session record never made it: that run never began.
            RecordKind::Config | RecordKind::Session => continue,
            _ => {}
        }
        let body = Record::decode(kind, r.payload).with_context(|| {
            format!("{} ({}, {} bytes) does not decode", at(r.seq), kind.as_str(), r.payload.len())
        })?;
        if let RecordBody::VenueSeq(v) = body {
            venue_seq = Some((v.next_out, v.next_in));
        }
        builder.apply(&body);
    }
    Ok(Some(LastSession { seq, config, registry, session, rebuilt: builder.finish(), venue_seq }))
}

fn strategy_names(config: &Config) -> Vec<String> {
    config.strategies.iter().map(|s| s.name().to_owned()).collect()
}

fn gateway_name(g: &GatewayConfig) -> &str {
    match g {
        GatewayConfig::Instant { name } => name,
        GatewayConfig::Sim(s) => &s.name,
        GatewayConfig::Fix(f) => &f.name,
    }
}

/// Whether orders left open on `before` may still be live on `now`: only a FIX venue keeps
/// them across a restart, and only the same FIX session (venue name and CompIDs) can act on
/// them.
fn orders_survive(before: &GatewayConfig, now: &GatewayConfig) -> bool {
    match (before, now) {
        (GatewayConfig::Fix(a), GatewayConfig::Fix(b)) => {
            a.name == b.name
                && a.sender_comp_id == b.sender_comp_id
                && a.target_comp_id == b.target_comp_id
        }
        _ => false,
    }
}

/// What this session takes over from `previous` (see the module docs), checked against this
/// config's instruments, and the risk seed it gives.
fn restore(
    loaded: &Loaded,
    dir: &Path,
    previous: Option<&LastSession>,
) -> anyhow::Result<(Option<Restored>, RiskSeed)> {
    let Some(prev) = previous else { return Ok((None, RiskSeed::default())) };
    let names = strategy_names(&prev.config);
    let keep = orders_survive(&prev.config.gateway, &loaded.config.gateway);
    let mut restored = Restored {
        from_session: prev.seq,
        records: prev.rebuilt.notes.records,
        ..Restored::default()
    };
    for (id, p) in &prev.rebuilt.seed.positions {
        let Some(i) = prev.registry.get(*id) else { continue };
        restored.positions.push(RestoredPosition {
            symbol: i.symbol.clone(),
            venue: i.venue.clone(),
            price_scale: i.price_scale.places(),
            qty_scale: i.qty_scale.places(),
            qty: p.qty().raw(),
            cost: p.cost_basis(),
            realized: p.realized(),
            fees: p.fees(),
            mark: p.mark().raw(),
            fills: p.fills(),
        });
    }
    for o in &prev.rebuilt.seed.open_orders {
        let Some(i) = prev.registry.get(o.instrument).filter(|_| keep) else {
            restored.orders_dropped.push(o.id.0);
            continue;
        };
        restored.open_orders.push(RestoredOrder {
            id: o.id.0,
            symbol: i.symbol.clone(),
            venue: i.venue.clone(),
            price_scale: i.price_scale.places(),
            qty_scale: i.qty_scale.places(),
            strategy: names.get(usize::from(o.strategy.0)).cloned().unwrap_or_default(),
            side: side_name(o.side).into(),
            ord_type: ord_type_name(o.ord_type).into(),
            tif: tif_name(o.tif).into(),
            price: o.price.raw(),
            qty: o.qty.raw(),
            cum: o.cum.raw(),
            leaves: o.leaves.raw(),
        });
    }
    let notes = &prev.rebuilt.notes;
    if !notes.unanswered_replaces.is_empty() || !notes.unanswered_cancels.is_empty() {
        tracing::warn!(
            replaces = ?notes.unanswered_replaces,
            cancels = ?notes.unanswered_cancels,
            "requests the previous session left unanswered: the original orders are kept, the pending replacements and cancels are not"
        );
    }
    // An instrument this config no longer has (or has at other scales) may go only if
    // nothing is left on it.
    let mut problems = Vec::new();
    restored.positions.retain(|p| match lookup(&loaded.registry, &p.symbol, &p.venue, p.price_scale, p.qty_scale) {
        Ok(_) => true,
        Err(why) if p.qty == 0 => {
            tracing::warn!(instrument = %p.symbol, venue = %p.venue, realized_raw = p.realized, "flat position not restored: {why}");
            false
        }
        Err(why) => {
            problems.push(format!("instrument {} (venue {}) holds {} (raw) from the previous session, but {why}", p.symbol, p.venue, p.qty));
            true
        }
    });
    for o in &restored.open_orders {
        if let Err(why) = lookup(&loaded.registry, &o.symbol, &o.venue, o.price_scale, o.qty_scale)
        {
            problems.push(format!(
                "order {} on {} (venue {}) is still open from the previous session, but {why}",
                o.id, o.symbol, o.venue
            ));
        }
    }
    if !problems.is_empty() {
        anyhow::bail!(
            "journal {}: {}; put the instrument back as it was, or move the journal aside to start flat",
            dir.display(),
            problems.join("; ")
        );
    }
    let seed = restored.to_seed(&loaded.registry, &strategy_names(&loaded.config))?;
    Ok((Some(restored), seed))
}

/// `symbol`/`venue` in `registry`, at the same scales.
fn lookup(
    registry: &InstrumentRegistry,
    symbol: &str,
    venue: &str,
    ps: u8,
    qs: u8,
) -> Result<InstrumentId, String> {
    let id = registry.lookup(venue, symbol).ok_or("the config has no such instrument")?;
    let i = registry.get(id).ok_or("the config has no such instrument")?;
    if (i.price_scale.places(), i.qty_scale.places()) != (ps, qs) {
        return Err(format!(
            "its scales changed from price {ps} / qty {qs} to {} / {}",
            i.price_scale.places(),
            i.qty_scale.places()
        ));
    }
    Ok(id)
}

fn position_of(p: &RestoredPosition) -> Position {
    Position::from_parts(p.qty, p.cost, p.realized, p.fees, Px::from_raw(p.mark), p.fills)
}

impl Restored {
    /// The risk seed it gives over `registry`, whose strategies are `strategies` (config
    /// order). Every position and order must name an instrument of `registry` at the same
    /// scales; an order's strategy that is not there owns it nowhere (its reports reach no
    /// strategy).
    pub fn to_seed(
        &self,
        registry: &InstrumentRegistry,
        strategies: &[String],
    ) -> anyhow::Result<RiskSeed> {
        let mut seed = RiskSeed::default();
        for p in &self.positions {
            let id = lookup(registry, &p.symbol, &p.venue, p.price_scale, p.qty_scale).map_err(
                |why| anyhow::anyhow!("position in {} (venue {}): {why}", p.symbol, p.venue),
            )?;
            seed.positions.push((id, position_of(p)));
        }
        for o in &self.open_orders {
            let id = lookup(registry, &o.symbol, &o.venue, o.price_scale, o.qty_scale).map_err(
                |why| anyhow::anyhow!("order {} in {} (venue {}): {why}", o.id, o.symbol, o.venue),
            )?;
            let bad = |what: &str| anyhow::anyhow!("order {}: {what}", o.id);
            seed.open_orders.push(SeedOrder {
                id: ClientOrderId(o.id),
                instrument: id,
                strategy: StrategyId(
                    strategies.iter().position(|n| *n == o.strategy).map_or(u16::MAX, |k| k as u16),
                ),
                side: side_from(&o.side).ok_or_else(|| bad("unknown side"))?,
                ord_type: ord_type_from(&o.ord_type).ok_or_else(|| bad("unknown order type"))?,
                tif: tif_from(&o.tif).ok_or_else(|| bad("unknown time in force"))?,
                price: Px::from_raw(o.price),
                qty: Qty::from_raw(o.qty),
                cum: Qty::from_raw(o.cum),
                leaves: Qty::from_raw(o.leaves),
            });
        }
        Ok(seed)
    }
}

const SIDES: [(Side, &str); 2] = [(Side::Buy, "buy"), (Side::Sell, "sell")];
const ORD_TYPES: [(OrdType, &str); 2] = [(OrdType::Limit, "limit"), (OrdType::Market, "market")];
const TIFS: [(TimeInForce, &str); 4] = [
    (TimeInForce::Gtc, "gtc"),
    (TimeInForce::Ioc, "ioc"),
    (TimeInForce::Fok, "fok"),
    (TimeInForce::PostOnly, "post_only"),
];

fn side_name(v: Side) -> &'static str {
    SIDES.iter().find(|(k, _)| *k == v).map_or("?", |(_, n)| n)
}
fn side_from(n: &str) -> Option<Side> {
    SIDES.iter().find(|(_, m)| *m == n).map(|(k, _)| *k)
}
fn ord_type_name(v: OrdType) -> &'static str {
    ORD_TYPES.iter().find(|(k, _)| *k == v).map_or("?", |(_, n)| n)
}
fn ord_type_from(n: &str) -> Option<OrdType> {
    ORD_TYPES.iter().find(|(_, m)| *m == n).map(|(k, _)| *k)
}
fn tif_name(v: TimeInForce) -> &'static str {
    TIFS.iter().find(|(k, _)| *k == v).map_or("?", |(_, n)| n)
}
fn tif_from(n: &str) -> Option<TimeInForce> {
    TIFS.iter().find(|(_, m)| *m == n).map(|(k, _)| *k)
}

/// The FIX sequence numbers a session starts from. The gateway's sequence file is the
/// primary store (written ahead of every send); the journal's last checkpoint of the same
/// FIX session is a floor under it: the larger of the two is taken, the file rewritten to it,
/// and a file behind the journal (reset, replaced, restored from a backup, lost) is a
/// warning. A file ahead of the journal is the normal case (the checkpoint trails it).
/// With `reset_on_logon` the numbers restart at every Logon, so the file is taken as it is.
fn reconcile_fix_seqs(f: &FixSettings, previous: Option<&LastSession>) -> anyhow::Result<FixSeqs> {
    let path = PathBuf::from(&f.seq_file);
    let file = seq_store::read(&path)
        .context("reading the FIX sequence file (config key `gateway.seq_file`)")?;
    let journal = previous.and_then(|p| p.fix_seqs(&f.sender_comp_id, &f.target_comp_id));
    let base = file.unwrap_or((1, 1));
    let (next_out, next_in) = match journal {
        Some(j) if !f.reset_on_logon => (base.0.max(j.0), base.1.max(j.1)),
        _ => base,
    };
    if !f.reset_on_logon {
        match (file, journal) {
            (None, Some(j)) => tracing::warn!(
                seq_file = %path.display(),
                journal_out = j.0,
                journal_in = j.1,
                "FIX sequence file missing: continuing from the journal's last checkpoint"
            ),
            (Some(fl), Some(j)) if j.0 > fl.0 || j.1 > fl.1 => tracing::warn!(
                seq_file = %path.display(),
                file_out = fl.0,
                file_in = fl.1,
                journal_out = j.0,
                journal_in = j.1,
                next_out,
                next_in,
                "FIX sequence file is behind the journal (reset, replaced or restored from a backup?): continuing from the larger numbers"
            ),
            _ => {}
        }
        if file != Some((next_out, next_in)) {
            let (mut store, _) =
                SeqStore::open(&path).context("rewriting the FIX sequence file")?;
            store
                .save(next_out, next_in)
                .with_context(|| format!("writing the FIX sequence file {}", path.display()))?;
        }
    }
    Ok(FixSeqs {
        sender_comp_id: f.sender_comp_id.clone(),
        target_comp_id: f.target_comp_id.clone(),
        seq_file: f.seq_file.clone(),
        next_out,
        next_in,
        file: file.map(|(o, i)| [o, i]),
        journal: journal.map(|(o, i)| [o, i]),
    })
}

/// Start of a session a reader met: the config it ran and its session record.
#[derive(Clone, Debug)]
pub struct SessionStart {
    /// Sequence of the `config` record.
    pub seq: u64,
    /// The config record.
    pub config: ConfigRecord,
    /// The session record that followed it.
    pub session: SessionRecord,
}

/// Parses a `config` record's payload.
pub fn parse_config_record(payload: &[u8]) -> anyhow::Result<ConfigRecord> {
    let c: ConfigRecord = serde_json::from_slice(payload)
        .context("config record is not JSON of the expected shape")?;
    anyhow::ensure!(
        c.format == RECORD_FORMAT,
        "config record format {} (this build reads {RECORD_FORMAT})",
        c.format
    );
    Ok(c)
}

/// Parses a `session` record's payload.
pub fn parse_session_record(payload: &[u8]) -> anyhow::Result<SessionRecord> {
    let s: SessionRecord = serde_json::from_slice(payload)
        .context("session record is not JSON of the expected shape")?;
    anyhow::ensure!(
        s.format == RECORD_FORMAT,
        "session record format {} (this build reads {RECORD_FORMAT})",
        s.format
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, DEFAULT_CONFIG};
    use tickline_engine::types::Nanos;

    #[test]
    fn generator_starts_where_asked() {
        for first in [1u64 << 32 | 1, 7 << 32 | 42, 9 << 32, u64::from(u32::MAX)] {
            let mut g = generator_starting_at(ClientOrderId(first));
            assert_eq!(g.next_id().0, first);
        }
        let mut fresh = ClientOrderIdGen::new(Nanos(1_700_000_000_000_000_000));
        let first = fresh.clone().next_id();
        let mut same = generator_starting_at(first);
        for _ in 0..3 {
            assert_eq!(same.next_id(), fresh.next_id());
        }
    }

    fn intent(id: u64) -> tickline_engine::types::OrderIntent {
        use tickline_engine::types::*;
        OrderIntent {
            decided_ns: Nanos(5),
            tick_recv_ns: Nanos(4),
            client_id: ClientOrderId(id),
            target: ClientOrderId(0),
            price: Px::from_raw(100),
            qty: Qty::from_raw(1),
            instrument: InstrumentId(0),
            strategy: StrategyId(0),
            action: Action::New,
            side: Side::Buy,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Ioc,
            reserved: [0; 6],
        }
    }

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tickline-sink-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    /// Writes a journal with one approved order of id `id`, then `filler` records that are
    /// no decision, in 64 KiB segments.
    fn journal_with_order(dir: &Path, id: u64, filler: usize) {
        let mut cfg = JournalConfig::new(dir);
        cfg.segment_size = 64 << 10;
        cfg.pretouch = false;
        let mut w = Writer::open(&cfg).unwrap();
        let order = tickline_engine::types::Order { intent: intent(id), approved_ns: Nanos(6) };
        let r = Record::approved(Nanos(6), &order);
        w.append(r.kind as u16, 6, r.payload()).unwrap();
        for i in 0..filler {
            w.append(RecordKind::Tick as u16, 7 + i as i64, &[0u8; 64]).unwrap();
        }
        w.close().unwrap();
    }

    #[test]
    fn last_client_id_walks_back_over_segments_without_orders() {
        let dir = scratch("last-id");
        journal_with_order(&dir, 77 << 32 | 9, 3_000);
        assert!(list_segments(&dir).unwrap().len() > 3);
        assert_eq!(last_client_id(&dir).unwrap(), Some(ClientOrderId(77 << 32 | 9)));
        let empty = scratch("last-id-empty");
        std::fs::create_dir_all(&empty).unwrap();
        assert_eq!(last_client_id(&empty).unwrap(), None);
        std::fs::remove_dir_all(&dir).ok();
        std::fs::remove_dir_all(&empty).ok();
    }

    fn loaded_into(dir: &Path) -> Loaded {
        let mut loaded = Config::load(None).unwrap();
        loaded.config.journal.enabled = true;
        loaded.config.journal.dir = dir.to_path_buf();
        loaded.config.journal.segment_size = 1 << 20;
        loaded.config.journal.pretouch = false;
        loaded
    }

    #[test]
    fn start_up_resumes_client_ids_the_clock_would_repeat() {
        Clock::init();
        // A previous session whose ids are above what the clock gives now (a restart within
        // the same second, or a clock stepped back): continue after its last id.
        let dir = scratch("resume");
        let last = u64::from(u32::MAX - 1) << 32 | 41;
        journal_with_order(&dir, last, 10);
        let (sink, j) = open_for_run(&loaded_into(&dir), None).unwrap().expect("enabled");
        assert_eq!(j.session.resumed_after, Some(last));
        assert_eq!(j.session.first_client_id, last + 1);
        assert_eq!(j.order_ids.clone().next_id().0, last + 1);
        assert_eq!(j.first_seq, 11, "config and session records follow what was there");
        drop(sink);
        // Its session record alone (no order yet) is enough for the next start.
        let (sink, j) = open_for_run(&loaded_into(&dir), None).unwrap().expect("enabled");
        assert_eq!(j.session.resumed_after, Some(last));
        drop(sink);
        std::fs::remove_dir_all(&dir).ok();

        // Older ids: the clock's session base is already above them.
        let dir = scratch("fresh");
        journal_with_order(&dir, 1 << 32 | 5, 0);
        let (sink, j) = open_for_run(&loaded_into(&dir), None).unwrap().expect("enabled");
        assert_eq!(j.session.resumed_after, None);
        assert!(j.session.first_client_id > 1 << 32 | 5);
        drop(sink);
        // A second writer on the same journal is refused, naming the holder.
        let (_sink, _j) = open_for_run(&loaded_into(&dir), None).unwrap().expect("enabled");
        let e = open_for_run(&loaded_into(&dir), None).unwrap_err();
        assert!(format!("{e:#}").contains("already open for writing"), "{e:#}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn effective_config_round_trips() {
        let loaded = Config::load(None).unwrap();
        let text = toml::to_string(&loaded.config).unwrap();
        let again = Config::parse(&text, "round trip").unwrap();
        assert_eq!(again.config, loaded.config, "{text}");
    }

    #[test]
    fn journal_section_defaults_and_keys() {
        let s: JournalSection = toml::from_str("").unwrap();
        assert_eq!(s, JournalSection::default());
        assert!(!s.enabled);
        assert_eq!(s.dir, PathBuf::from("target/journal"));
        assert!(toml::from_str::<JournalSection>("bogus = 1").is_err());
        let bad = JournalSection { segment_size: 1000, ..JournalSection::default() };
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("journal.segment_size"), "{e}");
        let _ = DEFAULT_CONFIG;
    }

    fn fix_loaded_into(dir: &Path, seq_file: &Path) -> Loaded {
        let text = include_str!("../../configs/fix-example.toml");
        let mut loaded = Config::parse(text, "fix-example").unwrap();
        loaded.config.journal = loaded_into(dir).config.journal;
        let GatewayConfig::Fix(f) = &mut loaded.config.gateway else { panic!("a FIX config") };
        f.seq_file = seq_file.display().to_string();
        loaded
    }

    /// One approved order of `qty` at 100.00 on SYN-A (scales 2/3) and its `reports`.
    fn trade(sink: &mut JournalSink, id: u64, qty: i64, reports: &[(ExecKind, i64)]) {
        use tickline_engine::types::*;
        let mut i = intent(id);
        i.price = Px::from_raw(10_000);
        i.qty = Qty::from_raw(qty);
        i.tif = TimeInForce::Gtc;
        sink.record(&Record::approved(Nanos(6), &Order { intent: i, approved_ns: Nanos(6) }))
            .unwrap();
        let mut cum = 0;
        for &(kind, last) in reports {
            cum += last;
            let r = ExecReport {
                ts: Nanos(7),
                client_id: ClientOrderId(id),
                venue_order_id: 1,
                last_px: Px::from_raw(10_000),
                last_qty: Qty::from_raw(last),
                cum_qty: Qty::from_raw(cum),
                leaves_qty: Qty::from_raw(qty - cum),
                fee: 3,
                instrument: InstrumentId(0),
                strategy: StrategyId(0),
                kind,
                side: Side::Buy,
            };
            sink.record(&Record::exec(Nanos(7), &r)).unwrap();
        }
    }

    fn session(loaded: &Loaded) -> (JournalSink, RunJournal) {
        open_for_run(loaded, None).unwrap().expect("enabled")
    }

    use tickline_engine::types::ExecKind;

    #[test]
    fn a_restart_takes_over_positions_and_keeps_open_orders_only_on_a_fix_venue() {
        Clock::init();
        let dir = scratch("restore");
        let seq = dir.join("fix/venue-x.seq");
        let fix = fix_loaded_into(&dir, &seq);
        let (mut sink, j) = session(&fix);
        assert_eq!(j.session.restored, None, "a first session restores nothing");
        // #10 fills 10 of 10; #11 fills 4 of 10 and stays open; #12 is rejected.
        trade(&mut sink, 10, 10, &[(ExecKind::New, 0), (ExecKind::Fill, 10)]);
        trade(&mut sink, 11, 10, &[(ExecKind::New, 0), (ExecKind::PartialFill, 4)]);
        trade(&mut sink, 12, 5, &[(ExecKind::Rejected, 0)]);
        drop(sink);

        // The same FIX venue: #11 stays open for risk and the gateway.
        let (sink, j) = session(&fix);
        let r = j.session.restored.clone().expect("restored");
        assert_eq!(r.from_session, 1, "the first session's record");
        assert_eq!(r.records, 8);
        assert_eq!(r.positions.len(), 1);
        let p = &r.positions[0];
        assert_eq!(
            (p.symbol.as_str(), p.qty, p.cost, p.fees, p.fills),
            ("SYN-A", 14, 140_000, 6, 2)
        );
        assert_eq!(r.open_orders.len(), 1);
        let o = &r.open_orders[0];
        assert_eq!((o.id, o.qty, o.cum, o.leaves), (11, 10, 4, 6));
        assert_eq!(
            (o.side.as_str(), o.tif.as_str(), o.strategy.as_str()),
            ("buy", "gtc", "threshold-a")
        );
        assert!(r.orders_dropped.is_empty());
        let seed = &j.start.risk;
        assert_eq!(seed.positions[0].1.qty(), Qty::from_raw(14));
        assert_eq!(seed.open_orders[0].leaves, Qty::from_raw(6));
        assert_eq!(seed.open_orders[0].strategy, StrategyId(0));
        drop(sink);

        // The session after continues from that session's restore: nothing happened since.
        let (sink, j2) = session(&fix);
        let r2 = j2.session.restored.clone().unwrap();
        assert_eq!(
            (r2.positions.clone(), r2.open_orders.clone()),
            (r.positions.clone(), r.open_orders)
        );
        drop(sink);

        // The instant venue keeps no orders: #11 is dropped, the position stays.
        let (sink, j3) = session(&loaded_into(&dir));
        let r3 = j3.session.restored.clone().unwrap();
        assert_eq!(r3.positions, r.positions);
        assert!(r3.open_orders.is_empty() && j3.start.risk.open_orders.is_empty());
        assert_eq!(r3.orders_dropped, vec![11]);
        assert_eq!(j3.session.fix_seqs, None);
        drop(sink);
        // ...and does not come back.
        let (sink, j4) = session(&fix);
        assert!(j4.session.restored.unwrap().open_orders.is_empty());
        drop(sink);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_position_on_an_instrument_the_config_lost_stops_the_start() {
        Clock::init();
        let dir = scratch("restore-lost");
        let (mut sink, _) = session(&loaded_into(&dir));
        trade(&mut sink, 10, 10, &[(ExecKind::Fill, 10)]);
        drop(sink);
        let mut other = loaded_into(&dir);
        let text = DEFAULT_CONFIG.replace("qty_scale = 3", "qty_scale = 4");
        let changed = Config::parse(&text, "rescaled").unwrap();
        other.config.instruments = changed.config.instruments;
        other.registry = changed.registry;
        let e = format!("{:#}", open_for_run(&other, None).unwrap_err());
        assert!(
            e.contains("SYN-A")
                && e.contains("scales changed")
                && e.contains("move the journal aside"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn fix_sequence_numbers_take_the_larger_of_the_file_and_the_journal() {
        Clock::init();
        let dir = scratch("fix-seqs");
        let seq = dir.join("fix/venue-x.seq");
        let fix = fix_loaded_into(&dir, &seq);
        let seqs = |j: &RunJournal| {
            let f = j.session.fix_seqs.as_ref().unwrap();
            ((f.next_out, f.next_in), f.file, f.journal)
        };
        let (mut sink, j) = session(&fix);
        assert_eq!(seqs(&j), ((1, 1), None, None));
        assert_eq!(seq_store::read(&seq).unwrap(), Some((1, 1)), "the file is created");
        // The gateway moves the numbers; the recorder's idle commit checkpoints them.
        let (mut store, _) = SeqStore::open(&seq).unwrap();
        store.set_watch(Arc::clone(j.start.fix_seqs.as_ref().unwrap()));
        store.save(10, 7).unwrap();
        sink.flush().unwrap();
        sink.flush().unwrap();
        store.save(12, 8).unwrap();
        drop(store);
        drop(sink);
        let checkpoints = Reader::open(&dir)
            .unwrap()
            .filter(|r| r.as_ref().unwrap().kind == RecordKind::VenueSeq as u16)
            .count();
        assert_eq!(checkpoints, 2, "one per move: at the idle commit and at close");

        // File and journal agree.
        let (sink, j) = session(&fix);
        assert_eq!(seqs(&j), ((12, 8), Some([12, 8]), Some([12, 8])));
        drop(sink);
        // The file is lost: the journal carries on, and the file is written again.
        std::fs::remove_file(&seq).unwrap();
        let (sink, j) = session(&fix);
        assert_eq!(seqs(&j), ((12, 8), None, Some([12, 8])));
        assert_eq!(seq_store::read(&seq).unwrap(), Some((12, 8)));
        drop(sink);
        // A file behind the journal is raised to it; one ahead of it is taken as it is.
        let (mut store, _) = SeqStore::open(&seq).unwrap();
        store.save(3, 9).unwrap();
        drop(store);
        let (sink, j) = session(&fix);
        assert_eq!(seqs(&j), ((12, 9), Some([3, 9]), Some([12, 8])));
        assert_eq!(seq_store::read(&seq).unwrap(), Some((12, 9)));
        drop(sink);
        let (mut store, _) = SeqStore::open(&seq).unwrap();
        store.save(40, 30).unwrap();
        drop(store);
        let (sink, j) = session(&fix);
        assert_eq!(seqs(&j), ((40, 30), Some([40, 30]), Some([12, 9])));
        drop(sink);
        // Another FIX session identity does not inherit these numbers.
        let mut other = fix.clone();
        let GatewayConfig::Fix(f) = &mut other.config.gateway else { unreachable!() };
        f.target_comp_id = "OTHER".into();
        f.seq_file = dir.join("fix/other.seq").display().to_string();
        let (sink, j) = session(&other);
        assert_eq!(seqs(&j), ((1, 1), None, None));
        drop(sink);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn an_undecodable_record_stops_the_start_naming_its_file_and_seq() {
        Clock::init();
        let dir = scratch("restore-bad");
        let (mut sink, _) = session(&loaded_into(&dir));
        trade(&mut sink, 10, 10, &[(ExecKind::Fill, 10)]);
        drop(sink);
        // A report whose kind byte is no `ExecKind`: the frame is sound, the payload is not.
        let mut w = Writer::open(&loaded_into(&dir).config.journal.writer_config()).unwrap();
        w.append(RecordKind::Exec as u16, 8, &[0xee; 72]).unwrap();
        w.close().unwrap();
        let e = format!("{:#}", open_for_run(&loaded_into(&dir), None).unwrap_err());
        assert!(
            e.contains("record seq 4") && e.contains(".tlj") && e.contains("does not decode"),
            "{e}"
        );
        assert!(e.contains(&dir.display().to_string()) && e.contains("journal verify"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
