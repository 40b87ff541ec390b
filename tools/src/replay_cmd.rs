//! `tickline replay`: re-run recorded input through the production code.
//!
//! Modes form one group, exactly one per run. `--check-book` replays a Binance frame capture
//! through the handler and checks its book against the venue's own top of book after every
//! applied depth diff ([`tickline_feeds::replay::check_binance_book`]). `--journal DIR`
//! re-runs a journal's inputs through strategies and risk and checks its orders bit for bit
//! ([`crate::replay_journal`]).
//!
//! ```text
//! tickline replay --capture ../shared/data/binance-spot/btcusdt_20240808.gz --check-book
//! tickline replay --journal target/journal
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rust_decimal::Decimal;
use tickline_engine::types::{InstrumentRegistry, InstrumentSpec};
use tickline_feeds::capture::CaptureReader;
use tickline_feeds::replay::{check_binance_book, BookCheckReport};
use tickline_feeds::venue::binance::is_depth_snapshot;

/// `tickline replay` options.
#[derive(Clone, Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("mode").required(true).multiple(false)))]
pub struct ReplayArgs {
    /// A frame capture: `<recv_ns> <frame>` per line, plain or gzip.
    #[arg(long)]
    pub capture: Option<PathBuf>,
    /// Check the Binance book against bookTicker after every applied depth diff.
    #[arg(long, group = "mode", requires = "capture")]
    pub check_book: bool,
    /// Re-run a journal's recorded inputs through the strategy and risk code and check that
    /// every order comes out identical (see `crate::replay_journal`).
    #[arg(long, group = "mode", value_name = "DIR", conflicts_with = "capture")]
    pub journal: Option<PathBuf>,
    /// Show a progress line on stderr even when it is not a terminal (`--journal`).
    #[arg(long, requires = "journal")]
    pub progress: bool,
    /// Symbol to check (default: the capture's only symbol).
    #[arg(long)]
    pub symbol: Option<String>,
    /// Decimal places of prices (default: the most any price in the capture uses).
    #[arg(long)]
    pub price_scale: Option<u8>,
    /// Decimal places of sizes (default: the most any size in the capture uses).
    #[arg(long)]
    pub qty_scale: Option<u8>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Decimal places a venue decimal string needs (trailing zeros do not count).
fn decimals(s: &str) -> u8 {
    s.split_once('.').map_or(0, |(_, f)| f.trim_end_matches('0').len().min(18) as u8)
}

/// Scales each symbol of a Binance capture needs: (symbol, price scale, qty scale).
fn scan(path: &Path) -> anyhow::Result<BTreeMap<String, (u8, u8)>> {
    let mut reader = CaptureReader::open(path)?;
    let mut found: BTreeMap<String, (u8, u8)> = BTreeMap::new();
    let mut snapshot_levels: (u8, u8) = (0, 0);
    let pair = |l: &serde_json::Value| -> (u8, u8) {
        let d = |i: usize| l.get(i).and_then(|x| x.as_str()).map_or(0, decimals);
        (d(0), d(1))
    };
    let max = |a: (u8, u8), b: (u8, u8)| (a.0.max(b.0), a.1.max(b.1));
    while let Some(f) = reader.next_frame()? {
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(f.frame) else { continue };
        if is_depth_snapshot(f.frame) {
            for side in ["bids", "asks"] {
                for l in v.get(side).and_then(|x| x.as_array()).into_iter().flatten() {
                    snapshot_levels = max(snapshot_levels, pair(l));
                }
            }
            continue;
        }
        let Some(data) = v.get("data") else { continue };
        let Some(sym) = data.get("s").and_then(|s| s.as_str()) else { continue };
        let s = |k: &str| data.get(k).and_then(|x| x.as_str()).map_or(0, decimals);
        let mut got = (s("b").max(s("a")).max(s("p")), s("B").max(s("A")).max(s("q")));
        for side in ["b", "a"] {
            for l in data.get(side).and_then(|x| x.as_array()).into_iter().flatten() {
                got = max(got, pair(l));
            }
        }
        let e = found.entry(sym.to_owned()).or_default();
        *e = max(*e, got);
    }
    // Snapshot lines do not name their symbol: they count for every symbol.
    for v in found.values_mut() {
        *v = max(*v, snapshot_levels);
    }
    Ok(found)
}

/// Runs `tickline replay`; returns the process exit status.
pub fn run(args: &ReplayArgs) -> anyhow::Result<u8> {
    if let Some(dir) = &args.journal {
        return crate::replay_journal::run(dir, args.json, args.progress);
    }
    if !args.check_book {
        bail!("choose a replay mode (--check-book or --journal)");
    }
    let Some(path) = &args.capture else { bail!("--check-book needs --capture FILE") };
    let scales = scan(path).with_context(|| format!("reading capture {}", path.display()))?;
    if scales.is_empty() {
        bail!("capture {} holds no Binance stream frame with a symbol", path.display());
    }
    let symbol = match &args.symbol {
        Some(s) => s.to_ascii_uppercase(),
        None if scales.len() == 1 => scales.keys().next().cloned().unwrap_or_default(),
        None => bail!(
            "capture {} holds several symbols ({}): choose one with --symbol",
            path.display(),
            scales.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
    };
    if !scales.contains_key(&symbol) {
        bail!("symbol {symbol} does not appear in capture {}", path.display());
    }
    let specs: Vec<InstrumentSpec> = scales
        .iter()
        .map(|(sym, &(ps, qs))| {
            let (ps, qs) = if *sym == symbol {
                (args.price_scale.unwrap_or(ps), args.qty_scale.unwrap_or(qs))
            } else {
                (ps, qs)
            };
            InstrumentSpec {
                symbol: sym.clone(),
                venue: "binance".into(),
                price_scale: ps,
                qty_scale: qs,
                tick_size: Decimal::new(1, u32::from(ps)),
                lot_size: Decimal::new(1, u32::from(qs)),
            }
        })
        .collect();
    let registry = InstrumentRegistry::build(&specs)?;
    let id = registry.lookup("binance", &symbol).context("symbol in registry")?;
    let inst = registry.get(id).context("symbol in registry")?;
    let (ps, qs) = (inst.price_scale.places(), inst.qty_scale.places());
    let r = check_binance_book(path, &registry, id)
        .with_context(|| format!("replaying capture {}", path.display()))?;
    if args.json {
        println!("{}", json(path, &symbol, ps, qs, &r));
    } else {
        print!("{}", text(path, &symbol, ps, qs, &r));
    }
    Ok(if r.mismatches == 0 { 0 } else { 1 })
}

fn json(path: &Path, symbol: &str, ps: u8, qs: u8, r: &BookCheckReport) -> serde_json::Value {
    serde_json::json!({
        "capture": path.display().to_string(),
        "symbol": symbol,
        "price_scale": ps,
        "qty_scale": qs,
        "frames": r.frames,
        "decode_errors": r.decode_errors,
        "snapshots": r.snapshots,
        "depth_applied": r.depth_applied,
        "events_checked": r.events_checked,
        "mismatches": r.mismatches,
        "no_reference": r.no_reference,
        "gaps": r.gaps,
        "resyncs": r.resyncs,
        "dropped_stale": r.dropped_stale,
        "first_mismatch_line": r.first_mismatch.map(|m| m.line),
    })
}

fn text(path: &Path, symbol: &str, ps: u8, qs: u8, r: &BookCheckReport) -> String {
    let mut s = format!(
        "capture         {}\nsymbol          {symbol} (price scale {ps}, qty scale {qs})\n\
         frames          {}\ndecode errors   {}\nsnapshots       {}\ndepth applied   {}\n\
         events checked  {}\nmismatches      {}\nno reference    {}\ngaps            {}\n\
         resyncs         {}\ndropped stale   {}\n",
        path.display(),
        r.frames,
        r.decode_errors,
        r.snapshots,
        r.depth_applied,
        r.events_checked,
        r.mismatches,
        r.no_reference,
        r.gaps,
        r.resyncs,
        r.dropped_stale
    );
    match &r.first_mismatch {
        None => s.push_str("result          book matches bookTicker after every checked diff\n"),
        Some(m) => s.push_str(&format!(
            "result          MISMATCH first at line {} (update id {}): book {:?}/{:?}, ticker u={} {:?}/{:?}\n",
            m.line, m.update_id, m.book_bid, m.book_ask, m.ticker_update_id, m.ticker_bid, m.ticker_ask
        )),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_ignore_trailing_zeros() {
        assert_eq!(decimals("61837.63000000"), 2);
        assert_eq!(decimals("0.00012000"), 5);
        assert_eq!(decimals("100"), 0);
        assert_eq!(decimals("1.0"), 0);
    }
}
