//! The JSON bodies of `/status`, `/ready` and `/risk`.

use std::time::Instant;

use serde_json::{json, Map, Value};
use tickline_engine::runtime::StageRef;
use tickline_engine::telemetry::Percentiles;

use super::metrics::halt_cause_name;
use super::routes::App;
use super::source::missing;
use super::view::View;

fn percentiles(p: &Percentiles) -> Value {
    json!({"count": p.count, "p50": p.p50, "p90": p.p90, "p99": p.p99, "p999": p.p999, "p9999": p.p9999, "max": p.max})
}

fn unavailable(reason: &str) -> Value {
    json!({"available": false, "reason": reason})
}

/// Orders by state, from telemetry.
pub fn order_counts(v: &View) -> Value {
    let rejects: Map<String, Value> =
        v.rejects.iter().map(|(r, n)| ((*r).to_owned(), Value::from(*n))).collect();
    json!({
        "intents": v.stage_count("strategy", |s| s.emitted),
        "approved": v.approved,
        "sent": v.stage_count("gateway", |s| s.events),
        "rejected": v.rejects_total(),
        "rejects_by_reason": rejects,
    })
}

/// `/risk`: halt state, decisions, limits.
pub fn risk(v: &View) -> Value {
    let limits = match &v.limits {
        Some(l) => json!({"available": true, "limits": l}),
        None => unavailable(missing::LIMITS),
    };
    json!({
        "halt": {"halted": v.halted, "cause": halt_cause_name(v.halt_cause)},
        "orders": order_counts(v),
        "limits": limits,
    })
}

/// Readiness checks: feeds, gateway, journal, pipeline. Ready when every check passes.
pub fn readiness(v: &View) -> (bool, Vec<Value>) {
    let mut checks = Vec::new();
    let mut check = |name: &str, ok: bool, detail: String| {
        checks.push(json!({"name": name, "ok": ok, "detail": detail}));
    };
    check(
        "pipeline",
        !v.stopping && !v.failed,
        match v.state() {
            "running" => "running".into(),
            "failed" => "a stage panicked; trading is halted".into(),
            _ => "shutting down".into(),
        },
    );
    match &v.feeds {
        Some(feeds) => {
            for f in feeds {
                let ok = f.connected && f.books_synced;
                let detail = match (f.connected, f.books_synced) {
                    (true, true) => "connected, books synced".to_owned(),
                    (false, _) => "not connected".to_owned(),
                    (true, false) => "connected, books not synced".to_owned(),
                };
                check(&format!("feed:{}", f.name), ok, detail);
            }
        }
        None => {
            for st in v.tel.stages.iter().filter(|s| s.name.starts_with("feed:")) {
                let (s, ticks) = (&st.name, st.emitted);
                let detail = if ticks > 0 {
                    format!("{ticks} ticks published (connection state not reported)")
                } else {
                    "no tick published yet".to_owned()
                };
                check(s, ticks > 0, detail);
            }
        }
    }
    match &v.gateway {
        Some(g) => check(
            "gateway",
            g.logged_on,
            if g.logged_on {
                format!("logged on to {}", g.venue)
            } else {
                format!("not logged on to {}", g.venue)
            },
        ),
        None => check("gateway", true, format!("not reported: {}", missing::GATEWAY)),
    }
    match &v.journal {
        Some(j) => check(
            "journal",
            j.writable,
            if j.writable { "writable".into() } else { "not writable".into() },
        ),
        None => check("journal", true, format!("not reported: {}", missing::JOURNAL)),
    }
    let ready = checks.iter().all(|c| c["ok"] == true);
    (ready, checks)
}

fn stage_name(app: &App, s: &StageRef) -> String {
    match s {
        StageRef::Feed(i) => app
            .sources
            .config
            .feeds
            .get(*i)
            .map_or_else(|| format!("feed:{i}"), |f| format!("feed:{}", f.name())),
        StageRef::Strategy => "strategy".into(),
        StageRef::Risk => "risk".into(),
        StageRef::Gateway => "gateway".into(),
    }
}

/// `/status`.
pub fn status(app: &App, v: &View) -> Value {
    let now = Instant::now();
    let plan = &app.sources.plan;
    let mut threads: Vec<Value> = plan
        .hot
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "core": t.core,
                "wait": t.wait.name(),
                "stages": t.stages.iter().map(|s| stage_name(app, s)).collect::<Vec<_>>(),
                "hot": true,
            })
        })
        .collect();
    threads.push(json!({
        "name": plan.aux.name,
        "core": plan.aux.core,
        "wait": plan.aux.wait.name(),
        "stages": if app.sources.journaled { vec!["recorder"] } else { vec![] },
        "hot": false,
    }));
    let stages: Vec<Value> = v
        .tel
        .stages
        .iter()
        .map(|s| {
            json!({
                "name": s.name,
                "events": s.events,
                "emitted": s.emitted,
                "errors": s.errors,
                "events_per_s": app.sampler.rate(&s.name),
                "emitted_per_s": app.sampler.emitted_rate(&s.name),
                "latency_ns": percentiles(&s.latency),
            })
        })
        .collect();
    let rings: Vec<Value> = v
        .tel
        .rings
        .iter()
        .map(|r| {
            json!({
                "name": r.name,
                "policy": r.policy,
                "capacity": r.capacity,
                "depth": r.depth,
                "fill": if r.capacity > 0 { r.depth as f64 / r.capacity as f64 } else { 0.0 },
                "pushed": r.pushed,
                "dropped": r.dropped,
                "conflated": r.conflated,
                "full": r.full,
            })
        })
        .collect();
    let feeds: Vec<Value> = app
        .sources
        .config
        .feeds
        .iter()
        .map(|f| {
            let stage = format!("feed:{}", f.name());
            let reported = v.feeds.as_ref().and_then(|fs| fs.iter().find(|s| s.name == f.name()));
            let observed_age = app.sampler.since_moved(&stage, now).map(|d| d.as_millis() as u64);
            json!({
                "name": f.name(),
                "ticks": v.stage_count(&stage, |s| s.emitted),
                "ticks_per_s": app.sampler.emitted_rate(&stage),
                "last_tick_age_ms": reported.and_then(|r| r.last_tick_age_ns.map(|n| n / 1_000_000)).or(observed_age),
                "last_tick_age_source": if reported.is_some_and(|r| r.last_tick_age_ns.is_some()) { "feed" } else { "sidecar sample (1 s resolution)" },
                "state": match reported {
                    Some(r) => json!(r),
                    None => unavailable(missing::FEEDS),
                },
            })
        })
        .collect();
    let positions = match &v.positions {
        Some(p) => json!({"available": true, "positions": p, "totals": v.pnl}),
        None => unavailable(missing::POSITIONS),
    };
    let open_orders = match v.open_orders {
        Some(n) => json!({"available": true, "count": n}),
        None => unavailable(missing::ORDERS),
    };
    let gateway = match &v.gateway {
        Some(g) => json!({"available": true, "venue": g.venue, "logged_on": g.logged_on}),
        None => unavailable(missing::GATEWAY),
    };
    let journal = match &v.journal {
        Some(j) => json!({"available": true, "state": j}),
        None => json!({
            "available": false,
            "reason": missing::JOURNAL,
            "records_ring": app.sources.journaled,
        }),
    };
    let (ready, _) = readiness(v);
    json!({
        "version": env!("CARGO_PKG_VERSION"),
        "time_ms": v.unix_ns / 1_000_000,
        "uptime_s": v.uptime.as_secs_f64(),
        "state": v.state(),
        "ready": ready,
        "config_origin": app.sources.origin,
        "halt": {"halted": v.halted, "cause": halt_cause_name(v.halt_cause)},
        "threads": threads,
        "stages": stages,
        "rings": rings,
        "feeds": feeds,
        "orders": order_counts(v),
        "fills": v.tel.fills,
        "exec_reports": v.tel.exec_reports,
        "lost": v.tel.lost,
        "tick_to_order_ns": percentiles(&v.tel.tick_to_order),
        "latency_history": app.sampler.history,
        "latency_history_interval_ms": app.sampler.period.as_millis() as u64,
        "strategies": app.strategies(),
        "positions": positions,
        "open_orders": open_orders,
        "gateway": gateway,
        "journal": journal,
        "control_log": app.control_log().collect::<Vec<_>>(),
        "admin": {"connections": app.counters.open, "uptime_s": app.uptime_s()},
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hdrhistogram::Histogram;
    use tickline_engine::risk::{HaltCause, RejectReason};
    use tickline_engine::telemetry::{StageSnapshot, TelemetrySnapshot};

    use super::*;
    use crate::admin::source::{FeedState, GatewayState, JournalState};

    fn view(feed_ticks: u64) -> View {
        let stage = |name: &str, emitted| StageSnapshot {
            name: name.into(),
            events: 0,
            emitted,
            errors: 0,
            latency: Percentiles::default(),
        };
        View {
            unix_ns: 0,
            uptime: Duration::ZERO,
            tel: TelemetrySnapshot {
                stages: vec![stage("feed:a", feed_ticks), stage("strategy", 0)],
                rings: vec![],
                tick_to_order: Percentiles::default(),
                fills: 0,
                exec_reports: 0,
                lost: 0,
            },
            stage_hists: vec![],
            tick_to_order: Histogram::new(3).unwrap(),
            approved: 0,
            rejects: RejectReason::ALL.map(|r| (r.as_str(), 0)),
            halted: false,
            halt_cause: HaltCause::None,
            stopping: false,
            failed: false,
            feeds: None,
            gateway: None,
            journal: None,
            positions: None,
            pnl: None,
            open_orders: None,
            limits: None,
            auto_halts: 0,
            unknown_reports: 0,
            position_errors: 0,
        }
    }

    fn failing(checks: &[Value]) -> Vec<String> {
        checks
            .iter()
            .filter(|c| c["ok"] == false)
            .map(|c| format!("{}: {}", c["name"].as_str().unwrap(), c["detail"].as_str().unwrap()))
            .collect()
    }

    #[test]
    fn readiness_names_what_is_not_ready() {
        assert!(readiness(&view(10)).0);
        let (ready, checks) = readiness(&view(0));
        assert!(!ready);
        assert_eq!(failing(&checks), ["feed:a: no tick published yet"]);
        let mut v = view(10);
        v.stopping = true;
        assert_eq!(failing(&readiness(&v).1), ["pipeline: shutting down"]);
        v.failed = true;
        assert_eq!(failing(&readiness(&v).1), ["pipeline: a stage panicked; trading is halted"]);
        // Reported state wins over telemetry.
        let mut v = view(10);
        v.feeds = Some(vec![FeedState {
            name: "a".into(),
            connected: true,
            books_synced: false,
            last_tick_age_ns: None,
            frames: None,
            gaps: None,
            resyncs: None,
            reconnects: None,
        }]);
        v.gateway = Some(GatewayState { venue: "sim".into(), logged_on: false });
        v.journal = Some(JournalState {
            writable: false,
            bytes: 0,
            lag_records: 0,
            lag_bytes: 0,
            lag_seconds: 0.0,
            committed_seq: None,
        });
        assert_eq!(
            failing(&readiness(&v).1),
            [
                "feed:a: connected, books not synced",
                "gateway: not logged on to sim",
                "journal: not writable"
            ]
        );
        // All up: ready, whatever the tick counters say.
        let mut v = view(0);
        v.feeds = Some(vec![FeedState {
            name: "a".into(),
            connected: true,
            books_synced: true,
            last_tick_age_ns: None,
            frames: None,
            gaps: None,
            resyncs: None,
            reconnects: None,
        }]);
        v.gateway = Some(GatewayState { venue: "sim".into(), logged_on: true });
        assert!(readiness(&v).0, "{:?}", failing(&readiness(&v).1));
        // A halt is not a readiness failure: the engine serves, it just does not trade.
        let mut v = view(10);
        v.halted = true;
        assert!(readiness(&v).0);
    }
}
