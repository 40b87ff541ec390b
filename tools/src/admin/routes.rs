//! Routing: which method and path does what, who may ask, and the read endpoints' bodies.
//! Control endpoints validate here and hand a [`ControlJob`] to the control worker.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Instant;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};
use tickline_engine::runtime::Command;

use super::auth::{AuthResult, Token};
use super::config::AdminSettings;
use super::http::{ApiError, Request, Response};
use super::metrics::{self, AdminCounters};
use super::source::missing;
use super::status;
use super::view::{Sampler, Sources, View};

/// Control log entries kept for `/status`.
const CONTROL_LOG: usize = 50;
/// Most fills `/fills` returns.
const MAX_FILLS: usize = 1000;
/// Fills `/fills` returns without `limit`.
const DEFAULT_FILLS: usize = 100;
/// Most limits one `PUT /risk/limits` may set.
const MAX_LIMITS: usize = 64;

/// What a request leads to.
#[derive(Debug)]
pub enum Action {
    /// Answer now.
    Respond(Response),
    /// Send commands to the engine on the control worker, then answer.
    Control(ControlJob),
}

/// Commands for the engine, in order; the first refusal stops the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlJob {
    /// Endpoint action name (`halt`, `resume`, `cancel-all`, `risk-limits`, `strategy`).
    pub action: &'static str,
    /// Commands.
    pub steps: Vec<Command>,
    /// `admin <peer>`.
    pub origin: String,
    /// Operator's note from the body, logged.
    pub reason: Option<String>,
}

/// One control action, as `/status` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ControlLogEntry {
    /// When it was answered, milliseconds since the epoch.
    pub t_ms: i64,
    /// Who sent it.
    pub origin: String,
    /// What.
    pub command: String,
    /// `ok`, `refused` or `error`.
    pub result: &'static str,
    /// The engine's answer or the error.
    pub detail: String,
}

/// A view and what was rendered from it, reused within one event-loop turn and for
/// `admin.snapshot_interval`.
struct Turn {
    turn: u64,
    taken: Instant,
    view: View,
    metrics: Option<Vec<u8>>,
    status: Option<Value>,
}

/// The admin application: state shared by every request on the sidecar thread.
pub struct App {
    /// What it reads.
    pub sources: Sources,
    /// Limits and timeouts.
    pub settings: AdminSettings,
    token: Option<Token>,
    /// Its own counters.
    pub counters: AdminCounters,
    /// Rates and latency history.
    pub sampler: Sampler,
    started: Instant,
    start_unix_s: f64,
    control_log: VecDeque<ControlLogEntry>,
    /// Strategy enabled flags as last set through this port (all start enabled).
    enabled: Vec<(String, bool)>,
    /// Strategy parameters the engine accepted through this port.
    params: Vec<(String, String, Decimal)>,
    turn: u64,
    cached: Option<Turn>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("settings", &self.settings).finish_non_exhaustive()
    }
}

const METHODS: [&str; 4] = ["GET", "HEAD", "POST", "PUT"];

impl App {
    /// The app over `sources`.
    pub fn new(sources: Sources, settings: AdminSettings, token: Option<Token>) -> App {
        let enabled =
            sources.config.strategies.iter().map(|s| (s.name().to_owned(), true)).collect();
        App {
            sources,
            settings,
            token,
            counters: AdminCounters::default(),
            sampler: Sampler::new(std::time::Duration::from_secs(1)),
            started: Instant::now(),
            start_unix_s: super::view::unix_ns() as f64 / 1e9,
            control_log: VecDeque::with_capacity(CONTROL_LOG),
            enabled,
            params: Vec::new(),
            turn: 0,
            cached: None,
        }
    }

    /// A new event-loop turn: views are taken at most once per turn.
    pub fn next_turn(&mut self) {
        self.turn += 1;
    }

    fn fresh(&self, c: &Turn) -> bool {
        c.turn == self.turn || c.taken.elapsed() < self.settings.snapshot_interval
    }

    fn turn_view(&mut self) -> &mut Turn {
        if self.cached.as_ref().is_none_or(|c| !self.fresh(c)) {
            let taken = Instant::now();
            let view = self.sources.view(self.started);
            self.cached = Some(Turn { turn: self.turn, taken, view, metrics: None, status: None });
        }
        self.cached.as_mut().expect("set above")
    }

    /// Forgets the cached view: the next request takes a fresh one (after a control action).
    pub fn invalidate(&mut self) {
        self.cached = None;
    }

    fn status_value(&mut self) -> Value {
        if let Some(v) =
            self.cached.as_ref().filter(|c| self.fresh(c)).and_then(|c| c.status.clone())
        {
            return v;
        }
        self.turn_view();
        let cached = self.cached.as_ref().expect("taken above");
        let v = status::status(self, &cached.view);
        if let Some(c) = self.cached.as_mut() {
            c.status = Some(v.clone());
        }
        v
    }

    /// Answers `req` from `peer`.
    pub fn handle(&mut self, req: &Request, peer: SocketAddr) -> Action {
        match self.route(req, peer) {
            Ok(a) => a,
            Err(e) => Action::Respond(e.response()),
        }
    }

    fn route(&mut self, req: &Request, peer: SocketAddr) -> Result<Action, ApiError> {
        let m = req.method.as_str();
        if !METHODS.contains(&m) {
            return Err(ApiError::new(
                501,
                "method_not_implemented",
                format!("method {m:?} is not implemented; use GET, HEAD, POST or PUT"),
            ));
        }
        let path = req.path.as_str();
        let allow: &str = match path {
            "/" | "/health" | "/ready" | "/metrics" | "/status" | "/orders" | "/fills"
            | "/positions" | "/risk" | "/config" | "/strategies" => "GET, HEAD",
            "/halt" | "/resume" | "/cancel-all" => "POST",
            "/risk/limits" => "PUT",
            p if p.starts_with("/strategies/") => "PUT",
            _ => {
                return Err(ApiError::new(404, "not_found", format!("no endpoint at {path}")));
            }
        };
        let method_ok = allow.split(", ").any(|a| a == m);
        if !method_ok {
            let e = ApiError::new(
                405,
                "method_not_allowed",
                format!("{m} is not allowed on {path}; allowed: {allow}"),
            );
            return Ok(Action::Respond(e.response().with_header("Allow", allow)));
        }
        let read = allow == "GET, HEAD";
        if read {
            if self.settings.token_for_reads && path != "/health" && path != "/ready" {
                self.authorize(req)?;
            }
            return Ok(Action::Respond(self.read(path, req)?));
        }
        self.authorize(req)?;
        let origin = format!("admin {peer}");
        let body = json_body(req)?;
        let job = match path {
            "/halt" => {
                let reason = optional_reason(body.as_ref(), &["reason"])?;
                ControlJob { action: "halt", steps: vec![Command::Halt], origin, reason }
            }
            "/cancel-all" => {
                let reason = optional_reason(body.as_ref(), &["reason"])?;
                ControlJob { action: "cancel-all", steps: vec![Command::CancelAll], origin, reason }
            }
            "/resume" => {
                let reason = optional_reason(body.as_ref(), &["reason", "confirm"])?;
                let confirmed = body
                    .as_ref()
                    .and_then(|b| b.get("confirm"))
                    .is_some_and(|c| c.as_str() == Some("resume"));
                if !confirmed {
                    return Err(ApiError::new(
                        400,
                        "confirmation_required",
                        "POST /resume needs {\"confirm\": \"resume\"} in its JSON body",
                    ));
                }
                ControlJob { action: "resume", steps: vec![Command::Resume], origin, reason }
            }
            "/risk/limits" => {
                let steps = self.limit_commands(body)?;
                ControlJob { action: "risk-limits", steps, origin, reason: None }
            }
            p => {
                let name = percent_decode(&p["/strategies/".len()..]).ok_or_else(|| {
                    ApiError::new(
                        400,
                        "malformed_request",
                        "bad percent-encoding in the strategy name",
                    )
                })?;
                let steps = self.strategy_commands(&name, body)?;
                ControlJob { action: "strategy", steps, origin, reason: None }
            }
        };
        Ok(Action::Control(job))
    }

    fn authorize(&self, req: &Request) -> Result<(), ApiError> {
        let Some(token) = &self.token else {
            return Err(ApiError::new(
                403,
                "control_disabled",
                "no admin token is configured (admin.token_env or admin.token_file), so this endpoint is disabled",
            ));
        };
        match token.check(req.header("authorization")) {
            AuthResult::Ok => Ok(()),
            AuthResult::Missing => Err(ApiError::new(
                401,
                "missing_token",
                "this endpoint needs an 'Authorization: Bearer <token>' header",
            )),
            AuthResult::Invalid => {
                tracing::warn!(path = %req.path, "admin: request with a wrong bearer token");
                Err(ApiError::new(401, "invalid_token", "the bearer token is not valid"))
            }
        }
    }

    fn read(&mut self, path: &str, req: &Request) -> Result<Response, ApiError> {
        Ok(match path {
            "/health" => Response::json(
                200,
                &json!({"status": "ok", "uptime_s": self.started.elapsed().as_secs_f64()}),
            ),
            "/ready" => {
                let t = self.turn_view();
                let (ready, checks) = status::readiness(&t.view);
                let reason = checks.iter().find(|c| c["ok"] == false).map(|c| {
                    Value::String(format!(
                        "{}: {}",
                        c["name"].as_str().unwrap_or(""),
                        c["detail"].as_str().unwrap_or("")
                    ))
                });
                let body = json!({"ready": ready, "reason": reason, "checks": checks});
                Response::json(if ready { 200 } else { 503 }, &body)
            }
            "/metrics" => {
                self.turn_view();
                let t = self.cached.as_mut().expect("taken above");
                let body = t.metrics.get_or_insert_with(|| {
                    metrics::render(&t.view, &self.counters, self.start_unix_s).into_bytes()
                });
                Response::bytes(200, metrics::CONTENT_TYPE, body.clone())
            }
            "/status" => Response::json(200, &self.status_value()),
            "/" => {
                let status = self.status_value();
                Response::bytes(200, "text/html; charset=utf-8", super::page::render(&status))
                    .with_header("Content-Security-Policy", super::page::CSP)
            }
            "/orders" => {
                let t = self.turn_view();
                let counts = status::order_counts(&t.view);
                let open = t.view.open_orders;
                let body = match self.sources.state.open_orders() {
                    Some(o) => {
                        json!({"available": true, "orders": o, "open": open, "counts": counts})
                    }
                    None => json!({
                        "available": false,
                        "reason": missing::ORDERS,
                        "orders": null,
                        "open": open,
                        "counts": counts,
                    }),
                };
                Response::json(200, &body)
            }
            "/fills" => {
                let limit = fills_limit(req.query.as_deref())?;
                let total = self.turn_view().view.tel.fills;
                let body = match self.sources.state.fills(limit) {
                    Some(f) => {
                        json!({"available": true, "limit": limit, "fills": f, "fills_total": total})
                    }
                    None => {
                        json!({"available": false, "reason": missing::FILLS, "limit": limit, "fills": null, "fills_total": total})
                    }
                };
                Response::json(200, &body)
            }
            "/positions" => {
                let v = &self.turn_view().view;
                let body = match &v.positions {
                    Some(p) => json!({"available": true, "positions": p, "totals": v.pnl}),
                    None => {
                        json!({"available": false, "reason": missing::POSITIONS, "positions": null})
                    }
                };
                Response::json(200, &body)
            }
            "/risk" => {
                let t = self.turn_view();
                Response::json(200, &status::risk(&t.view))
            }
            "/config" => {
                let mut config = serde_json::to_value(&self.sources.config)
                    .map_err(|e| ApiError::new(500, "internal", format!("config: {e}")))?;
                redact(&mut config);
                Response::json(200, &json!({"origin": self.sources.origin, "config": config}))
            }
            "/strategies" => Response::json(200, &json!({"strategies": self.strategies()})),
            _ => return Err(ApiError::new(404, "not_found", format!("no endpoint at {path}"))),
        })
    }

    /// Strategies with their state as last set through this port.
    pub fn strategies(&self) -> Vec<Value> {
        self.sources
            .config
            .strategies
            .iter()
            .map(|s| {
                let name = s.name();
                let enabled = self.enabled.iter().find(|(n, _)| n == name).is_none_or(|e| e.1);
                let (kind, instrument) = (s.kind(), s.instrument());
                let params: Map<String, Value> = self
                    .params
                    .iter()
                    .filter(|(s, ..)| s == name)
                    .map(|(_, p, v)| (p.clone(), Value::String(v.to_string())))
                    .collect();
                json!({"name": name, "kind": kind, "instrument": instrument, "enabled": enabled, "params_set": params})
            })
            .collect()
    }

    fn limit_commands(&self, body: Option<Value>) -> Result<Vec<Command>, ApiError> {
        let body = body.ok_or_else(|| {
            ApiError::new(
                400,
                "invalid_body",
                "PUT /risk/limits needs a JSON body: {\"name\": ..., \"instrument\": ..., \"value\": ...} or {\"limits\": [...]}",
            )
        })?;
        let items: Vec<(String, Value)> = match body.get("limits") {
            Some(Value::Array(list)) => {
                only_fields(&body, &["limits"], "")?;
                list.iter().enumerate().map(|(i, v)| (format!("limits[{i}]"), v.clone())).collect()
            }
            Some(_) => return Err(ApiError::new(400, "invalid_body", "limits must be an array")),
            None => vec![("limit".to_owned(), body)],
        };
        if items.is_empty() {
            return Err(ApiError::new(422, "invalid_limit", "limits is empty"));
        }
        if items.len() > MAX_LIMITS {
            return Err(ApiError::new(
                422,
                "invalid_limit",
                format!("more than {MAX_LIMITS} limits in one request"),
            ));
        }
        let mut steps = Vec::with_capacity(items.len());
        for (at, item) in items {
            if !item.is_object() {
                return Err(ApiError::new(400, "invalid_body", format!("{at} must be an object")));
            }
            only_fields(&item, &["name", "instrument", "value"], &at)?;
            let name = match item.get("name") {
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "invalid_body",
                        format!("{at}.name must be a string"),
                    ))
                }
                None => {
                    return Err(ApiError::new(400, "invalid_body", format!("{at}.name is missing")))
                }
            };
            if !is_ident(&name) {
                return Err(ApiError::new(
                    422,
                    "invalid_limit",
                    format!("{at}.name {name:?} is not a limit name (lower-case letters, digits, '_', at most 64)"),
                ));
            }
            let instrument = match item.get("instrument") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => {
                    if !self.sources.config.instruments.iter().any(|i| &i.symbol == s) {
                        return Err(ApiError::new(
                            422,
                            "invalid_limit",
                            format!("{at}.instrument: unknown instrument {s:?}"),
                        ));
                    }
                    Some(s.clone())
                }
                Some(_) => {
                    return Err(ApiError::new(
                        400,
                        "invalid_body",
                        format!("{at}.instrument must be a string"),
                    ))
                }
            };
            let value = decimal_field(item.get("value"), &format!("{at}.value"))?;
            if value.is_sign_negative() && !value.is_zero() {
                return Err(ApiError::new(
                    422,
                    "invalid_limit",
                    format!("{at}.value {value} is negative; limits are zero or more"),
                ));
            }
            steps.push(Command::SetRiskLimit { name, instrument, value });
        }
        Ok(steps)
    }

    fn strategy_commands(&self, name: &str, body: Option<Value>) -> Result<Vec<Command>, ApiError> {
        if !self.sources.config.strategies.iter().any(|s| s.name() == name) {
            return Err(ApiError::new(
                404,
                "unknown_strategy",
                format!("no strategy named {name:?}"),
            ));
        }
        let body = body.ok_or_else(|| {
            ApiError::new(
                400,
                "invalid_body",
                "PUT /strategies/{name} needs a JSON body with \"enabled\" and/or \"params\"",
            )
        })?;
        only_fields(&body, &["enabled", "params"], "")?;
        let mut steps = Vec::new();
        match body.get("params") {
            None | Some(Value::Null) => {}
            Some(Value::Object(params)) => {
                for (p, v) in params {
                    if !is_ident(p) {
                        return Err(ApiError::new(
                            422,
                            "invalid_param",
                            format!("params.{p} is not a parameter name"),
                        ));
                    }
                    let value = decimal_field(Some(v), &format!("params.{p}"))?;
                    steps.push(Command::SetStrategyParam {
                        strategy: name.to_owned(),
                        name: p.clone(),
                        value,
                    });
                }
            }
            Some(_) => {
                return Err(ApiError::new(
                    400,
                    "invalid_body",
                    "params must be an object of name: decimal",
                ))
            }
        }
        match body.get("enabled") {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => {
                steps.push(Command::EnableStrategy { strategy: name.to_owned(), enabled: *b })
            }
            Some(_) => {
                return Err(ApiError::new(400, "invalid_body", "enabled must be true or false"))
            }
        }
        if steps.is_empty() {
            return Err(ApiError::new(
                400,
                "invalid_body",
                "nothing to change: give \"enabled\" and/or \"params\"",
            ));
        }
        Ok(steps)
    }

    /// Records what the control worker did.
    pub fn control_done(
        &mut self,
        action: &str,
        entries: Vec<ControlLogEntry>,
        accepted: &[Command],
    ) {
        self.invalidate();
        let result = entries.last().map_or("ok", |e| e.result);
        self.counters.control(action, result);
        for e in entries {
            if self.control_log.len() == CONTROL_LOG {
                self.control_log.pop_front();
            }
            self.control_log.push_back(e);
        }
        for c in accepted {
            match c {
                Command::EnableStrategy { strategy, enabled } => {
                    if let Some(slot) = self.enabled.iter_mut().find(|(n, _)| n == strategy) {
                        slot.1 = *enabled;
                    }
                }
                Command::SetStrategyParam { strategy, name, value } => {
                    self.params.retain(|(s, p, _)| !(s == strategy && p == name));
                    self.params.push((strategy.clone(), name.clone(), *value));
                }
                _ => {}
            }
        }
    }

    /// The control log, oldest first.
    pub fn control_log(&self) -> impl Iterator<Item = &ControlLogEntry> {
        self.control_log.iter()
    }

    /// Seconds since the sidecar started.
    pub fn uptime_s(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Samples rates and latency history if due.
    pub fn sample_if_due(&mut self, now: Instant) {
        if self.sampler.due(now) {
            self.sampler.sample(&self.sources, now);
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The request body as a JSON object; `None` when empty.
fn json_body(req: &Request) -> Result<Option<Value>, ApiError> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    if let Some(ct) = req.header("content-type") {
        let ct = String::from_utf8_lossy(ct).to_ascii_lowercase();
        let mime = ct.split(';').next().unwrap_or("").trim();
        if mime != "application/json" {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                format!("Content-Type {mime:?}: send application/json"),
            ));
        }
    }
    let v: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::new(400, "invalid_json", format!("body is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(ApiError::new(400, "invalid_json", "body must be a JSON object"));
    }
    Ok(Some(v))
}

fn only_fields(v: &Value, allowed: &[&str], at: &str) -> Result<(), ApiError> {
    if let Some(obj) = v.as_object() {
        if let Some(k) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            let at = if at.is_empty() { String::new() } else { format!("{at}.") };
            return Err(ApiError::new(
                400,
                "invalid_body",
                format!("unknown field {at}{k}; expected one of: {}", allowed.join(", ")),
            ));
        }
    }
    Ok(())
}

fn optional_reason(body: Option<&Value>, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    let Some(b) = body else { return Ok(None) };
    only_fields(b, allowed, "")?;
    match b.get("reason") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= 200 => Ok(Some(s.clone())),
        Some(_) => {
            Err(ApiError::new(400, "invalid_body", "reason must be a string of at most 200 bytes"))
        }
    }
}

fn decimal_field(v: Option<&Value>, at: &str) -> Result<Decimal, ApiError> {
    let text = match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => {
            return Err(ApiError::new(400, "invalid_body", format!("{at} is missing")))
        }
        Some(_) => {
            return Err(ApiError::new(
                400,
                "invalid_body",
                format!("{at} must be a decimal string or number"),
            ))
        }
    };
    Decimal::from_str(text.trim()).or_else(|_| Decimal::from_scientific(text.trim())).map_err(
        |_| ApiError::new(422, "invalid_value", format!("{at} {text:?} is not a decimal number")),
    )
}

fn fills_limit(query: Option<&str>) -> Result<usize, ApiError> {
    let mut limit = DEFAULT_FILLS;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "limit" {
            return Err(ApiError::new(
                400,
                "invalid_query",
                format!("unknown query parameter {k:?}; /fills takes limit"),
            ));
        }
        limit =
            v.parse::<usize>().ok().filter(|n| (1..=MAX_FILLS).contains(n)).ok_or_else(|| {
                ApiError::new(
                    400,
                    "invalid_query",
                    format!("limit {v:?} is not an integer from 1 to {MAX_FILLS}"),
                )
            })?;
    }
    Ok(limit)
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok().filter(|s| !s.is_empty() && !s.contains('/'))
}

/// Keys whose values are secrets wherever they appear in the config.
const SECRET_WORDS: [&str; 8] =
    ["password", "secret", "token", "api_key", "apikey", "passphrase", "private_key", "credential"];

/// Replaces secret values in a config tree. A key ending in `_env` or `_file` names where a
/// secret lives, not the secret, and is kept.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let key = k.to_ascii_lowercase();
                let names_a_place = key.ends_with("_env") || key.ends_with("_file");
                if !names_a_place && SECRET_WORDS.iter().any(|w| key.contains(w)) && !val.is_null()
                {
                    *val = Value::String("<redacted>".into());
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_references_kept() {
        let mut v = json!({
            "gateway": {"api_key": "AKIA123", "api_secret": "shh", "name": "sim"},
            "feeds": [{"password": "p", "url": "wss://x"}],
            "admin": {"token_env": "TICKLINE_ADMIN_TOKEN", "token_file": null, "bind": "127.0.0.1:9100"}
        });
        redact(&mut v);
        assert_eq!(v["gateway"]["api_key"], "<redacted>");
        assert_eq!(v["gateway"]["api_secret"], "<redacted>");
        assert_eq!(v["gateway"]["name"], "sim");
        assert_eq!(v["feeds"][0]["password"], "<redacted>");
        assert_eq!(v["feeds"][0]["url"], "wss://x");
        assert_eq!(v["admin"]["token_env"], "TICKLINE_ADMIN_TOKEN");
        assert!(!v.to_string().contains("shh") && !v.to_string().contains("AKIA"));
    }

    #[test]
    fn query_and_names() {
        assert_eq!(fills_limit(None).unwrap(), DEFAULT_FILLS);
        assert_eq!(fills_limit(Some("limit=5")).unwrap(), 5);
        assert_eq!(fills_limit(Some("limit=0")).unwrap_err().status, 400);
        assert_eq!(fills_limit(Some("limit=abc")).unwrap_err().status, 400);
        assert_eq!(fills_limit(Some("limit=1001")).unwrap_err().status, 400);
        assert_eq!(fills_limit(Some("x=1")).unwrap_err().status, 400);
        assert_eq!(percent_decode("threshold-a").as_deref(), Some("threshold-a"));
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("a%2Fb"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert!(is_ident("max_order_qty") && !is_ident("Max") && !is_ident(""));
        assert_eq!(decimal_field(Some(&json!("1.50")), "v").unwrap().to_string(), "1.50");
        assert_eq!(decimal_field(Some(&json!(2)), "v").unwrap(), Decimal::from(2));
        assert_eq!(decimal_field(Some(&json!("x")), "v").unwrap_err().status, 422);
        assert_eq!(decimal_field(Some(&json!(true)), "v").unwrap_err().status, 400);
    }
}
