//! SIGHUP reload: re-read the config file, validate it, and apply changed risk limits and
//! strategy parameters through the control channel (each change journaled as a control
//! record), or keep the running values and say why.
//!
//! Only limits and parameters change at run time. A reload that changes the pipeline's shape
//! (instruments, feeds, strategies' kinds or instruments, the gateway, rings, layout) is
//! refused whole: the running engine must keep matching its config file. The `[journal]`,
//! `[admin]` and `[log]` sections (which command-line flags may override) take effect at the
//! next start; a reload keeps the running ones.

use std::time::Duration;

use rust_decimal::Decimal;
use tickline_engine::risk::{parse_duration_ns, InstrumentRiskConfig, Rate, RiskConfig};
use tickline_engine::runtime::{Command, ControlHandle};

use crate::config::{Config, Loaded};

/// How long a reload waits for the engine to apply one change.
const APPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// The commands that take the running engine from `old` to `new`, or why `new` cannot be
/// applied without a restart.
pub fn commands(old: &Config, new: &Config) -> Result<Vec<Command>, String> {
    let restart = |what: &str| Err(format!("{what} changed: that needs a restart"));
    if old.instruments != new.instruments {
        return restart("instruments");
    }
    if old.feeds != new.feeds {
        return restart("feeds");
    }
    if old.gateway != new.gateway {
        return restart("gateway");
    }
    if old.rings != new.rings || old.layout != new.layout {
        return restart("rings or layout");
    }
    let mut out = Vec::new();
    risk_commands(
        &old.risk,
        &new.risk,
        &old.instruments.iter().map(|i| i.symbol.clone()).collect::<Vec<_>>(),
        &mut out,
    )?;
    strategy_commands(old, new, &mut out)?;
    Ok(out)
}

fn limit(name: &str, instrument: Option<&str>, value: Decimal) -> Command {
    Command::SetRiskLimit {
        name: name.to_owned(),
        instrument: instrument.map(str::to_owned),
        value,
    }
}

fn diff<T: PartialEq + Copy>(
    name: &str,
    instrument: Option<&str>,
    old: Option<T>,
    new: Option<T>,
    value: impl Fn(T) -> Decimal,
    out: &mut Vec<Command>,
) -> Result<(), String> {
    match (old, new) {
        (a, b) if a == b => Ok(()),
        (_, Some(v)) => {
            out.push(limit(name, instrument, value(v)));
            Ok(())
        }
        (None, None) => Ok(()),
        (Some(_), None) => Err(format!(
            "risk limit {name}{} removed: an unconfigured limit rejects every order, so remove it with a restart",
            instrument.map_or(String::new(), |i| format!("[{i}]"))
        )),
    }
}

fn rate(
    prefix: &str,
    instrument: Option<&str>,
    old: Option<Rate>,
    new: Option<Rate>,
    out: &mut Vec<Command>,
) -> Result<(), String> {
    let (rate_name, burst_name) = match prefix {
        "execution" => ("execution_rate".to_owned(), "execution_burst".to_owned()),
        p => (format!("{p}_rate"), format!("{p}_burst")),
    };
    diff(
        &rate_name,
        instrument,
        old.map(|r| r.per_second),
        new.map(|r| r.per_second),
        Decimal::from,
        out,
    )?;
    diff(&burst_name, instrument, old.map(|r| r.burst), new.map(|r| r.burst), Decimal::from, out)
}

fn seconds(text: &str) -> Result<Decimal, String> {
    parse_duration_ns(text)
        .map(|ns| Decimal::new(ns, 9))
        .ok_or_else(|| format!("{text:?} is not a duration"))
}

fn risk_commands(
    old: &RiskConfig,
    new: &RiskConfig,
    symbols: &[String],
    out: &mut Vec<Command>,
) -> Result<(), String> {
    diff("max_open_orders", None, old.max_open_orders, new.max_open_orders, Decimal::from, out)?;
    diff("max_gross_notional", None, old.max_gross_notional, new.max_gross_notional, |d| d, out)?;
    diff("daily_loss_limit", None, old.daily_loss_limit, new.daily_loss_limit, |d| d, out)?;
    diff("max_drawdown", None, old.max_drawdown, new.max_drawdown, |d| d, out)?;
    rate("order", None, old.order_rate, new.order_rate, out)?;
    rate("message", None, old.message_rate, new.message_rate, out)?;
    rate("execution", None, old.execution_throttle, new.execution_throttle, out)?;
    for (name, o, n) in [
        ("duplicate_window", &old.duplicate_window, &new.duplicate_window),
        ("max_quote_age", &old.max_quote_age, &new.max_quote_age),
    ] {
        let (o, n) =
            (o.as_deref().map(seconds).transpose()?, n.as_deref().map(seconds).transpose()?);
        diff(name, None, o, n, |d| d, out)?;
    }
    // Per instrument, compare the effective limits (override, else default), so a changed
    // default reaches exactly the instruments that do not override it.
    let effective = |cfg: &RiskConfig, sym: &str| -> InstrumentRiskConfig {
        let d = &cfg.instrument_defaults;
        let o = cfg.instruments.get(sym);
        let pick = |f: fn(&InstrumentRiskConfig) -> Option<Decimal>| o.and_then(f).or_else(|| f(d));
        InstrumentRiskConfig {
            max_order_qty: pick(|c| c.max_order_qty),
            max_order_notional: pick(|c| c.max_order_notional),
            price_collar_bps: o.and_then(|c| c.price_collar_bps).or(d.price_collar_bps),
            max_position: pick(|c| c.max_position),
            max_open_orders: o.and_then(|c| c.max_open_orders).or(d.max_open_orders),
            order_rate: o.and_then(|c| c.order_rate).or(d.order_rate),
            message_rate: o.and_then(|c| c.message_rate).or(d.message_rate),
        }
    };
    for sym in symbols {
        let (o, n) = (effective(old, sym), effective(new, sym));
        let s = Some(sym.as_str());
        diff("max_order_qty", s, o.max_order_qty, n.max_order_qty, |d| d, out)?;
        diff("max_order_notional", s, o.max_order_notional, n.max_order_notional, |d| d, out)?;
        diff("price_collar_bps", s, o.price_collar_bps, n.price_collar_bps, Decimal::from, out)?;
        diff("max_position", s, o.max_position, n.max_position, |d| d, out)?;
        diff("max_open_orders", s, o.max_open_orders, n.max_open_orders, Decimal::from, out)?;
        rate("order", s, o.order_rate, n.order_rate, out)?;
        rate("message", s, o.message_rate, n.message_rate, out)?;
    }
    Ok(())
}

/// Keys of a strategy's config that identify it rather than tune it.
const IDENTITY_KEYS: [&str; 6] = ["kind", "name", "instrument", "leg_a", "leg_b", "fair"];

fn strategy_commands(old: &Config, new: &Config, out: &mut Vec<Command>) -> Result<(), String> {
    if old.strategies.len() != new.strategies.len() {
        return Err("strategies added or removed: that needs a restart".into());
    }
    for (o, n) in old.strategies.iter().zip(&new.strategies) {
        let table = |s| match toml::Value::try_from(s) {
            Ok(toml::Value::Table(t)) => Ok(t),
            _ => Err("strategy config is not a table".to_owned()),
        };
        let (ot, nt) = (table(o)?, table(n)?);
        let name = o.name();
        for key in IDENTITY_KEYS {
            if ot.get(key) != nt.get(key) {
                return Err(format!("strategy {name}: {key} changed: that needs a restart"));
            }
        }
        for (key, value) in &nt {
            if ot.get(key) == Some(value) {
                continue;
            }
            let decimal = match value {
                toml::Value::String(s) => s
                    .parse::<Decimal>()
                    .map_err(|_| format!("strategy {name}: {key} = {s:?} is not a number"))?,
                toml::Value::Integer(i) => Decimal::from(*i),
                other => {
                    return Err(format!(
                        "strategy {name}: {key} = {other} cannot change at run time"
                    ))
                }
            };
            out.push(Command::SetStrategyParam {
                strategy: name.to_owned(),
                name: key.clone(),
                value: decimal,
            });
        }
        if ot.keys().any(|k| !nt.contains_key(k)) {
            return Err(format!("strategy {name}: a parameter was removed: that needs a restart"));
        }
    }
    Ok(())
}

/// Re-reads `current`'s config file and applies what changed. On success `current` becomes the
/// new config and the note lists what was applied; on any error nothing is applied (every
/// change is checked before the first is sent) and the running values stay.
pub fn reload(current: &mut Loaded, control: &ControlHandle) -> Result<String, String> {
    let Some(path) = current.path.clone() else {
        return Err("running on the embedded default: there is no config file to re-read".into());
    };
    let mut new = Config::load(Some(&path)).map_err(|e| e.to_string())?;
    new.config.journal = current.config.journal.clone();
    new.config.admin = current.config.admin.clone();
    new.config.log = current.config.log.clone();
    let cmds = commands(&current.config, &new.config)?;
    if cmds.is_empty() {
        return Ok("no limit or parameter changed".into());
    }
    let mut applied = Vec::new();
    for cmd in cmds {
        let what = cmd.describe();
        match control.call(cmd, "sighup", APPLY_TIMEOUT) {
            Ok(_) => applied.push(what),
            Err(e) => {
                // Earlier changes in this reload are live and journaled; report where it stopped.
                return Err(format!(
                    "{what}: {e} (applied before it: {})",
                    if applied.is_empty() { "none".into() } else { applied.join(", ") }
                ));
            }
        }
    }
    *current = new;
    Ok(format!("applied {}", applied.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn parse(text: &str) -> Config {
        Config::parse(text, "test").unwrap_or_else(|e| panic!("{e}")).config
    }

    #[test]
    fn limit_and_parameter_changes_become_commands() {
        let old = parse(DEFAULT_CONFIG);
        let new = parse(
            &DEFAULT_CONFIG
                .replace("daily_loss_limit = \"1000\"", "daily_loss_limit = \"800\"")
                .replace("threshold = \"0.05\"", "threshold = \"0.07\"")
                .replace("price_collar_bps = 200", "price_collar_bps = 150"),
        );
        let cmds = commands(&old, &new).unwrap();
        let described: Vec<String> = cmds.iter().map(Command::describe).collect();
        assert!(described.contains(&"limit daily_loss_limit=800".to_owned()), "{described:?}");
        assert!(
            described.contains(&"param threshold-a.threshold=0.07".to_owned()),
            "{described:?}"
        );
        // A changed default reaches every instrument that does not override it.
        for sym in ["SYN-A", "SYN-B", "SYN-C"] {
            assert!(
                described.contains(&format!("limit price_collar_bps[{sym}]=150")),
                "{described:?}"
            );
        }
        assert!(commands(&old, &old).unwrap().is_empty());
    }

    #[test]
    fn structural_changes_are_refused() {
        let old = parse(DEFAULT_CONFIG);
        let e = commands(&old, &parse(&DEFAULT_CONFIG.replace("rate = 200000", "rate = 1000")))
            .unwrap_err();
        assert!(e.contains("feeds changed"), "{e}");
        let e = commands(
            &old,
            &parse(&DEFAULT_CONFIG.replace("instrument = \"SYN-A\"", "instrument = \"SYN-B\"")),
        )
        .unwrap_err();
        assert!(e.contains("instrument changed"), "{e}");
        let e = commands(&old, &parse(&DEFAULT_CONFIG.replace("max_drawdown = \"500\"", "")))
            .unwrap_err();
        assert!(e.contains("max_drawdown removed"), "{e}");
    }
}
