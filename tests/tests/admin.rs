//! The admin port end to end: a real `tickline run` with `[admin]` on a free loopback port,
//! driven over raw TCP (so malformed requests are possible), plus `promtool` on `/metrics`
//! and the shipped alert rules, and headless Chromium on the status page.
//!
//! `promtool` (Debian `prometheus`) and `chromium` are installed by `.ci/run`; without them a
//! test says so and passes, except under `CI=true`, where their absence fails it.
//!
//! Control actions reach the engine through its control channel, which journals a Control
//! record per command: the control test runs with the journal on and reads those records back
//! with `tickline journal dump` after the engine stops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tickline_tests::{default_config, root, scratch, tickline, Scratch};

/// Engines run one at a time: each spins a hot thread, and the host has two cores.
static ONE_ENGINE: Mutex<()> = Mutex::new(());

const TOKEN: &str = "e2e-admin-token-0123456789abcdef";

struct Engine {
    child: Child,
    addr: SocketAddr,
    dir: Scratch,
}

impl Engine {
    /// Starts `tickline run` with the default config plus `admin` (TOML lines for `[admin]`),
    /// on port 0, and reads the bound address from its JSON log.
    fn start(name: &str, admin: &str) -> Engine {
        Engine::start_with(name, admin, "", |c| c)
    }

    /// As [`Engine::start`], with `extra` TOML appended (`DIR` stands for the engine's scratch
    /// directory) and `edit` applied to the default config first.
    fn start_with(name: &str, admin: &str, extra: &str, edit: impl Fn(String) -> String) -> Engine {
        let dir = scratch(&format!("admin-{name}"));
        let token_file = dir.join("token");
        std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
        set_mode(&token_file, 0o600);
        // The default config without its [admin] table, then ours (port 0: the kernel picks).
        let mut config = without_table(
            &edit(default_config()).replace("duration = \"10s\"", "duration = \"300s\""),
            "admin",
        );
        config += &format!(
            "\n[admin]\nenabled = true\nbind = \"127.0.0.1:0\"\n{}\n{}\n",
            admin.replace("TOKEN_FILE", &token_file.display().to_string()),
            extra.replace("DIR", &dir.display().to_string()),
        );
        let path = dir.join("tickline.toml");
        std::fs::write(&path, &config).unwrap();
        let mut child = Command::new(tickline())
            .args(["run", "--config"])
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // `... admin port listening addr=127.0.0.1:PORT core=...` (text log, no colour).
                if line.contains("admin port listening") {
                    let addr = line.split("addr=").nth(1).and_then(|r| r.split(' ').next());
                    let _ = tx.send(addr.unwrap_or("").trim_matches('"').to_owned());
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a.parse().unwrap_or_else(|_| panic!("bad address {a:?}")),
            Err(_) => {
                let _ = child.kill();
                panic!("tickline never logged 'admin port listening'; config:\n{config}");
            }
        };
        let e = Engine { child, addr, dir };
        e.wait_until("ready", |e| e.get("/ready").status == 200);
        e
    }

    fn get(&self, path: &str) -> Reply {
        self.call("GET", path, &[], None)
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let mut req =
            format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                b.len()
            ));
        }
        req.push_str("\r\n");
        if let Some(b) = body {
            req.push_str(b);
        }
        self.raw(req.as_bytes())
    }

    /// A control call with the token.
    fn control(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let auth = format!("Bearer {TOKEN}");
        self.call(method, path, &[("Authorization", &auth)], body)
    }

    /// Sends `bytes` on a fresh connection and reads one response until the server closes.
    fn raw(&self, bytes: &[u8]) -> Reply {
        let mut s = self.connect();
        s.write_all(bytes).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        Reply::parse(&out).unwrap_or_else(|| {
            panic!(
                "no HTTP response to {:?}: {:?}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)]),
                String::from_utf8_lossy(&out)
            )
        })
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(10)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s
    }

    fn status(&self) -> Value {
        let r = self.get("/status");
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()
    }

    fn wait_until(&self, what: &str, mut f: impl FnMut(&Engine) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn health_ok(&self) {
        let r = self.get("/health");
        assert_eq!(r.status, 200, "/health: {}", r.text());
        assert_eq!(r.json()["status"], "ok");
    }
}

impl Engine {
    /// Stops the engine (SIGTERM, then SIGKILL after 20 s), keeping its scratch directory
    /// until the `Engine` is dropped.
    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `config` without the table `[name]` (from its header to the next table header).
fn without_table(config: &str, name: &str) -> String {
    let head = format!("\n[{name}]\n");
    match config.find(&head) {
        None => config.to_owned(),
        Some(start) => {
            let body = start + head.len();
            let end = config[body..].find("\n[").map_or(config.len(), |i| body + i);
            format!("{}{}", &config[..start], &config[end..])
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    /// Parses the first response in `raw`; returns it and the bytes it used.
    fn parse_one(raw: &[u8]) -> Option<(Reply, usize)> {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&raw[..end]).ok()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers.iter().find(|(k, _)| k == "content-length")?.1.parse().ok()?;
        let body = raw.get(end + 4..end + 4 + len)?.to_vec();
        Some((Reply { status, headers, body }, end + 4 + len))
    }

    fn parse(raw: &[u8]) -> Option<Reply> {
        Reply::parse_one(raw).map(|(r, _)| r)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts a JSON error with this status and code whose message mentions `needle`.
    fn error(&self, status: u16, code: &str, needle: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"), "{self:?}");
        let v = self.json();
        assert_eq!(v["error"], code, "{v}");
        assert_eq!(v["status"], status, "{v}");
        let m = v["message"].as_str().unwrap_or_default();
        assert!(m.contains(needle), "message {m:?} should mention {needle:?}");
    }
}

/// Whether an outside tool is installed; under CI=true its absence is a failure.
fn have(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        let msg =
            format!("{tool} is not installed (Debian package `{package}`; .ci/run installs it)");
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{msg}");
        eprintln!("skipping: {msg}");
    }
    found
}

fn promtool(args: &[&str], stdin: Option<&[u8]>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(root().join("configs/prometheus"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

/// `target/` of this build (screenshots go under it).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    // target/<profile>/deps/<test>
    exe.parent().and_then(Path::parent).and_then(Path::parent).unwrap().to_path_buf()
}

#[test]
fn read_endpoints_answer_and_metrics_pass_promtool() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let e = Engine::start("read", "token_file = \"TOKEN_FILE\"");
    e.health_ok();

    let ready = e.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.text());
    let r = ready.json();
    assert_eq!(r["ready"], true);
    let names: Vec<&str> =
        r["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    for want in ["pipeline", "feed:synthetic", "gateway", "journal"] {
        assert!(names.contains(&want), "{want} missing in {r}");
    }

    let s = e.status();
    assert_eq!(s["state"], "running");
    assert_eq!(s["halt"]["halted"], false);
    assert_eq!(s["halt"]["cause"], "none");
    let threads = s["threads"].as_array().unwrap();
    assert!(
        threads
            .iter()
            .any(|t| t["hot"] == true
                && t["stages"].as_array().unwrap().iter().any(|x| x == "strategy")),
        "{s}"
    );
    let stages: Vec<&str> =
        s["stages"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
    for want in ["feed:synthetic", "strategy", "risk", "gateway"] {
        assert!(stages.contains(&want), "{want} missing in {stages:?}");
    }
    assert!(n(&s["feeds"][0]["ticks"]) > 0, "{s}");
    // A synthetic feed has no venue connection: connected while live, no book to sync.
    let feed = &s["feeds"][0]["state"];
    assert_eq!(
        (feed["connected"].clone(), feed["books_synced"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(s["feeds"][0]["last_tick_age_source"], "feed", "{s}");
    assert_eq!(
        (s["gateway"]["available"].clone(), s["gateway"]["logged_on"].clone()),
        (json!(true), json!(true)),
        "the instant venue has no session: always logged on: {s}"
    );
    assert_eq!(s["journal"]["available"], false, "no journal in this run: {s}");
    assert!(s["orders"]["intents"].is_u64() && s["orders"]["rejects_by_reason"].is_object());
    assert!(s["tick_to_order_ns"]["p99"].is_u64());
    // Positions and PnL come from the risk stage's published positions, one per instrument.
    let positions = s["positions"]["positions"].as_array().unwrap_or_else(|| panic!("{s}"));
    let symbols: Vec<&str> = positions.iter().map(|p| p["instrument"].as_str().unwrap()).collect();
    assert_eq!(symbols, ["SYN-A", "SYN-B", "SYN-C"], "{s}");
    assert!(positions.iter().all(|p| p["net_pnl"].is_string() && p["fills"].is_u64()), "{s}");
    assert!(s["positions"]["totals"]["net"].is_string(), "{s}");
    assert_eq!(s["open_orders"]["available"], true);
    assert!(s["open_orders"]["count"].is_u64());
    assert_eq!(s["strategies"].as_array().unwrap().len(), 2);

    let o = e.get("/orders");
    assert_eq!(o.status, 200);
    let o = o.json();
    assert_eq!(o["available"], true);
    assert!(o["orders"].is_array() && o["counts"]["approved"].is_u64(), "{o}");
    assert!(o["open"].is_u64(), "the open-order count is published: {o}");
    let f = e.get("/fills?limit=5").json();
    assert_eq!((f["available"].clone(), f["limit"].clone()), (json!(true), json!(5)));
    assert!(f["fills"].as_array().is_some_and(|l| l.len() <= 5), "{f}");
    assert!(f["fills_total"].is_u64());
    let p = e.get("/positions").json();
    assert_eq!(p["available"], true);
    assert_eq!(p["positions"].as_array().unwrap().len(), 3, "{p}");
    let risk = e.get("/risk").json();
    assert_eq!(risk["halt"]["halted"], false);
    assert!(risk["orders"]["rejects_by_reason"].is_object(), "{risk}");
    let limits = risk["limits"]["limits"].as_array().unwrap_or_else(|| panic!("{risk}"));
    let open = limits.iter().find(|l| l["name"] == "max_open_orders").expect("max_open_orders");
    assert_eq!(open["limit"], "100", "as in configs/default.toml: {open}");
    assert!(open["used"].is_string(), "{open}");
    let c = e.get("/config").json();
    assert!(c["config"]["feeds"][0]["name"] == "synthetic", "{c}");
    assert!(c["config"]["admin"]["token_file"].as_str().unwrap().ends_with("token"));
    assert!(!c.to_string().contains(TOKEN), "the token itself never appears");
    let st = e.get("/strategies").json();
    assert_eq!(st["strategies"][0]["enabled"], true);

    // HEAD: the GET head with no body.
    let mut s = e.connect();
    s.write_all(b"HEAD /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("\r\n\r\n"), "{text}");

    // Keep-alive: two requests on one connection, pipelined.
    let mut s = e.connect();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let (first, used) = Reply::parse_one(&out).expect("first response");
    assert_eq!((first.status, first.header("connection")), (200, Some("keep-alive")));
    let second = Reply::parse(&out[used..]).expect("second response on the same connection");
    assert_eq!((second.status, second.header("connection")), (200, Some("close")));

    let m = e.get("/metrics");
    assert_eq!(m.status, 200);
    assert_eq!(m.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = m.text();
    for family in [
        "tickline_stage_events_total{stage=\"strategy\"}",
        "tickline_stage_emitted_total{stage=\"feed:synthetic\"}",
        "tickline_risk_rejects_total{reason=\"halted\"}",
        "tickline_orders_total{state=\"approved\"}",
        "tickline_fills_total",
        "tickline_halted 0",
        "tickline_ready 1",
        "tickline_tick_to_order_seconds_bucket{le=\"+Inf\"}",
        "tickline_tick_to_order_quantiles_seconds{quantile=\"0.99\"}",
        "tickline_stage_latency_seconds_bucket{stage=\"strategy\",le=\"0.000001\"}",
        "tickline_admin_responses_total{code=\"200\"}",
        "tickline_position{instrument=\"SYN-A\"}",
        "tickline_net_pnl ",
        "tickline_open_orders ",
        "tickline_risk_limit{limit=\"max_open_orders\"} 100",
        "tickline_feed_connected{feed=\"synthetic\"} 1",
        "tickline_feed_books_synced{feed=\"synthetic\"} 1",
        "tickline_feed_last_tick_age_seconds{feed=\"synthetic\"} ",
        "tickline_gateway_logged_on{venue=\"sim\"} 1",
    ] {
        assert!(text.contains(family), "{family} missing in /metrics:\n{text}");
    }
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap();
        assert!(text.contains(&format!("# HELP {name} ")), "no HELP for {name}");
    }
    if have("promtool", "prometheus") {
        let (ok, out) = promtool(&["check", "metrics"], Some(text.as_bytes()));
        assert!(ok, "promtool check metrics failed:\n{out}\n--- metrics ---\n{text}");
        println!("promtool check metrics: ok ({} lines)", text.lines().count());
    }
    e.health_ok();
}

#[test]
fn alert_rules_and_dashboard_are_valid() {
    let rules = root().join("configs/prometheus/tickline.rules.yml");
    let text = std::fs::read_to_string(&rules).unwrap();
    for alert in [
        "TicklineFeedStale",
        "TicklineFeedGapStorm",
        "TicklineHalted",
        "TicklineRingFull",
        "TicklineTickToOrderP99High",
        "TicklineJournalLag",
        "TicklineFeedDisconnected",
        "TicklineGatewayLoggedOff",
    ] {
        assert!(text.contains(&format!("alert: {alert}\n")), "{alert} missing");
    }
    let exprs = dashboard_exprs();
    assert!(exprs.len() > 20, "{exprs:?}");
    assert!(exprs.iter().any(|e| e.contains("histogram_quantile(0.99")
        && e.contains("tickline_tick_to_order_seconds_bucket")));
    if have("promtool", "prometheus") {
        let (ok, out) = promtool(&["check", "rules", "tickline.rules.yml"], None);
        assert!(ok, "promtool check rules:\n{out}");
        let (ok, out) = promtool(&["test", "rules", "tickline.rules.test.yml"], None);
        assert!(ok, "promtool test rules:\n{out}");
        let (ok, out) = promtool(&["check", "config", "prometheus.yml"], None);
        assert!(ok, "promtool check config:\n{out}");
        println!("promtool: rules, rule tests and config ok");
    }
}

/// Every query of the Grafana dashboard (`configs/grafana/tickline.json`).
fn dashboard_exprs() -> Vec<String> {
    let dash: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("configs/grafana/tickline.json")).unwrap(),
    )
    .expect("the Grafana dashboard is JSON");
    assert_eq!(dash["uid"], "tickline-engine");
    dash["panels"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().unwrap().to_owned())
        .collect()
}

/// The metric families the dashboard's queries name (a histogram's `_bucket`, `_sum` and
/// `_count` series by their family).
fn dashboard_families() -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    for expr in dashboard_exprs() {
        let mut rest = expr.as_str();
        while let Some(at) = rest.find("tickline_") {
            let name: String = rest[at..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            rest = &rest[at + name.len()..];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(&name);
            names.insert(family.to_owned());
        }
    }
    names
}

/// `configs/sim.toml` (the simulated exchange: orders rest in its queues) with one
/// market maker quoting SYN-A on both sides, at a tenth of the feed rate, without its
/// `[journal]` table (the test adds its own).
fn sim_market_maker() -> String {
    let sim = std::fs::read_to_string(root().join("configs/sim.toml")).unwrap();
    let (start, end) = (sim.find("[[strategies]]").unwrap(), sim.find("[gateway]").unwrap());
    let mm = r#"[[strategies]]
kind = "market-maker"
name = "mm-a"
instrument = "SYN-A"
fair = "microprice"
half_spread = "0.02"
qty = "0.010"
skew = "0.01"
max_position = "0.050"
requote = "0.02"

"#;
    let config =
        format!("{}{mm}{}", &sim[..start], &sim[end..]).replace("rate = 200000", "rate = 20000");
    without_table(&config, "journal")
}

#[test]
fn orders_fills_feeds_gateway_and_journal_are_reported() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let e =
        Engine::start_with("state", "", "[journal]\nenabled = true\ndir = \"DIR/journal\"", |_| {
            sim_market_maker()
        });

    // The market maker's quotes rest on the simulated exchange.
    e.wait_until("a resting order", |e| {
        e.get("/orders").json()["orders"].as_array().is_some_and(|o| !o.is_empty())
    });
    let o = e.get("/orders").json();
    assert_eq!(o["available"], true, "{o}");
    let orders = o["orders"].as_array().unwrap();
    for order in orders {
        assert!(order["client_id"].is_u64(), "{order}");
        assert_eq!(
            (order["strategy"].as_str(), order["instrument"].as_str()),
            (Some("mm-a"), Some("SYN-A")),
            "{order}"
        );
        assert!(["buy", "sell"].contains(&order["side"].as_str().unwrap()), "{order}");
        for field in ["price", "qty", "filled"] {
            let v = order[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} is a decimal string: {order}"));
            assert!(v.parse::<f64>().is_ok(), "{field} {v:?}");
        }
        let states =
            ["pending_new", "new", "partially_filled", "pending_cancel", "pending_replace"];
        assert!(states.contains(&order["state"].as_str().unwrap()), "{order}");
        assert!(order["sent_ns"].as_i64().is_some_and(|t| t > 0), "{order}");
    }
    let ids: Vec<u64> = orders.iter().map(|o| o["client_id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first, no duplicates: {ids:?}");

    // Fills: at most `limit`, newest first, every field there.
    e.wait_until("five fills", |e| n(&e.get("/fills?limit=1").json()["fills_total"]) >= 5);
    let f = e.get("/fills?limit=5").json();
    assert_eq!((f["available"].clone(), f["limit"].clone()), (json!(true), json!(5)), "{f}");
    let fills = f["fills"].as_array().unwrap();
    assert_eq!(fills.len(), 5, "{f}");
    for fill in fills {
        assert!(
            fill["client_id"].is_u64() && fill["ts_ns"].as_i64().is_some_and(|t| t > 0),
            "{fill}"
        );
        assert_eq!(
            (fill["strategy"].as_str(), fill["instrument"].as_str()),
            (Some("mm-a"), Some("SYN-A")),
            "{fill}"
        );
        assert!(["buy", "sell"].contains(&fill["side"].as_str().unwrap()), "{fill}");
        assert!(["fill", "partial_fill"].contains(&fill["kind"].as_str().unwrap()), "{fill}");
        for field in ["price", "qty", "fee"] {
            assert!(
                fill[field].as_str().is_some_and(|v| v.parse::<f64>().is_ok()),
                "{field}: {fill}"
            );
        }
        assert!(fill["qty"].as_str().unwrap().parse::<f64>().unwrap() > 0.0, "{fill}");
    }
    let ts: Vec<i64> = fills.iter().map(|f| f["ts_ns"].as_i64().unwrap()).collect();
    assert!(ts.windows(2).all(|w| w[0] >= w[1]), "newest first: {ts:?}");
    assert_eq!(e.get("/fills?limit=2").json()["fills"].as_array().unwrap().len(), 2);

    // Feed, gateway and journal state, and readiness on all of them.
    let s = e.status();
    let feed = &s["feeds"][0]["state"];
    assert_eq!(
        (feed["connected"].clone(), feed["books_synced"].clone()),
        (json!(true), json!(true)),
        "{s}"
    );
    assert!(feed["last_tick_age_ns"].is_u64(), "{s}");
    assert_eq!(s["gateway"], json!({"available": true, "venue": "sim", "logged_on": true}), "{s}");
    let j = &s["journal"];
    assert_eq!(
        (j["available"].clone(), j["state"]["writable"].clone()),
        (json!(true), json!(true)),
        "{s}"
    );
    assert!(n(&j["state"]["bytes"]) > 0, "{s}");
    assert!(j["state"]["lag_records"].is_u64() && j["state"]["lag_bytes"].is_u64(), "{s}");
    assert!(j["state"]["lag_seconds"].as_f64().is_some_and(|l| l >= 0.0), "{s}");
    assert!(j["state"]["committed_seq"].is_u64(), "the session start is committed: {s}");
    assert_eq!(s["open_orders"]["available"], true);
    let ready = e.get("/ready");
    assert_eq!(ready.status, 200, "{}", ready.text());
    let checks = ready.json()["checks"].clone();
    let detail = |name: &str| {
        checks.as_array().unwrap().iter().find(|c| c["name"] == name).map(|c| c["detail"].clone())
    };
    assert_eq!(detail("feed:synthetic"), Some(json!("connected, books synced")), "{checks}");
    assert_eq!(detail("gateway"), Some(json!("logged on to sim")), "{checks}");
    assert_eq!(detail("journal"), Some(json!("writable")), "{checks}");

    let text = e.get("/metrics").text();
    for family in [
        "tickline_feed_connected{feed=\"synthetic\"} 1",
        "tickline_gateway_logged_on{venue=\"sim\"} 1",
        "tickline_journal_writable 1",
        "tickline_journal_bytes_total ",
        "tickline_journal_lag_records ",
        "tickline_journal_lag_bytes ",
        "tickline_journal_lag_seconds ",
        "tickline_open_orders ",
    ] {
        assert!(text.contains(family), "{family} missing in /metrics:\n{text}");
    }
    // Every family the Grafana dashboard charts is one this engine (feed, gateway, journal,
    // positions, limits and admin port all on) serves, but for the families with no sample
    // yet: a socket feed's frame counters (this feed is synthetic) and control actions
    // (none taken here).
    let families = dashboard_families();
    assert!(families.len() > 40, "{families:?}");
    let sampleless = ["frames", "gaps", "resyncs", "reconnects"]
        .map(|c| format!("tickline_feed_{c}_total"))
        .into_iter()
        .chain(["tickline_admin_control_actions_total".to_owned()])
        .collect::<Vec<_>>();
    let missing: Vec<&String> = families
        .iter()
        .filter(|f| !sampleless.contains(f) && !text.contains(&format!("# TYPE {f} ")))
        .collect();
    assert!(missing.is_empty(), "the dashboard charts {missing:?}, not in /metrics:\n{text}");
    if have("promtool", "prometheus") {
        let (ok, out) = promtool(&["check", "metrics"], Some(text.as_bytes()));
        assert!(ok, "promtool check metrics failed:\n{out}\n--- metrics ---\n{text}");
    }
}

#[test]
fn control_actions_take_effect_with_the_engines_reply() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    // The journal on, at a tenth of the default feed rate to keep it small.
    let mut e = Engine::start_with(
        "control",
        "token_file = \"TOKEN_FILE\"",
        "[journal]\nenabled = true\ndir = \"DIR/journal\"",
        |c| without_table(&c, "journal").replace("rate = 200000", "rate = 20000"),
    );
    let journal = e.dir.join("journal");
    let orders = |e: &Engine| e.status()["orders"].clone();
    e.wait_until("intents", |e| n(&orders(e)["intents"]) > 0);

    // Halt: the engine's reply, the halt state, and no approval after it.
    let r = e.control("POST", "/halt", Some(r#"{"reason": "e2e test"}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["results"][0]["command"], "halt");
    assert_eq!(v["results"][0]["reply"], "trading halted", "{v}");
    assert!(v["origin"].as_str().unwrap().starts_with("admin 127.0.0.1:"), "{v}");
    assert_eq!(v["journaled"], true, "{v}");
    let s = e.status();
    assert_eq!(s["halt"], json!({"halted": true, "cause": "operator"}));
    assert!(e.get("/metrics").text().contains("tickline_halted 1\n"));
    assert!(e.get("/metrics").text().contains("tickline_halt_cause{cause=\"operator\"} 1\n"));
    let approved = n(&s["orders"]["approved"]);
    let halted_rejects = n(&s["orders"]["rejects_by_reason"]["halted"]);
    e.wait_until("intents rejected as halted", |e| {
        n(&orders(e)["rejects_by_reason"]["halted"]) > halted_rejects
    });
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(n(&orders(&e)["approved"]), approved, "no order is approved while halted");

    // Cancel-all passes risk while halted: exactly one more approval, and nothing else.
    let r = e.control("POST", "/cancel-all", None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["reply"], "cancel-all sent");
    e.wait_until("the cancel-all approval", |e| n(&orders(e)["approved"]) == approved + 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(n(&orders(&e)["approved"]), approved + 1);

    // Resume needs its confirmation field.
    e.control("POST", "/resume", None).error(400, "confirmation_required", "confirm");
    e.control("POST", "/resume", Some(r#"{"confirm": "yes"}"#)).error(
        400,
        "confirmation_required",
        "resume",
    );
    assert_eq!(e.status()["halt"]["halted"], true, "a refused resume changes nothing");
    let r = e.control("POST", "/resume", Some(r#"{"confirm": "resume", "reason": "e2e"}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["reply"], "trading resumed");
    let s = e.status();
    assert_eq!(s["halt"], json!({"halted": false, "cause": "none"}));
    let halted_rejects = n(&s["orders"]["rejects_by_reason"]["halted"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        n(&orders(&e)["rejects_by_reason"]["halted"]),
        halted_rejects,
        "no halted rejects after resume"
    );

    // Disable both strategies: intents stop; enable: they start again.
    for name in ["threshold-a", "threshold-c"] {
        let r = e.control("PUT", &format!("/strategies/{name}"), Some(r#"{"enabled": false}"#));
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["results"][0]["reply"], format!("{name} disabled"));
    }
    let s = e.status();
    assert!(s["strategies"].as_array().unwrap().iter().all(|x| x["enabled"] == false), "{s}");
    let intents = n(&s["orders"]["intents"]);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(n(&orders(&e)["intents"]), intents, "disabled strategies emit nothing");
    for name in ["threshold-a", "threshold-c"] {
        let r = e.control("PUT", &format!("/strategies/{name}"), Some(r#"{"enabled": true}"#));
        assert_eq!(r.status, 200, "{}", r.text());
    }
    e.wait_until("intents after enabling", |e| n(&orders(e)["intents"]) > intents);

    // The engine refuses what it does not know, and says why.
    let r =
        e.control("PUT", "/strategies/threshold-a", Some(r#"{"params": {"no_such_param": "1"}}"#));
    r.error(422, "refused", "no_such_param");
    assert_eq!(r.json()["results"][0]["result"], "refused");
    let r = e.control("PUT", "/risk/limits", Some(r#"{"name": "no_such_limit", "value": "5"}"#));
    r.error(422, "refused", "no_such_limit");

    // A limit the engine may know: whatever it answers comes back verbatim.
    let r = e.control(
        "PUT",
        "/risk/limits",
        Some(r#"{"limits": [{"name": "max_order_qty", "instrument": "SYN-A", "value": "1000"}]}"#),
    );
    let v = r.json();
    assert!(r.status == 200 || r.status == 422, "{v}");
    assert!(v["results"][0]["reply"].as_str().is_some_and(|s| !s.is_empty()), "{v}");

    // Every action is in the control log with its origin, and counted.
    let log = e.status()["control_log"].clone();
    let commands: Vec<&str> =
        log.as_array().unwrap().iter().map(|c| c["command"].as_str().unwrap()).collect();
    for want in [
        "halt",
        "cancel-all",
        "resume",
        "disable threshold-a",
        "enable threshold-c",
        "limit no_such_limit=5",
    ] {
        assert!(commands.contains(&want), "{want} missing in {commands:?}");
    }
    assert!(log
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["origin"].as_str().unwrap().starts_with("admin 127.0.0.1:")));
    let m = e.get("/metrics").text();
    assert!(
        m.contains("tickline_admin_control_actions_total{action=\"halt\",result=\"ok\"} 1\n"),
        "{m}"
    );
    assert!(
        m.contains(
            "tickline_admin_control_actions_total{action=\"risk-limits\",result=\"refused\"}"
        ),
        "{m}"
    );
    e.health_ok();

    // Stopped, the engine's journal holds a Control record per command: what, from where,
    // and the engine's answer.
    e.stop();
    let out = Command::new(tickline())
        .args(["journal", "dump"])
        .arg(&journal)
        .args(["--type", "control", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "journal dump: {}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let find = |prefix: &str| {
        records
            .iter()
            .find(|r| r["text"].as_str().is_some_and(|t| t.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no control record for {prefix:?} in {records:?}"))
            .clone()
    };
    for (prefix, accepted) in [
        ("halt | admin 127.0.0.1:", true),
        ("cancel-all | admin 127.0.0.1:", true),
        ("resume | admin 127.0.0.1:", true),
        ("disable threshold-a | admin 127.0.0.1:", true),
        ("enable threshold-c | admin 127.0.0.1:", true),
        ("param threshold-a.no_such_param=1 | admin 127.0.0.1:", false),
        ("limit no_such_limit=5 | admin 127.0.0.1:", false),
    ] {
        let r = find(prefix);
        assert_eq!(r["kind"], "control");
        assert_eq!(r["accepted"], accepted, "{r}");
    }
    assert!(find("halt |")["text"].as_str().unwrap().ends_with("ok: trading halted"));
    println!("journal: {} control records", records.len());
}

#[test]
fn bad_input_gets_the_right_status_and_health_keeps_answering() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let e = Engine::start(
        "bad",
        "token_file = \"TOKEN_FILE\"\nmax_connections = 100\nmax_request_line = 1024\nmax_header_bytes = 4096\nmax_headers = 32\nmax_body_bytes = 1024\nread_timeout = \"1s\"\nidle_timeout = \"3s\"",
    );
    let strategy_events = |e: &Engine| {
        n(&e.status()["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "strategy")
            .unwrap()["events"])
    };
    let before = strategy_events(&e);

    // Malformed requests.
    e.raw(b"GARBAGE\r\n\r\n").error(400, "malformed_request", "");
    e.raw(b"GET /health HTTP/1.1\r\n\r\n").error(400, "malformed_request", "Host");
    e.raw(b"GET health HTTP/1.1\r\nHost: x\r\n\r\n").error(400, "malformed_request", "path");
    e.raw(b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n").error(
        505,
        "http_version_not_supported",
        "HTTP/1.1",
    );
    e.raw(b"POST /halt HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n").error(
        400,
        "malformed_request",
        "Content-Length",
    );
    e.raw(b"POST /halt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").error(
        501,
        "transfer_encoding_not_supported",
        "Content-Length",
    );
    e.health_ok();

    // Unknown paths and methods.
    e.get("/nope").error(404, "not_found", "/nope");
    e.get("/health/").error(404, "not_found", "/health/");
    let r = e.call("POST", "/health", &[], None);
    r.error(405, "method_not_allowed", "GET, HEAD");
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    e.call("GET", "/halt", &[], None).error(405, "method_not_allowed", "POST");
    e.call("DELETE", "/status", &[], None).error(501, "method_not_implemented", "DELETE");
    e.call("BREW", "/", &[], None).error(501, "method_not_implemented", "BREW");
    e.control("PUT", "/strategies/nope", Some(r#"{"enabled": false}"#)).error(
        404,
        "unknown_strategy",
        "nope",
    );

    // Missing and wrong tokens: refused before the body is read; nothing changes.
    let r = e.call("POST", "/halt", &[], None);
    r.error(401, "missing_token", "Bearer");
    assert!(r.header("www-authenticate").is_none_or(|h| h.starts_with("Bearer")));
    e.call("POST", "/halt", &[("Authorization", "Bearer wrong-token-wrong-token")], None).error(
        401,
        "invalid_token",
        "not valid",
    );
    e.call("POST", "/halt", &[("Authorization", &format!("Basic {TOKEN}"))], None).error(
        401,
        "missing_token",
        "Bearer",
    );
    e.call("POST", "/halt", &[("Authorization", &format!("Bearer {TOKEN}x"))], None).error(
        401,
        "invalid_token",
        "not valid",
    );
    e.call("PUT", "/risk/limits", &[], Some("{}")).error(401, "missing_token", "Bearer");
    assert_eq!(e.status()["halt"]["halted"], false, "no unauthenticated request halted trading");

    // Oversized request line, head, header count and body.
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(2000));
    e.raw(long.as_bytes()).error(414, "uri_too_long", "1024");
    let big = format!("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(5000));
    e.raw(big.as_bytes()).error(431, "header_fields_too_large", "4096");
    let many: String = (0..40).map(|i| format!("X-H{i}: v\r\n")).collect();
    e.raw(format!("GET /health HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes()).error(
        431,
        "header_fields_too_large",
        "32",
    );
    let auth = format!("Bearer {TOKEN}");
    e.raw(format!("PUT /risk/limits HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 5000\r\n\r\n").as_bytes())
        .error(413, "content_too_large", "1024");
    e.health_ok();

    // Invalid JSON and bodies.
    e.control("POST", "/resume", Some("{not json")).error(400, "invalid_json", "JSON");
    e.control("POST", "/halt", Some("[1, 2]")).error(400, "invalid_json", "object");
    e.control("POST", "/halt", Some(r#"{"reasn": "typo"}"#)).error(400, "invalid_body", "reasn");
    let r =
        e.call("POST", "/halt", &[("Authorization", &auth), ("Content-Type", "text/plain")], None);
    assert_eq!(r.status, 200, "no body, no content-type check: {}", r.text());
    e.control("POST", "/resume", Some(r#"{"confirm": "resume"}"#));
    let r = e.raw(format!("POST /cancel-all HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi").as_bytes());
    r.error(415, "unsupported_media_type", "application/json");
    e.control("PUT", "/strategies/threshold-a", Some("{}")).error(400, "invalid_body", "enabled");
    e.control("PUT", "/strategies/threshold-a", Some(r#"{"enabled": "yes"}"#)).error(
        400,
        "invalid_body",
        "enabled",
    );

    // Limits that fail validation never reach the engine.
    e.control("PUT", "/risk/limits", None).error(400, "invalid_body", "JSON body");
    e.control(
        "PUT",
        "/risk/limits",
        Some(r#"{"name": "max_order_qty", "instrument": "SYN-A", "value": "-5"}"#),
    )
    .error(422, "invalid_limit", "negative");
    e.control("PUT", "/risk/limits", Some(r#"{"name": "max_order_qty", "value": "lots"}"#)).error(
        422,
        "invalid_value",
        "lots",
    );
    e.control(
        "PUT",
        "/risk/limits",
        Some(r#"{"name": "max_order_qty", "instrument": "NOPE", "value": "1"}"#),
    )
    .error(422, "invalid_limit", "NOPE");
    e.control("PUT", "/risk/limits", Some(r#"{"name": "Max Qty", "value": "1"}"#)).error(
        422,
        "invalid_limit",
        "Max Qty",
    );
    e.control("PUT", "/risk/limits", Some(r#"{"value": "1"}"#)).error(400, "invalid_body", "name");
    e.control("PUT", "/risk/limits", Some(r#"{"limits": []}"#)).error(
        422,
        "invalid_limit",
        "empty",
    );
    e.control(
        "PUT",
        "/risk/limits",
        Some(r#"{"limits": [{"name": "max_order_qty", "value": true}]}"#),
    )
    .error(400, "invalid_body", "limits[0].value");
    let log = e.status()["control_log"].clone();
    assert!(
        !log.as_array()
            .unwrap()
            .iter()
            .any(|c| c["command"].as_str().unwrap().starts_with("limit")),
        "no invalid limit reached the engine: {log}"
    );
    e.get("/fills?limit=0").error(400, "invalid_query", "limit");
    e.get("/fills?limit=x&y=1").error(400, "invalid_query", "limit");

    // A slow client gets 408 after the read timeout; /health answers meanwhile.
    let mut slow = e.connect();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut drip = e.connect();
    drip.write_all(b"GET /he").unwrap();
    // A byte every 100 ms for 0.8 s: still sending, never finishing within the 1 s timeout.
    for b in b"alth HTT" {
        drip.write_all(&[*b]).unwrap();
        e.health_ok();
        std::thread::sleep(Duration::from_millis(100));
    }
    for (what, mut s) in [("slow", slow), ("drip", drip)] {
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let r = Reply::parse(&out)
            .unwrap_or_else(|| panic!("{what}: no response: {:?}", String::from_utf8_lossy(&out)));
        r.error(408, "request_timeout", "1s");
    }

    // Hundreds of idle connections: the cap (100) closes the longest-idle ones, /health still answers.
    let idle: Vec<TcpStream> = (0..300).map(|_| e.connect()).collect();
    e.health_ok();
    let m = e.get("/metrics").text();
    let evicted: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("tickline_admin_connections_evicted_total "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(evicted >= 190, "at least 300 - 100 idle connections were closed, got {evicted}");
    let open: u64 = m
        .lines()
        .find_map(|l| l.strip_prefix("tickline_admin_connections "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(open <= 100, "open connections stay under the cap: {open}");
    drop(idle);

    // The idle timeout closes a kept-alive connection that sends nothing.
    let mut quiet = e.connect();
    let t = Instant::now();
    let mut buf = [0u8; 16];
    let got = quiet.read(&mut buf).unwrap_or(0);
    assert_eq!(got, 0, "closed without a response");
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "closed after about the idle timeout, not at once"
    );

    // The engine never noticed.
    e.health_ok();
    let s = e.status();
    assert_eq!(s["state"], "running");
    assert_eq!(s["halt"]["halted"], false);
    assert!(strategy_events(&e) > before, "the pipeline kept running");
    let m = e.get("/metrics").text();
    for code in ["400", "401", "404", "405", "408", "413", "414", "415", "422", "431", "501", "505"]
    {
        assert!(
            m.contains(&format!("tickline_admin_responses_total{{code=\"{code}\"}}")),
            "{code} not counted"
        );
    }
}

#[test]
fn status_page_renders_in_headless_chromium() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let e = Engine::start("page", "");
    let page = e.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(page
        .header("content-security-policy")
        .is_some_and(|c| c.contains("default-src 'none'")));
    let html = page.text();
    assert!(
        html.contains("<canvas id=\"chart\">") && !html.contains("/*INITIAL_STATUS*/"),
        "status embedded"
    );
    for outside in ["http://", "https://", " src=\"", " href=\""] {
        assert!(!html.contains(outside), "the page loads nothing from outside ({outside})");
    }
    if !have("chromium", "chromium") {
        return;
    }
    // Let the sampler collect a few latency intervals for the chart.
    std::thread::sleep(Duration::from_secs(3));
    let out_dir = target_dir().join("admin");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("status-page.png");
    let _ = std::fs::remove_file(&shot);
    let url = format!("http://{}/", e.addr);
    let chromium = |extra: &[String]| {
        let profile = scratch(&format!("chromium-{}", extra.len()));
        let mut cmd = Command::new("chromium");
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,1300",
            "--virtual-time-budget=4000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(&url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        cmd.output().expect("running chromium")
    };
    let out = chromium(&["--dump-dom".to_owned()]);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rendered in [
        "data-stage=\"strategy\"",
        "data-stage=\"feed:synthetic\"",
        ">running<",
        ">trading<",
        "threshold-a",
        "logged on",
    ] {
        assert!(dom.contains(rendered), "the script did not render {rendered:?}:\n{dom}");
    }
    let out = chromium(&[format!("--screenshot={}", shot.display())]);
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png =
        std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(png.len() > 20_000, "a rendered page, not a blank one ({} bytes)", png.len());
    println!("status page screenshot: {} ({} bytes)", shot.display(), png.len());
}

#[test]
fn refuses_unsafe_admin_configs_before_starting() {
    let dir = scratch("admin-refuse");
    let base = without_table(&default_config(), "admin");
    let run = |name: &str, admin: &str, env: &[(&str, &str)]| {
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, format!("{base}\n[admin]\nenabled = true\n{admin}\n")).unwrap();
        let mut cmd = Command::new(tickline());
        cmd.args(["run", "--duration", "30s", "--config"]).arg(&path);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t = Instant::now();
        let out = cmd.output().unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{name}: refused at start-up, not after a run"
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.stdout.is_empty(),
        )
    };
    let (code, err, nothing) = run("open", "bind = \"0.0.0.0:0\"", &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("admin.bind") && err.contains("token"), "{err}");
    assert!(nothing, "nothing ran");
    let check =
        Command::new(tickline()).arg("check-config").arg(dir.join("open.toml")).output().unwrap();
    assert_eq!(check.status.code(), Some(2));

    let (code, err, nothing) =
        run("noenv", "bind = \"127.0.0.1:0\"\ntoken_env = \"TICKLINE_E2E_UNSET_TOKEN\"", &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("TICKLINE_E2E_UNSET_TOKEN"), "{err}");
    assert!(nothing);

    let token = dir.join("loose-token");
    std::fs::write(&token, TOKEN).unwrap();
    set_mode(&token, 0o644);
    let (code, err, _) =
        run("loose", &format!("bind = \"127.0.0.1:0\"\ntoken_file = \"{}\"", token.display()), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("chmod 600"), "{err}");

    let (code, err, _) = run(
        "short",
        "bind = \"127.0.0.1:0\"\ntoken_env = \"TICKLINE_E2E_SHORT\"",
        &[("TICKLINE_E2E_SHORT", "abc")],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("shorter than 16"), "{err}");

    // A port already taken is an error naming the key, before the pipeline starts.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (code, err, _) = run("taken", &format!("bind = \"{}\"", taken.local_addr().unwrap()), &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("admin.bind") && err.contains("cannot listen"), "{err}");

    // Beyond loopback with a token is allowed (checked without starting).
    let path = dir.join("ok.toml");
    std::fs::write(
        &path,
        format!("{base}\n[admin]\nenabled = true\nbind = \"0.0.0.0:9100\"\ntoken_env = \"X\"\n"),
    )
    .unwrap();
    let check = Command::new(tickline()).arg("check-config").arg(&path).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
}

#[test]
fn reads_can_require_the_token() {
    let _one = ONE_ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    let e = Engine::start("reads", "token_file = \"TOKEN_FILE\"\ntoken_for_reads = true");
    e.health_ok();
    assert_eq!(e.get("/ready").status, 200, "probes stay open");
    for path in ["/metrics", "/status", "/config", "/"] {
        e.get(path).error(401, "missing_token", "Bearer");
    }
    let auth = format!("Bearer {TOKEN}");
    let r = e.call("GET", "/metrics", &[("Authorization", &auth)], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("tickline_halted 0"));
}
