//! Record filters shared by `stats`, `dump`, `tail` and `export`: by type, instrument,
//! sequence range and time range.

use std::path::Path;

use anyhow::{bail, Context as _};
use tickline_engine::record::RecordKind;
use tickline_journal::{list_segments, Reader, Record, Start};

use super::time::parse_time;
use super::view::{instrument_of, Context};

/// Filter options.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct FilterArgs {
    /// Only these record types: tick, intent, approved, rejected, exec, control, halt,
    /// config, session, venue_seq, or a type number. Comma-separated or repeated.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Only records about these instruments (symbol as in the config, or dense id).
    /// Comma-separated or repeated. Records about no instrument (control, config...) are left
    /// out.
    #[arg(long, value_name = "SYMBOL", value_delimiter = ',')]
    pub instrument: Vec<String>,
    /// From this sequence number (inclusive).
    #[arg(long, value_name = "SEQ")]
    pub from_seq: Option<u64>,
    /// Up to this sequence number (inclusive).
    #[arg(long, value_name = "SEQ")]
    pub to_seq: Option<u64>,
    /// From this time: ns since the epoch, RFC 3339 (2024-08-08T12:00:00Z), or a span
    /// before now (-10m).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Up to this time (inclusive), same forms as --since.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
}

/// A parsed filter.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    kinds: Option<Vec<u16>>,
    instruments: Vec<String>,
    from_seq: Option<u64>,
    to_seq: Option<u64>,
    since: Option<i64>,
    until: Option<i64>,
}

/// A record type from its name or number.
pub fn parse_kind(text: &str) -> anyhow::Result<u16> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u16>() {
        return Ok(n);
    }
    let kinds = (1..=u16::from(u8::MAX)).filter_map(|n| Some((n, RecordKind::from_u16(n)?)));
    let mut names = Vec::new();
    for (n, k) in kinds {
        if k.as_str() == t {
            return Ok(n);
        }
        names.push(k.as_str());
    }
    bail!("--type {t:?}: not a record type ({}, or a number)", names.join(", "))
}

impl Filter {
    /// Parses the options; errors name the option.
    pub fn from_args(a: &FilterArgs) -> anyhow::Result<Filter> {
        let kinds = if a.types.is_empty() {
            None
        } else {
            Some(a.types.iter().map(|t| parse_kind(t)).collect::<anyhow::Result<Vec<_>>>()?)
        };
        let time = |opt: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
            v.as_deref()
                .map(|t| parse_time(t).map_err(|e| anyhow::anyhow!("{opt}: {e}")))
                .transpose()
        };
        let f = Filter {
            kinds,
            instruments: a.instrument.iter().map(|s| s.trim().to_owned()).collect(),
            from_seq: a.from_seq,
            to_seq: a.to_seq,
            since: time("--since", &a.since)?,
            until: time("--until", &a.until)?,
        };
        if let (Some(a), Some(b)) = (f.from_seq, f.to_seq) {
            if a > b {
                bail!("--from-seq {a} is after --to-seq {b}");
            }
        }
        if let (Some(a), Some(b)) = (f.since, f.until) {
            if a > b {
                bail!("--since is after --until");
            }
        }
        Ok(f)
    }

    /// Where a reader should start.
    pub fn start(&self) -> Start {
        match (self.from_seq, self.since) {
            (Some(s), _) => Start::Seq(s),
            (None, Some(t)) => Start::Time(t),
            (None, None) => Start::Beginning,
        }
    }

    /// Whether nothing at or after `rec` can match (past `--to-seq`).
    pub fn past_end(&self, rec: &Record<'_>) -> bool {
        self.to_seq.is_some_and(|end| rec.seq > end)
    }

    /// Whether `rec` passes every filter.
    pub fn matches(&self, rec: &Record<'_>, ctx: &Context) -> bool {
        if self.from_seq.is_some_and(|s| rec.seq < s) || self.to_seq.is_some_and(|s| rec.seq > s) {
            return false;
        }
        if self.since.is_some_and(|t| rec.ts_ns < t) || self.until.is_some_and(|t| rec.ts_ns > t) {
            return false;
        }
        if let Some(k) = &self.kinds {
            if !k.contains(&rec.kind) {
                return false;
            }
        }
        if !self.instruments.is_empty() {
            let Some(id) = instrument_of(rec) else { return false };
            if !self.instruments.iter().any(|s| ctx.resolve(s) == Some(id)) {
                return false;
            }
        }
        true
    }
}

/// A reader at the filter's start, with the instruments the last `config` record before it
/// declared (so symbols and decimals print right from the first record).
pub fn open(dir: &Path, filter: &Filter) -> anyhow::Result<(Reader, Context)> {
    let reader = match Reader::open_at(dir, filter.start()) {
        Ok(r) => r,
        // Before the first record still present (pruned): start at the beginning.
        Err(tickline_journal::Error::SeqUnavailable { first, seq, .. }) if seq < first => {
            Reader::open(dir)?
        }
        Err(e) => return Err(e).with_context(|| format!("opening journal {}", dir.display())),
    };
    let ctx = context_at(dir, reader.next_seq())?;
    Ok((reader, ctx))
}

/// The context the records before `seq` set up: the last `config` record before it, found by
/// reading segments backwards from the one holding `seq`.
pub fn context_at(dir: &Path, seq: u64) -> anyhow::Result<Context> {
    let mut ctx = Context::default();
    let segments = list_segments(dir)?;
    for seg in segments.iter().rev() {
        let Some(first) = seg.first_seq else { continue };
        if first >= seq {
            continue;
        }
        let mut found: Option<Vec<u8>> = None;
        let mut reader = Reader::open_at(dir, Start::Seq(first))?;
        while let Some(r) = reader.next_record()? {
            if r.seq >= seq || seg.last_seq.is_some_and(|l| r.seq > l) {
                break;
            }
            if r.kind == RecordKind::Config as u16 {
                found = Some(r.payload.to_vec());
            }
        }
        if let Some(p) = found {
            ctx.on_config(&p);
            break;
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_or_number() {
        assert_eq!(parse_kind("tick").unwrap(), 1);
        assert_eq!(parse_kind("session").unwrap(), RecordKind::Session as u16);
        assert_eq!(parse_kind("42").unwrap(), 42);
        let e = parse_kind("ticks").unwrap_err().to_string();
        assert!(e.contains("not a record type") && e.contains("session, venue_seq, or"), "{e}");
        assert_eq!(parse_kind("venue_seq").unwrap(), RecordKind::VenueSeq as u16);
        let a = FilterArgs { from_seq: Some(5), to_seq: Some(4), ..FilterArgs::default() };
        assert!(Filter::from_args(&a).is_err());
        let a = FilterArgs { since: Some("soon".into()), ..FilterArgs::default() };
        assert!(Filter::from_args(&a).unwrap_err().to_string().contains("--since"));
    }
}
