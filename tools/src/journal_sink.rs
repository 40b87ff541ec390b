//! The journal in `tickline run`: the `[journal]` config section, the [`RecordSink`] that
//! appends the recorder thread's records to a [`Writer`], and what happens at start-up
//! (recovery, the config and session records, client-order-id continuation).
//!
//! At start-up [`open_for_run`] opens the journal (a second writer is refused), lets the
//! writer recover a torn tail, finds the last client order id the journal holds and resumes
//! after it when the clock alone would not give larger ids, then appends two records before
//! the pipeline starts:
//!
//! - `config` (kind 8): the effective config as TOML, with where it came from;
//! - `session` (kind 9): process, start time, the first client order id, and the recovery.
//!
//! Both payloads are JSON ([`ConfigRecord`], [`SessionRecord`]). `tickline replay --journal`
//! rebuilds strategies and risk from the first and the id generator from the second.
//!
//! What start-up does **not** restore yet: positions and open orders (the risk stage has no
//! seeding hook; a new session starts flat) and FIX sequence numbers (the gateway keeps those
//! in its own file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tickline_engine::record::{Record, RecordBody, RecordKind, RecordSink};
use tickline_engine::types::{ClientOrderId, ClientOrderIdGen, Clock};
use tickline_journal::config::DEFAULT_SEGMENT_SIZE;
use tickline_journal::{
    list_segments, CommitWatch, Durability, JournalConfig, Reader, RecoveryPolicy, Start, Writer,
};

use crate::config::Loaded;

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
#[derive(Debug)]
pub struct JournalSink {
    /// `None` only once dropped.
    writer: Option<Writer>,
}

impl JournalSink {
    fn closed() -> std::io::Error {
        std::io::Error::other("journal writer already closed")
    }
}

impl RecordSink for JournalSink {
    #[inline]
    fn record(&mut self, record: &Record) -> std::io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(Self::closed)?;
        w.append(record.kind as u16, record.ts.0, record.payload())
            .map(drop)
            .map_err(std::io::Error::other)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let w = self.writer.as_mut().ok_or_else(Self::closed)?;
        w.commit().map(drop).map_err(std::io::Error::other)
    }
}

impl Drop for JournalSink {
    fn drop(&mut self) {
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

/// Opens the journal `loaded` configures (if enabled), recovers it, writes the config and
/// session records and commits them, and returns the sink for the recorder thread with what
/// the run needs to know. `duration` is the effective run duration (a command-line override
/// included). Call after [`Clock::init`].
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
    let last = last_client_id(&cfg.dir).with_context(|| {
        format!(
            "recovering the last client order id from journal {}; run `tickline journal verify {}`",
            cfg.dir.display(),
            cfg.dir.display()
        )
    })?;
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
    };
    let first_seq = writer
        .append(RecordKind::Config as u16, now.0, &serde_json::to_vec(&config)?)
        .context("journaling the config")?;
    writer
        .append(RecordKind::Session as u16, now.0, &serde_json::to_vec(&session)?)
        .context("journaling the session start")?;
    writer.commit().context("committing the session start")?;
    tracing::info!(
        dir = %cfg.dir.display(),
        first_seq,
        first_client_id,
        resumed_after = ?resumed_after,
        truncated_bytes = ?session.truncated_bytes,
        "journal open"
    );
    let watch = writer.commit_watch();
    Ok(Some((
        JournalSink { writer: Some(writer) },
        RunJournal { order_ids, session, dir: cfg.dir, first_seq, watch },
    )))
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
}
