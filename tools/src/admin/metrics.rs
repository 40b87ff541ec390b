//! `/metrics`: the Prometheus text exposition format (version 0.0.4).
//!
//! Names follow Prometheus conventions: a `tickline_` prefix, counters end in `_total`,
//! latencies are in seconds, every family has `HELP` and `TYPE`, and a family with no samples
//! is left out. Latencies come twice: as histograms (`_seconds_bucket`), which Prometheus can
//! aggregate over any window (`histogram_quantile(0.99, rate(...[5m]))`), and as summaries of
//! the whole run (`_quantiles_seconds`) with the percentiles operators ask for.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use tickline_engine::risk::HaltCause;

use super::view::View;

/// `Content-Type` of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Histogram bucket bounds, nanoseconds: 100 ns to 1 s.
const BOUNDS_NS: [u64; 19] = [
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    100_000_000,
    1_000_000_000,
];

/// Quantiles of the summaries.
const QUANTILES: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 0.9999];

/// The admin server's own counters.
#[derive(Clone, Debug, Default)]
pub struct AdminCounters {
    /// Responses by status code.
    pub responses: Vec<(u16, u64)>,
    /// Connections open now.
    pub open: usize,
    /// Connections accepted.
    pub accepted: u64,
    /// Idle connections closed to make room under the cap.
    pub evicted: u64,
    /// Connections refused at the cap (nothing idle to close).
    pub refused: u64,
    /// Requests that ran past the read timeout.
    pub timeouts: u64,
    /// Control actions by action and result (`ok`, `refused`, `error`).
    pub control: Vec<(String, &'static str, u64)>,
}

impl AdminCounters {
    /// Counts a response.
    pub fn response(&mut self, status: u16) {
        match self.responses.iter_mut().find(|(s, _)| *s == status) {
            Some(slot) => slot.1 += 1,
            None => {
                self.responses.push((status, 1));
                self.responses.sort_unstable();
            }
        }
    }

    /// Counts a control action.
    pub fn control(&mut self, action: &str, result: &'static str) {
        match self.control.iter_mut().find(|(a, r, _)| a == action && *r == result) {
            Some(slot) => slot.2 += 1,
            None => self.control.push((action.to_owned(), result, 1)),
        }
    }
}

struct Out {
    text: String,
}

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// A family with one sample per `(labels, value)`; nothing when `samples` is empty.
    fn simple<'a, V: std::fmt::Display>(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        samples: impl IntoIterator<Item = (Vec<(&'a str, &'a str)>, V)>,
    ) {
        let mut samples = samples.into_iter().peekable();
        if samples.peek().is_none() {
            return;
        }
        self.family(name, kind, help);
        for (labels, v) in samples {
            self.sample(name, &labels, v);
        }
    }

    fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram<u64>) {
        let recorded: Vec<(u64, u64)> =
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect();
        let bucket = format!("{name}_bucket");
        for le in BOUNDS_NS {
            let n: u64 = recorded.iter().filter(|(v, _)| *v <= le).map(|(_, c)| c).sum();
            let le = seconds(le);
            let mut l = labels.to_vec();
            l.push(("le", &le));
            self.sample(&bucket, &l, n);
        }
        let mut l = labels.to_vec();
        l.push(("le", "+Inf"));
        self.sample(&bucket, &l, h.len());
        let sum = recorded.iter().fold(0.0, |acc, (v, c)| acc + *v as f64 * *c as f64) / 1e9;
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, h.len());
    }

    fn summary(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram<u64>) {
        for q in QUANTILES {
            let qs = q.to_string();
            let mut l = labels.to_vec();
            l.push(("quantile", &qs));
            if h.is_empty() {
                self.sample(name, &l, "NaN");
            } else {
                self.sample(name, &l, seconds(h.value_at_quantile(q)));
            }
        }
        let sum = h
            .iter_recorded()
            .fold(0.0, |acc, v| acc + v.value_iterated_to() as f64 * v.count_at_value() as f64)
            / 1e9;
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, h.len());
    }
}

/// Nanoseconds as a seconds literal.
fn seconds(ns: u64) -> String {
    format!("{}", ns as f64 / 1e9)
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

const HALT_CAUSES: [HaltCause; 5] = [
    HaltCause::Operator,
    HaltCause::StagePanic,
    HaltCause::Shutdown,
    HaltCause::RiskLimit,
    HaltCause::Journal,
];

fn cause_name(c: HaltCause) -> &'static str {
    match c {
        HaltCause::None => "none",
        HaltCause::Operator => "operator",
        HaltCause::StagePanic => "stage_panic",
        HaltCause::Shutdown => "shutdown",
        HaltCause::RiskLimit => "risk_limit",
        HaltCause::Journal => "journal",
    }
}

/// Name of a halt cause, as in metrics and JSON.
pub fn halt_cause_name(c: HaltCause) -> &'static str {
    cause_name(c)
}

/// Renders every family.
pub fn render(v: &View, admin: &AdminCounters, start_unix_s: f64) -> String {
    let mut o = Out { text: String::with_capacity(32 * 1024) };
    o.simple(
        "tickline_build_info",
        "gauge",
        "Always 1; the labels say which build is running.",
        [(vec![("version", env!("CARGO_PKG_VERSION"))], 1)],
    );
    o.simple(
        "tickline_start_time_seconds",
        "gauge",
        "When the admin sidecar started, seconds since the Unix epoch.",
        [(vec![], start_unix_s)],
    );
    o.simple(
        "tickline_pipeline_running",
        "gauge",
        "1 while the pipeline runs; 0 once a stop was requested or a stage failed.",
        [(vec![], u8::from(!v.stopping && !v.failed))],
    );
    o.simple(
        "tickline_pipeline_failed",
        "gauge",
        "1 once a stage has panicked (trading was halted).",
        [(vec![], u8::from(v.failed))],
    );
    o.simple(
        "tickline_ready",
        "gauge",
        "1 when GET /ready answers 200: pipeline running, feeds up, gateway logged on, journal writable.",
        [(vec![], u8::from(super::status::readiness(v).0))],
    );
    o.simple(
        "tickline_halted",
        "gauge",
        "1 while trading is halted: no new order passes risk, cancels still do.",
        [(vec![], u8::from(v.halted))],
    );
    o.simple(
        "tickline_halt_cause",
        "gauge",
        "1 for the cause of the current halt, 0 for the others.",
        HALT_CAUSES
            .iter()
            .map(|c| (vec![("cause", cause_name(*c))], u8::from(v.halted && v.halt_cause == *c))),
    );
    let stages = &v.tel.stages;
    o.simple(
        "tickline_stage_events_total",
        "counter",
        "Events each stage took in (strategy: ticks; risk: intents; gateway: orders; recorder: records; feeds take nothing in).",
        stages.iter().map(|s| (vec![("stage", s.name.as_str())], s.events)),
    );
    o.simple(
        "tickline_stage_emitted_total",
        "counter",
        "Events each stage emitted downstream (feeds: ticks published; strategy: intents; risk: approvals; gateway: execution reports).",
        stages.iter().map(|s| (vec![("stage", s.name.as_str())], s.emitted)),
    );
    o.simple(
        "tickline_stage_errors_total",
        "counter",
        "Events each stage refused or could not handle (risk: rejects).",
        stages.iter().map(|s| (vec![("stage", s.name.as_str())], s.errors)),
    );
    let rings = &v.tel.rings;
    o.simple(
        "tickline_ring_capacity",
        "gauge",
        "Slots in each ring.",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.capacity)),
    );
    o.simple(
        "tickline_ring_depth",
        "gauge",
        "Values published to each ring that its slowest consumer has not read yet.",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.depth)),
    );
    o.simple(
        "tickline_ring_pushed_total",
        "counter",
        "Values published to each ring.",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.pushed)),
    );
    o.simple(
        "tickline_ring_dropped_total",
        "counter",
        "Values lapped consumers missed (drop-oldest rings).",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.dropped)),
    );
    o.simple(
        "tickline_ring_conflated_total",
        "counter",
        "Values replaced by a newer one for the same instrument (conflate rings).",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.conflated)),
    );
    o.simple(
        "tickline_ring_full_total",
        "counter",
        "Times the producer found each ring full (back-pressure on block rings).",
        rings.iter().map(|r| (vec![("ring", r.name.as_str())], r.full)),
    );
    let strategy = v.stage_count("strategy", |s| s.emitted);
    let sent = v.stage_count("gateway", |s| s.events);
    o.simple(
        "tickline_intents_total",
        "counter",
        "Order intents the strategies emitted.",
        [(vec![], strategy)],
    );
    o.simple(
        "tickline_orders_total",
        "counter",
        "Orders by state reached: approved by risk, sent to the venue by the gateway.",
        [(vec![("state", "approved")], v.approved), (vec![("state", "sent")], sent)],
    );
    o.simple(
        "tickline_risk_rejects_total",
        "counter",
        "Intents the risk stage refused, by reason.",
        v.rejects.iter().map(|(r, n)| (vec![("reason", *r)], *n)),
    );
    o.simple(
        "tickline_risk_auto_halts_total",
        "counter",
        "Halts the risk stage tripped by itself (daily loss, drawdown, execution throttle).",
        [(vec![], v.auto_halts)],
    );
    o.simple(
        "tickline_risk_unknown_reports_total",
        "counter",
        "Execution reports naming no order the risk stage tracks.",
        [(vec![], v.unknown_reports)],
    );
    o.simple(
        "tickline_position_errors_total",
        "counter",
        "Fills the position book could not apply (bad quantity or price, overflow).",
        [(vec![], v.position_errors)],
    );
    o.simple(
        "tickline_fills_total",
        "counter",
        "Fills seen by the strategy stage.",
        [(vec![], v.tel.fills)],
    );
    o.simple(
        "tickline_exec_reports_total",
        "counter",
        "Execution reports seen by the strategy stage.",
        [(vec![], v.tel.exec_reports)],
    );
    o.simple(
        "tickline_events_lost_total",
        "counter",
        "Events lost because the thread that should take them had stopped (0 in a clean run).",
        [(vec![], v.tel.lost)],
    );
    if let Some(n) = v.open_orders {
        o.simple(
            "tickline_open_orders",
            "gauge",
            "Orders the venue has not finished with.",
            [(vec![], n)],
        );
    }
    if let Some(feeds) = &v.feeds {
        let f = |get: fn(&super::source::FeedState) -> Option<u64>| {
            feeds.iter().filter_map(move |s| get(s).map(|n| (vec![("feed", s.name.as_str())], n)))
        };
        o.simple(
            "tickline_feed_connected",
            "gauge",
            "1 while the feed's venue connection is up (synthetic and capture feeds: while live).",
            feeds.iter().map(|s| (vec![("feed", s.name.as_str())], u8::from(s.connected))),
        );
        o.simple(
            "tickline_feed_books_synced",
            "gauge",
            "1 while every order book of the feed is in sync (always 1 for synthetic and capture feeds).",
            feeds.iter().map(|s| (vec![("feed", s.name.as_str())], u8::from(s.books_synced))),
        );
        o.simple(
            "tickline_feed_last_tick_age_seconds",
            "gauge",
            "Age of the last tick the feed published.",
            feeds.iter().filter_map(|s| {
                s.last_tick_age_ns.map(|n| (vec![("feed", s.name.as_str())], seconds(n)))
            }),
        );
        o.simple("tickline_feed_frames_total", "counter", "Frames received.", f(|s| s.frames));
        o.simple("tickline_feed_gaps_total", "counter", "Sequence gaps detected.", f(|s| s.gaps));
        o.simple("tickline_feed_resyncs_total", "counter", "Order book resyncs.", f(|s| s.resyncs));
        o.simple("tickline_feed_reconnects_total", "counter", "Reconnects.", f(|s| s.reconnects));
    }
    if let Some(g) = &v.gateway {
        o.simple(
            "tickline_gateway_logged_on",
            "gauge",
            "1 while the gateway is logged on to its venue.",
            [(vec![("venue", g.venue.as_str())], u8::from(g.logged_on))],
        );
    }
    if let Some(j) = &v.journal {
        o.simple(
            "tickline_journal_writable",
            "gauge",
            "1 while the journal can append.",
            [(vec![], u8::from(j.writable))],
        );
        o.simple(
            "tickline_journal_bytes_total",
            "counter",
            "Bytes this session appended to the journal (frames with their headers).",
            [(vec![], j.bytes)],
        );
        o.simple(
            "tickline_journal_lag_records",
            "gauge",
            "Records produced but not yet committed to the journal (queued in the records ring or appended).",
            [(vec![], j.lag_records)],
        );
        o.simple(
            "tickline_journal_lag_bytes",
            "gauge",
            "Bytes appended to the journal but not yet committed.",
            [(vec![], j.lag_bytes)],
        );
        o.simple(
            "tickline_journal_lag_seconds",
            "gauge",
            "Age of the oldest record appended to the journal but not yet committed (0 when none).",
            [(vec![], j.lag_seconds)],
        );
    }
    if let Some(pos) = &v.positions {
        o.simple(
            "tickline_position",
            "gauge",
            "Signed position per instrument, in the instrument's quantity unit.",
            pos.iter().map(|p| (vec![("instrument", p.instrument.as_str())], p.qty)),
        );
        o.simple(
            "tickline_realized_pnl",
            "gauge",
            "Realized PnL per instrument, in its quote currency.",
            pos.iter().map(|p| (vec![("instrument", p.instrument.as_str())], p.realized_pnl)),
        );
        o.simple(
            "tickline_unrealized_pnl",
            "gauge",
            "Unrealized PnL per instrument at the last mark, in its quote currency.",
            pos.iter().filter_map(|p| {
                p.unrealized_pnl.map(|u| (vec![("instrument", p.instrument.as_str())], u))
            }),
        );
        o.simple(
            "tickline_position_fills_total",
            "counter",
            "Fills applied to each instrument's position.",
            pos.iter().map(|p| (vec![("instrument", p.instrument.as_str())], p.fills)),
        );
    }
    if let Some(t) = &v.pnl {
        o.simple(
            "tickline_net_pnl",
            "gauge",
            "Net PnL over every instrument (realized + unrealized - fees), quote currency.",
            [(vec![], t.net)],
        );
        o.simple(
            "tickline_peak_net_pnl",
            "gauge",
            "Highest net PnL seen (the drawdown limit's reference), quote currency.",
            [(vec![], t.peak)],
        );
    }
    if let Some(limits) = &v.limits {
        fn labels(l: &super::source::RiskLimitUse) -> Vec<(&'static str, &str)> {
            let mut v = vec![("limit", l.name.as_str())];
            if let Some(i) = &l.instrument {
                v.push(("instrument", i.as_str()));
            }
            v
        }
        o.simple(
            "tickline_risk_limit",
            "gauge",
            "Each risk limit's value.",
            limits.iter().map(|l| (labels(l), l.limit)),
        );
        o.simple(
            "tickline_risk_limit_used",
            "gauge",
            "How much of each risk limit is used.",
            limits.iter().filter_map(|l| l.used.map(|u| (labels(l), u))),
        );
    }
    o.family(
        "tickline_tick_to_order_seconds",
        "histogram",
        "Tick receive time to the order's hand-off to the venue, every order (bucket bounds within 1.6 %).",
    );
    o.histogram("tickline_tick_to_order_seconds", &[], &v.tick_to_order);
    o.family(
        "tickline_tick_to_order_quantiles_seconds",
        "summary",
        "Tick-to-order quantiles over the whole run, from the same distribution as tickline_tick_to_order_seconds.",
    );
    o.summary("tickline_tick_to_order_quantiles_seconds", &[], &v.tick_to_order);
    if !v.stage_hists.is_empty() {
        o.family(
            "tickline_stage_latency_seconds",
            "histogram",
            "Time each stage spent per event (one event in 64 is timed).",
        );
        for (stage, h) in &v.stage_hists {
            o.histogram("tickline_stage_latency_seconds", &[("stage", stage)], h);
        }
        o.family(
            "tickline_stage_latency_quantiles_seconds",
            "summary",
            "Per-stage latency quantiles over the whole run (one event in 64 is timed).",
        );
        for (stage, h) in &v.stage_hists {
            o.summary("tickline_stage_latency_quantiles_seconds", &[("stage", stage)], h);
        }
    }
    let codes: Vec<(String, u64)> =
        admin.responses.iter().map(|(code, n)| (code.to_string(), *n)).collect();
    o.simple(
        "tickline_admin_responses_total",
        "counter",
        "Admin HTTP responses by status code.",
        codes.iter().map(|(c, n)| (vec![("code", c.as_str())], *n)),
    );
    o.simple(
        "tickline_admin_connections",
        "gauge",
        "Admin HTTP connections open now.",
        [(vec![], admin.open)],
    );
    o.simple(
        "tickline_admin_connections_accepted_total",
        "counter",
        "Admin HTTP connections accepted.",
        [(vec![], admin.accepted)],
    );
    o.simple(
        "tickline_admin_connections_evicted_total",
        "counter",
        "Idle admin connections closed to make room under the connection cap.",
        [(vec![], admin.evicted)],
    );
    o.simple(
        "tickline_admin_connections_refused_total",
        "counter",
        "Admin connections refused with 503 at the cap (no idle connection to close).",
        [(vec![], admin.refused)],
    );
    o.simple(
        "tickline_admin_read_timeouts_total",
        "counter",
        "Requests not received in full within the read timeout (408).",
        [(vec![], admin.timeouts)],
    );
    o.simple(
        "tickline_admin_control_actions_total",
        "counter",
        "Control actions by action and result.",
        admin.control.iter().map(|(a, r, n)| (vec![("action", a.as_str()), ("result", *r)], *n)),
    );
    o.text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 1 << 41, 3).unwrap();
        h.record_n(90, 3).unwrap();
        h.record_n(2_000, 5).unwrap();
        h.record_n(2_000_000_000, 1).unwrap();
        let mut o = Out { text: String::new() };
        o.histogram("x_seconds", &[("stage", "a\"b")], &h);
        let t = o.text;
        assert!(t.contains("x_seconds_bucket{stage=\"a\\\"b\",le=\"0.0000001\"} 3\n"), "{t}");
        assert!(t.contains("le=\"0.0000025\"} 8\n"), "{t}");
        assert!(t.contains("le=\"1\"} 8\n"), "{t}");
        assert!(t.contains("le=\"+Inf\"} 9\n"), "{t}");
        assert!(t.contains("x_seconds_count{stage=\"a\\\"b\"} 9\n"), "{t}");
    }
}
