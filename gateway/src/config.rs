//! The `[gateway]` settings of the simulated exchange and the FIX initiator, as an operator
//! writes them (TOML, decimals and durations as strings), and their validation into the
//! adapters' typed configs. `tickline`'s config embeds these as `kind = "sim"` and
//! `kind = "fix"`; an invalid value is an error naming its key, never a silent default.

use std::net::ToSocketAddrs;
use std::path::PathBuf;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::venue::fix::FixConfig;
use crate::venue::sim::SimConfig;

/// `[gateway] kind = "sim"`: the simulated exchange.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Venue name.
    pub name: String,
    /// One-way latency, each way (`"0us"`, `"50us"`, `"1ms"`). Default `"0us"`.
    #[serde(default = "SimSettings::default_latency")]
    pub latency: String,
    /// Maker fee as a fraction of the notional; negative for a rebate (`"-0.0001"`).
    /// Default `"0"`.
    #[serde(default)]
    pub maker_fee: Decimal,
    /// Taker fee as a fraction of the notional (`"0.0005"` is 5 bp). Default `"0"`.
    #[serde(default)]
    pub taker_fee: Decimal,
    /// Orders tracked (live and recently finished) and resting at most. Default 4096.
    #[serde(default = "default_max_orders")]
    pub max_orders: usize,
    /// Price levels kept per side of each book. Default 32.
    #[serde(default = "SimSettings::default_depth")]
    pub depth: usize,
}

impl SimSettings {
    fn default_latency() -> String {
        "0us".into()
    }
    fn default_depth() -> usize {
        32
    }

    /// The exchange's config; the error names the key.
    pub fn to_config(&self) -> Result<SimConfig> {
        let latency = duration_ns("gateway.latency", &self.latency)?;
        if latency > 10_000_000_000 {
            return Err(config("gateway.latency", "at most 10s"));
        }
        if self.max_orders == 0 || self.max_orders > 1 << 20 {
            return Err(config("gateway.max_orders", "must be between 1 and 1048576"));
        }
        if self.depth == 0 || self.depth > 1024 {
            return Err(config("gateway.depth", "must be between 1 and 1024"));
        }
        Ok(SimConfig {
            latency_ns: latency,
            maker_fee_ppb: fee_ppb("gateway.maker_fee", self.maker_fee)?,
            taker_fee_ppb: fee_ppb("gateway.taker_fee", self.taker_fee)?,
            max_orders: self.max_orders,
            depth: self.depth,
            ..SimConfig::default()
        })
    }
}

/// `[gateway] kind = "fix"`: a FIX 4.4 initiator.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FixSettings {
    /// Venue name.
    pub name: String,
    /// The acceptor's host (name or address), resolved once at start-up.
    pub host: String,
    /// The acceptor's port.
    pub port: u16,
    /// Our `SenderCompID`.
    pub sender_comp_id: String,
    /// The venue's `TargetCompID`.
    pub target_comp_id: String,
    /// `HeartBtInt`, whole seconds (`"30s"`). Default `"30s"`.
    #[serde(default = "FixSettings::default_heartbeat")]
    pub heartbeat: String,
    /// Send `ResetSeqNumFlag=Y` on every Logon. Default false.
    #[serde(default)]
    pub reset_on_logon: bool,
    /// File the sequence numbers persist in (created if absent).
    pub seq_file: String,
    /// First reconnect delay, doubling per failure. Default `"100ms"`.
    #[serde(default = "FixSettings::default_reconnect_min")]
    pub reconnect_min: String,
    /// Longest reconnect delay. Default `"5s"`.
    #[serde(default = "FixSettings::default_reconnect_max")]
    pub reconnect_max: String,
    /// The venue's message limit: messages per `throttle_window` (0 = none). Default 100.
    #[serde(default = "FixSettings::default_throttle_msgs")]
    pub throttle_msgs: u32,
    /// The throttle's window. Default `"1s"`.
    #[serde(default = "FixSettings::default_throttle_window")]
    pub throttle_window: String,
    /// Cancel every open order when the session is back after a drop. Default true.
    #[serde(default = "FixSettings::default_cod")]
    pub cancel_on_disconnect: bool,
    /// `Account` on every order. Default none.
    #[serde(default)]
    pub account: Option<String>,
    /// Orders tracked (live and recently finished). Default 4096.
    #[serde(default = "default_max_orders")]
    pub max_orders: usize,
}

impl FixSettings {
    fn default_heartbeat() -> String {
        "30s".into()
    }
    fn default_reconnect_min() -> String {
        "100ms".into()
    }
    fn default_reconnect_max() -> String {
        "5s".into()
    }
    fn default_throttle_msgs() -> u32 {
        100
    }
    fn default_throttle_window() -> String {
        "1s".into()
    }
    fn default_cod() -> bool {
        true
    }

    /// The initiator's config (the host resolved); the error names the key.
    pub fn to_config(&self) -> Result<FixConfig> {
        let addr = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| config("gateway.host", format!("{:?}: {e}", self.host)))?
            .next()
            .ok_or_else(|| {
                config("gateway.host", format!("{:?} resolves to no address", self.host))
            })?;
        if self.port == 0 {
            return Err(config("gateway.port", "must not be 0"));
        }
        let hb = duration_ns("gateway.heartbeat", &self.heartbeat)?;
        if hb % 1_000_000_000 != 0 {
            return Err(config("gateway.heartbeat", "FIX heartbeats are whole seconds"));
        }
        let cfg = FixConfig {
            heartbeat_secs: u32::try_from(hb / 1_000_000_000)
                .map_err(|_| config("gateway.heartbeat", "too long"))?,
            reset_on_logon: self.reset_on_logon,
            reconnect_min_ns: duration_ns("gateway.reconnect_min", &self.reconnect_min)?,
            reconnect_max_ns: duration_ns("gateway.reconnect_max", &self.reconnect_max)?,
            throttle_msgs: self.throttle_msgs,
            throttle_window_ns: duration_ns("gateway.throttle_window", &self.throttle_window)?,
            cancel_on_disconnect: self.cancel_on_disconnect,
            account: self.account.clone(),
            max_orders: self.max_orders,
            ..FixConfig::new(
                addr,
                &self.sender_comp_id,
                &self.target_comp_id,
                PathBuf::from(&self.seq_file),
            )
        };
        cfg.validate()?;
        Ok(cfg)
    }
}

fn default_max_orders() -> usize {
    4096
}

fn config(key: &'static str, problem: impl Into<String>) -> Error {
    Error::Config { key, problem: problem.into() }
}

/// `"250us"`, `"10ms"`, `"2s"`, `"1m"` to nanoseconds.
pub fn duration_ns(key: &'static str, text: &str) -> Result<i64> {
    let t = text.trim();
    let bad = || config(key, format!("{text:?} is not a duration like \"50us\", \"10ms\", \"2s\""));
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let unit_ns = match unit {
        "ns" => 1,
        "us" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(unit_ns).ok_or_else(bad)
}

/// A fee fraction to parts per billion, exactly.
fn fee_ppb(key: &'static str, fee: Decimal) -> Result<i64> {
    if fee.abs() >= Decimal::ONE {
        return Err(config(key, format!("{fee} is 100% of the notional or more")));
    }
    let ppb = fee * Decimal::from(1_000_000_000);
    if !ppb.fract().is_zero() {
        return Err(config(key, format!("{fee}: at most 9 decimal places")));
    }
    i64::try_from(ppb.trunc().mantissa() / 10i128.pow(ppb.trunc().scale()))
        .map_err(|_| config(key, format!("{fee} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_settings_validate_and_convert() {
        let s: SimSettings = toml::from_str(
            "name = \"sim\"\nlatency = \"50us\"\nmaker_fee = \"-0.0001\"\ntaker_fee = \"0.0005\"\n",
        )
        .unwrap();
        let c = s.to_config().unwrap();
        assert_eq!((c.latency_ns, c.maker_fee_ppb, c.taker_fee_ppb), (50_000, -100_000, 500_000));
        let bad = SimSettings { latency: "fast".into(), ..s.clone() };
        assert!(bad.to_config().unwrap_err().to_string().contains("gateway.latency"));
        let bad = SimSettings { taker_fee: "0.0000000001".parse().unwrap(), ..s.clone() };
        assert!(bad.to_config().unwrap_err().to_string().contains("gateway.taker_fee"));
        assert!(toml::from_str::<SimSettings>("name = \"s\"\nbogus = 1\n").is_err());
    }

    #[test]
    fn fix_settings_validate_and_convert() {
        let text = "name = \"v\"\nhost = \"127.0.0.1\"\nport = 9876\nsender_comp_id = \"TL\"\n\
                    target_comp_id = \"EXEC\"\nseq_file = \"state/v.seq\"\nheartbeat = \"10s\"\n";
        let s: FixSettings = toml::from_str(text).unwrap();
        let c = s.to_config().unwrap();
        assert_eq!((c.heartbeat_secs, c.addr.port(), c.throttle_msgs), (10, 9876, 100));
        assert!(c.cancel_on_disconnect);
        let bad = FixSettings { heartbeat: "1500ms".into(), ..s.clone() };
        assert!(bad.to_config().unwrap_err().to_string().contains("gateway.heartbeat"));
        let bad = FixSettings { sender_comp_id: String::new(), ..s.clone() };
        assert!(bad.to_config().unwrap_err().to_string().contains("gateway.sender_comp_id"));
        let bad = FixSettings { host: "no such host.invalid".into(), ..s };
        assert!(bad.to_config().unwrap_err().to_string().contains("gateway.host"));
    }
}
