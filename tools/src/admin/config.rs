//! `[admin]`: the metrics and admin HTTP sidecar's settings, validated once at start-up.

use std::net::SocketAddr;
use std::time::Duration;

use tickline_engine::config::ConfigError;

use crate::config::parse_duration;

/// `[admin]` as written. Every default is stated on its field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Serve the admin port. Default `false`: a config without `[admin]` opens no port, so
    /// that several runs (tests, CI smoke runs) can share a host. `tickline run --admin ADDR`
    /// turns it on from the command line.
    #[serde(default)]
    pub enabled: bool,
    /// Address to listen on. Default `127.0.0.1:9100`. Anything but a loopback address needs
    /// a token (`token_env` or `token_file`), or the engine refuses to start.
    #[serde(default = "AdminConfig::default_bind")]
    pub bind: String,
    /// Name of the environment variable holding the bearer token for control endpoints.
    /// Default: none. Set, the variable must be present at start-up.
    #[serde(default)]
    pub token_env: Option<String>,
    /// File holding the bearer token; it must not be readable or writable by group or others
    /// (mode 0600 or stricter). Default: none. At most one of `token_env`, `token_file`.
    #[serde(default)]
    pub token_file: Option<String>,
    /// Ask for the token on read endpoints too (everything but `/health` and `/ready`).
    /// Default `false`.
    #[serde(default)]
    pub token_for_reads: bool,
    /// Open connections at most; past it the longest-idle connection is closed to make room,
    /// or, when none is idle, the new one gets a 503. Default 256.
    #[serde(default = "AdminConfig::default_max_connections")]
    pub max_connections: usize,
    /// Longest request line in bytes (else 414). Default 8192.
    #[serde(default = "AdminConfig::default_max_request_line")]
    pub max_request_line: usize,
    /// Longest request head (request line and header fields) in bytes (else 431). Default 16384.
    #[serde(default = "AdminConfig::default_max_header_bytes")]
    pub max_header_bytes: usize,
    /// Most header fields in a request (else 431). Default 64.
    #[serde(default = "AdminConfig::default_max_headers")]
    pub max_headers: usize,
    /// Largest request body in bytes (else 413). Default 65536.
    #[serde(default = "AdminConfig::default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Time a client has to send a whole request once it has started one (else 408).
    /// Default `"5s"`.
    #[serde(default = "AdminConfig::default_read_timeout")]
    pub read_timeout: String,
    /// A kept-alive connection with no request in progress is closed after this long.
    /// Default `"60s"`.
    #[serde(default = "AdminConfig::default_idle_timeout")]
    pub idle_timeout: String,
    /// How long a control request waits for the engine's answer (else 504). Default `"2s"`.
    #[serde(default = "AdminConfig::default_control_timeout")]
    pub control_timeout: String,
    /// Requests within this long of the last telemetry snapshot are served from it, so a
    /// storm of scrapes costs the hot threads' cache lines at most one snapshot per interval.
    /// A control action always takes a fresh one. `"0ms"` = one per event-loop turn.
    /// Default `"10ms"`.
    #[serde(default = "AdminConfig::default_snapshot_interval")]
    pub snapshot_interval: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            enabled: false,
            bind: Self::default_bind(),
            token_env: None,
            token_file: None,
            token_for_reads: false,
            max_connections: Self::default_max_connections(),
            max_request_line: Self::default_max_request_line(),
            max_header_bytes: Self::default_max_header_bytes(),
            max_headers: Self::default_max_headers(),
            max_body_bytes: Self::default_max_body_bytes(),
            read_timeout: Self::default_read_timeout(),
            idle_timeout: Self::default_idle_timeout(),
            control_timeout: Self::default_control_timeout(),
            snapshot_interval: Self::default_snapshot_interval(),
        }
    }
}

/// Where the bearer token comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// No token: control endpoints are refused (403), and only loopback binds are allowed.
    None,
    /// An environment variable, by name.
    Env(String),
    /// A file, by path.
    File(String),
}

/// `[admin]` resolved: parsed addresses and durations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminSettings {
    /// Listen address.
    pub bind: SocketAddr,
    /// Token source.
    pub token: TokenSource,
    /// Token needed on read endpoints.
    pub token_for_reads: bool,
    /// Connection cap.
    pub max_connections: usize,
    /// Request line limit, bytes.
    pub max_request_line: usize,
    /// Request head limit, bytes.
    pub max_header_bytes: usize,
    /// Header field count limit.
    pub max_headers: usize,
    /// Body limit, bytes.
    pub max_body_bytes: usize,
    /// Whole-request read timeout.
    pub read_timeout: Duration,
    /// Keep-alive idle timeout.
    pub idle_timeout: Duration,
    /// Control answer timeout.
    pub control_timeout: Duration,
    /// Longest a telemetry snapshot is reused.
    pub snapshot_interval: Duration,
}

impl AdminConfig {
    fn default_bind() -> String {
        "127.0.0.1:9100".into()
    }
    fn default_max_connections() -> usize {
        256
    }
    fn default_max_request_line() -> usize {
        8192
    }
    fn default_max_header_bytes() -> usize {
        16384
    }
    fn default_max_headers() -> usize {
        64
    }
    fn default_max_body_bytes() -> usize {
        65536
    }
    fn default_read_timeout() -> String {
        "5s".into()
    }
    fn default_idle_timeout() -> String {
        "60s".into()
    }
    fn default_control_timeout() -> String {
        "2s".into()
    }
    fn default_snapshot_interval() -> String {
        "10ms".into()
    }

    /// Validates and resolves the section. Errors name the key under `admin.`.
    pub fn resolve(&self) -> Result<AdminSettings, ConfigError> {
        let bind: SocketAddr = self.bind.parse().map_err(|_| {
            ConfigError::new(
                "admin.bind",
                format!("{:?} is not an address like \"127.0.0.1:9100\"", self.bind),
            )
        })?;
        let token = match (&self.token_env, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::new(
                    "admin.token_env",
                    "set either admin.token_env or admin.token_file, not both",
                ))
            }
            (Some(v), None) => {
                if v.is_empty() || v.contains('=') || v.contains('\0') {
                    return Err(ConfigError::new(
                        "admin.token_env",
                        format!("{v:?} is not an environment variable name"),
                    ));
                }
                TokenSource::Env(v.clone())
            }
            (None, Some(f)) => {
                if f.is_empty() {
                    return Err(ConfigError::new("admin.token_file", "empty path"));
                }
                TokenSource::File(f.clone())
            }
            (None, None) => TokenSource::None,
        };
        if !bind.ip().is_loopback() && token == TokenSource::None {
            return Err(ConfigError::new(
                "admin.bind",
                format!(
                    "{bind} is reachable beyond this host; set admin.token_env or admin.token_file, or bind 127.0.0.1"
                ),
            ));
        }
        let range = |key: &str, v: usize, lo: usize, hi: usize| {
            if (lo..=hi).contains(&v) {
                Ok(v)
            } else {
                Err(ConfigError::new(format!("admin.{key}"), format!("{v} is outside {lo}..={hi}")))
            }
        };
        let duration = |key: &str, v: &str| match parse_duration(v) {
            Some(d) if !d.is_zero() && d <= Duration::from_secs(3600) => Ok(d),
            _ => Err(ConfigError::new(
                format!("admin.{key}"),
                format!("{v:?} is not a duration between \"1ms\" and \"1h\""),
            )),
        };
        let max_header_bytes = range("max_header_bytes", self.max_header_bytes, 1024, 1 << 20)?;
        let max_request_line = range("max_request_line", self.max_request_line, 64, 1 << 20)?;
        if max_request_line > max_header_bytes {
            return Err(ConfigError::new(
                "admin.max_request_line",
                format!("{max_request_line} is above admin.max_header_bytes ({max_header_bytes})"),
            ));
        }
        Ok(AdminSettings {
            bind,
            token,
            token_for_reads: self.token_for_reads,
            max_connections: range("max_connections", self.max_connections, 1, 65_536)?,
            max_request_line,
            max_header_bytes,
            max_headers: range("max_headers", self.max_headers, 8, 1024)?,
            max_body_bytes: range("max_body_bytes", self.max_body_bytes, 0, 16 << 20)?,
            read_timeout: duration("read_timeout", &self.read_timeout)?,
            idle_timeout: duration("idle_timeout", &self.idle_timeout)?,
            control_timeout: duration("control_timeout", &self.control_timeout)?,
            snapshot_interval: match parse_duration(&self.snapshot_interval) {
                Some(d) if d <= Duration::from_secs(1) => d,
                _ => {
                    return Err(ConfigError::new(
                        "admin.snapshot_interval",
                        format!(
                            "{:?} is not a duration between \"0ms\" and \"1s\"",
                            self.snapshot_interval
                        ),
                    ))
                }
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_to_loopback_without_token() {
        let s = AdminConfig::default().resolve().unwrap();
        assert_eq!(s.bind, "127.0.0.1:9100".parse().unwrap());
        assert_eq!(s.token, TokenSource::None);
        assert_eq!(s.read_timeout, Duration::from_secs(5));
    }

    #[test]
    fn beyond_loopback_needs_a_token() {
        let c = AdminConfig { bind: "0.0.0.0:9100".into(), ..AdminConfig::default() };
        let e = c.resolve().unwrap_err().to_string();
        assert!(e.contains("admin.bind") && e.contains("token"), "{e}");
        let c = AdminConfig { token_env: Some("TICKLINE_ADMIN_TOKEN".into()), ..c };
        assert!(c.resolve().is_ok());
        let c = AdminConfig { bind: "[::1]:9100".into(), ..AdminConfig::default() };
        assert!(c.resolve().is_ok(), "::1 is loopback");
    }

    #[test]
    fn invalid_values_name_their_key() {
        let bad = [
            (AdminConfig { bind: "localhost".into(), ..AdminConfig::default() }, "admin.bind"),
            (
                AdminConfig {
                    token_env: Some("A".into()),
                    token_file: Some("/x".into()),
                    ..AdminConfig::default()
                },
                "admin.token_env",
            ),
            (AdminConfig { max_connections: 0, ..AdminConfig::default() }, "admin.max_connections"),
            (
                AdminConfig { max_header_bytes: 100, ..AdminConfig::default() },
                "admin.max_header_bytes",
            ),
            (
                AdminConfig { max_request_line: 20_000, ..AdminConfig::default() },
                "admin.max_request_line",
            ),
            (
                AdminConfig { read_timeout: "0s".into(), ..AdminConfig::default() },
                "admin.read_timeout",
            ),
            (
                AdminConfig { idle_timeout: "soon".into(), ..AdminConfig::default() },
                "admin.idle_timeout",
            ),
        ];
        for (c, key) in bad {
            let e = c.resolve().unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
