//! The security self-check `tickline check-config` runs after validating a config.
//!
//! Findings: an admin port bound beyond loopback without a token, a token file others can
//! read, a weak token, a journal directory others can write (or read), and debug logging.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::config::Config;
use crate::preflight::{Check, Status};

/// Shortest token accepted without a warning, in characters.
pub const MIN_TOKEN_LEN: usize = 32;
/// Fewest distinct characters accepted without a warning.
pub const MIN_TOKEN_DISTINCT: usize = 12;

fn finding(name: &'static str, status: Status, detail: String, fix: &str) -> Check {
    Check { name, status, detail, fix: (status != Status::Pass).then(|| fix.to_owned()) }
}

/// Why a token is weak, if it is.
pub fn token_weakness(token: &str) -> Option<String> {
    let t = token.trim();
    let distinct = t.chars().collect::<std::collections::BTreeSet<_>>().len();
    if t.len() < MIN_TOKEN_LEN {
        Some(format!("{} characters (want at least {MIN_TOKEN_LEN})", t.len()))
    } else if distinct < MIN_TOKEN_DISTINCT {
        Some(format!("only {distinct} distinct characters"))
    } else {
        None
    }
}

/// Runs every security check on `config`; `env` looks up environment variables.
pub fn check(config: &Config, env: &dyn Fn(&str) -> Option<String>) -> Vec<Check> {
    let mut out = Vec::new();
    let admin = &config.admin;
    let has_token = admin.token_env.is_some() || admin.token_file.is_some();
    if admin.enabled {
        let loopback =
            admin.bind.parse::<SocketAddr>().map(|a| a.ip().is_loopback()).unwrap_or(false);
        out.push(if !loopback && !has_token {
            finding(
                "admin.exposure",
                Status::Fail,
                format!("admin port on {} with no token", admin.bind),
                "bind 127.0.0.1, or set admin.token_file",
            )
        } else if !loopback {
            finding(
                "admin.exposure",
                Status::Warn,
                format!("admin port on {} (beyond loopback, token required)", admin.bind),
                "prefer 127.0.0.1 behind an SSH tunnel or reverse proxy",
            )
        } else {
            finding(
                "admin.exposure",
                Status::Pass,
                format!("admin port on loopback {}", admin.bind),
                "",
            )
        });
    }
    let token = if let Some(file) = &admin.token_file {
        match std::fs::metadata(file) {
            Err(e) => {
                out.push(finding(
                    "admin.token_file",
                    Status::Fail,
                    format!("{file}: {e}"),
                    "create it with mode 0600",
                ));
                None
            }
            Ok(m) => {
                let mode = m.permissions().mode() & 0o777;
                out.push(if mode & 0o077 != 0 {
                    finding(
                        "admin.token_file",
                        Status::Fail,
                        format!("{file} has mode {mode:04o}: group or others can read it"),
                        "chmod 0600 the token file",
                    )
                } else {
                    finding("admin.token_file", Status::Pass, format!("{file} mode {mode:04o}"), "")
                });
                std::fs::read_to_string(file).ok()
            }
        }
    } else {
        admin.token_env.as_deref().and_then(env)
    };
    if let Some(t) = token {
        out.push(match token_weakness(&t) {
            Some(why) => finding(
                "admin.token_strength",
                Status::Warn,
                format!("weak token: {why}"),
                "head -c 32 /dev/urandom | base64 > token file",
            ),
            None => finding(
                "admin.token_strength",
                Status::Pass,
                "token length and variety ok".into(),
                "",
            ),
        });
    } else if has_token {
        out.push(finding(
            "admin.token_strength",
            Status::Unknown,
            "token not readable here (environment variable unset?)".into(),
            "",
        ));
    }
    if config.journal.enabled {
        let dir = &config.journal.dir;
        let (path, existing) = match dir.ancestors().find(|p| p.exists()) {
            Some(p) if p == dir.as_path() => (p.to_path_buf(), true),
            Some(p) => (p.to_path_buf(), false),
            None => (dir.clone(), false),
        };
        out.push(match std::fs::metadata(&path).map(|m| m.permissions().mode() & 0o777) {
            Err(e) => finding(
                "journal.permissions",
                Status::Unknown,
                format!("{}: {e}", path.display()),
                "",
            ),
            Ok(mode) if mode & 0o002 != 0 && (existing || mode & 0o1000 == 0) => finding(
                "journal.permissions",
                Status::Fail,
                format!("{} is writable by others (mode {mode:04o})", path.display()),
                "chmod 0700 the journal directory (owned by the service user)",
            ),
            Ok(mode) if existing && mode & 0o077 != 0 => finding(
                "journal.permissions",
                Status::Warn,
                format!(
                    "{} is readable by group or others (mode {mode:04o}): it holds every order",
                    path.display()
                ),
                "chmod 0700 the journal directory",
            ),
            Ok(mode) => finding(
                "journal.permissions",
                Status::Pass,
                format!("{} mode {mode:04o}", describe(&path, existing)),
                "",
            ),
        });
    }
    let level = config.log.level.as_str();
    if level == "debug" || level == "trace" {
        out.push(finding(
            "log.level",
            Status::Warn,
            format!("log level {level}: verbose logging competes with the hot threads for I/O"),
            "use info in production",
        ));
    }
    out
}

fn describe(path: &Path, existing: bool) -> String {
    if existing {
        path.display().to_string()
    } else {
        format!("{} (parent of the journal directory, which does not exist yet)", path.display())
    }
}
