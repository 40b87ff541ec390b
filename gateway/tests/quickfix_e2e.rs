//! End-to-end tests of the FIX initiator against a FIX engine that is not ours: a QuickFIX
//! acceptor (`tests/quickfix/acceptor.cpp`) validating every message against the FIX 4.4 data
//! dictionary in `../shared/data/fix/FIX44.xml`.
//!
//! Each test compiles the acceptor once into the target dir (g++ and `libquickfix-dev`), starts
//! its own on 127.0.0.1 and a free port, drives a `FixVenue` with risk-approved orders, and
//! stops the acceptor at the end. Without QuickFIX the tests say so and pass, except under
//! `CI=true`, where a missing QuickFIX or dictionary fails them (`.ci/run` installs it).
//!
//! No timing assertions: waits have generous deadlines that only turn a hang into a failure.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tickline_engine::record::RecordBody;
use tickline_engine::risk::{HaltSwitch, RiskLimits, RiskSeed, RiskSetup, RiskStage, SeedBuilder};
use tickline_engine::stage::{ExecBatch, Venue};
use tickline_engine::types::{
    Action, ClientOrderId, ClientOrderIdGen, Clock, ExecKind, ExecReport, InstrumentId,
    InstrumentRegistry, InstrumentSpec, Level, Nanos, OrdType, Order, OrderIntent, Px, Qty, Side,
    StrategyId, Tick, TimeInForce,
};
use tickline_gateway::venue::fix::seq_store::SeqWatch;
use tickline_gateway::venue::fix::session::SessionState;
use tickline_gateway::venue::fix::{FixConfig, FixVenue};

const SYMBOLS: [&str; 8] = ["FILL", "PART", "REST", "NOCXL", "REJ", "GAP", "DROP", "TESTREQ"];
const WAIT: Duration = Duration::from_secs(60);

fn sym(name: &str) -> InstrumentId {
    InstrumentId(SYMBOLS.iter().position(|s| *s == name).expect("a known symbol") as u32)
}

fn dictionary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fix/FIX44.xml")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The compiled acceptor, or why there is none.
fn acceptor_binary() -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quickfix/acceptor.cpp");
            if !Path::new("/usr/include/quickfix/Application.h").exists() {
                return Err("QuickFIX headers not found (/usr/include/quickfix): install \
                            libquickfix-dev, libquickfix-doc and g++ (`apt-get install -y \
                            libquickfix-dev libquickfix-doc g++`)"
                    .into());
            }
            if !dictionary().exists() {
                return Err(format!(
                    "FIX 4.4 data dictionary missing at {} (../shared/data beside the checkout)",
                    dictionary().display()
                ));
            }
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("quickfix-acceptor");
            let fresh = |o: &Path| -> Option<bool> {
                Some(o.metadata().ok()?.modified().ok()? >= src.metadata().ok()?.modified().ok()?)
            };
            if fresh(&out) == Some(true) {
                return Ok(out);
            }
            let tmp = out.with_extension(format!("tmp{}", std::process::id()));
            let result = Command::new("g++")
                .args(["-std=gnu++14", "-O1", "-w"])
                .arg(&src)
                .arg("-o")
                .arg(&tmp)
                .args(["-lquickfix", "-lpthread"])
                .output()
                .map_err(|e| format!("g++ could not run ({e}): install g++"))?;
            if !result.status.success() {
                return Err(format!(
                    "building the QuickFIX acceptor failed:\n{}",
                    String::from_utf8_lossy(&result.stderr)
                ));
            }
            std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
            Ok(out)
        })
        .clone()
}

/// The acceptor binary, or `None` (with a note) when QuickFIX is absent outside CI.
fn quickfix() -> Option<PathBuf> {
    match acceptor_binary() {
        Ok(p) => Some(p),
        Err(why) if in_ci() => {
            panic!("CI=true and the QuickFIX end-to-end tests cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping QuickFIX end-to-end test: {why}");
            None
        }
    }
}

/// A running acceptor on 127.0.0.1; stopped (stdin closed, then killed) on drop.
struct Acceptor {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<String>>>,
    port: u16,
    dir: PathBuf,
}

impl Acceptor {
    fn start(bin: &Path, name: &str) -> Acceptor {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("qf-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        // A free port: bind, read it, release it for the acceptor.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let settings = format!(
            "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort={port}\nSocketReuseAddress=Y\n\
             StartTime=00:00:00\nEndTime=00:00:00\nFileStorePath={store}\nFileLogPath={log}\n\
             UseDataDictionary=Y\nDataDictionary={dict}\nValidateUserDefinedFields=Y\n\
             ValidateFieldsOutOfOrder=Y\nValidateFieldsHaveValues=Y\n\
             ResetOnLogon=N\nResetOnLogout=N\nResetOnDisconnect=N\n\
             [SESSION]\nBeginString=FIX.4.4\nSenderCompID=EXEC\nTargetCompID=TICKLINE\n",
            store = dir.join("store").display(),
            log = dir.join("log").display(),
            dict = dictionary().display(),
        );
        let cfg = dir.join("acceptor.cfg");
        std::fs::write(&cfg, settings).unwrap();
        let mut child = Command::new(bin)
            .arg(&cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the QuickFIX acceptor");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let stdin = child.stdin.take();
        let a = Acceptor { child, stdin, lines, port, dir };
        a.wait_line("READY", |l| l == "READY");
        a
    }

    fn count(&self, pred: impl Fn(&str) -> bool) -> usize {
        self.lines.lock().unwrap().iter().filter(|l| pred(l)).count()
    }

    /// Waits (without driving any venue) until the acceptor has said a line matching `pred`
    /// `n` times.
    fn wait_lines(&self, what: &str, n: usize, pred: impl Fn(&str) -> bool) {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if self.count(&pred) >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("acceptor never said {what}; it said: {:?}", self.lines.lock().unwrap());
    }

    fn wait_line(&self, what: &str, pred: impl Fn(&str) -> bool) {
        self.wait_lines(what, 1, pred);
    }

    fn said(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for Acceptor {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                let _ = std::fs::remove_dir_all(&self.dir);
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry() -> Arc<InstrumentRegistry> {
    let specs: Vec<_> = SYMBOLS
        .iter()
        .map(|s| InstrumentSpec {
            symbol: (*s).into(),
            venue: "quickfix".into(),
            price_scale: 2,
            qty_scale: 0,
            tick_size: "0.01".parse().unwrap(),
            lot_size: "1".parse().unwrap(),
        })
        .collect();
    Arc::new(InstrumentRegistry::build(&specs).unwrap())
}

fn config(port: u16, seq_file: PathBuf) -> FixConfig {
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    FixConfig {
        heartbeat_secs: 5,
        reconnect_min_ns: 50_000_000,
        reconnect_max_ns: 1_000_000_000,
        ..FixConfig::new(addr, "TICKLINE", "EXEC", seq_file)
    }
}

/// Risk (for approvals) in front of a FIX venue, plus everything the venue reported.
struct Rig {
    risk: RiskStage,
    venue: FixVenue,
    ids: ClientOrderIdGen,
    approved: Vec<Order>,
    reports: Vec<ExecReport>,
    batch: ExecBatch,
}

impl Rig {
    fn new(venue: FixVenue) -> Rig {
        Rig::seeded(venue, RiskSeed::default())
    }

    /// Risk starts from `seed` (what a restart restored).
    fn seeded(venue: FixVenue, seed: RiskSeed) -> Rig {
        let reg = registry();
        let setup = RiskSetup::new(RiskLimits::permissive(&reg)).with_seed(seed);
        let mut risk = RiskStage::with_setup(Arc::clone(&reg), Arc::new(HaltSwitch::new()), setup);
        let l = |p| Level { px: Px::from_raw(p), qty: Qty::from_raw(100) };
        for i in reg.iter() {
            let now = Clock::now();
            risk.on_tick(&Tick::quote(i.id, l(9_900), l(10_100), 1, now, now));
        }
        Rig {
            risk,
            venue,
            ids: ClientOrderIdGen::new(Clock::now()),
            approved: Vec::new(),
            reports: Vec::new(),
            batch: ExecBatch::new(),
        }
    }

    fn pump(&mut self) {
        self.batch.clear();
        self.venue.poll(Clock::now(), &mut self.batch);
        for r in (0..self.batch.len()).filter_map(|i| self.batch.get(i)) {
            self.risk.on_exec(&r);
            self.reports.push(r);
        }
    }

    fn until(&mut self, what: &str, acc: &Acceptor, cond: impl Fn(&Rig) -> bool) {
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            self.pump();
            if cond(self) {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!(
            "timed out waiting for {what}\nreports: {:?}\nacceptor said: {:?}\nsession: {:?}",
            self.reports,
            acc.said(),
            self.venue.session_state()
        );
    }

    fn logged_on(&mut self, acc: &Acceptor) {
        self.until("logon", acc, |r| r.venue.session_state() == SessionState::Active);
    }

    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        action: Action,
        symbol: &str,
        side: Side,
        px: i64,
        qty: i64,
        target: ClientOrderId,
    ) -> ClientOrderId {
        let now = Clock::now();
        let intent = OrderIntent {
            decided_ns: now,
            tick_recv_ns: now,
            client_id: self.ids.next_id(),
            target,
            price: Px::from_raw(px),
            qty: Qty::from_raw(qty),
            instrument: sym(symbol),
            strategy: StrategyId(0),
            action,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            reserved: [0; 6],
        };
        let approved =
            self.risk.check(&intent, now).unwrap_or_else(|e| panic!("risk refused: {e:?}"));
        self.approved.push(*approved.get());
        self.venue.submit(approved, now);
        intent.client_id
    }

    fn order(&mut self, symbol: &str, qty: i64) -> ClientOrderId {
        self.send(Action::New, symbol, Side::Buy, 10_000, qty, ClientOrderId(0))
    }

    fn of(&self, id: ClientOrderId) -> Vec<(ExecKind, i64, i64, i64)> {
        self.reports
            .iter()
            .filter(|r| r.client_id == id)
            .map(|r| (r.kind, r.last_qty.raw(), r.cum_qty.raw(), r.leaves_qty.raw()))
            .collect()
    }

    fn has(&self, id: ClientOrderId, kind: ExecKind) -> bool {
        self.reports.iter().any(|r| r.client_id == id && r.kind == kind)
    }
}

fn seq_file(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fix-{name}-{}.seq", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

fn rig(acc: &Acceptor, name: &str) -> Rig {
    let venue = FixVenue::new("quickfix", &registry(), config(acc.port, seq_file(name))).unwrap();
    let mut rig = Rig::new(venue);
    rig.logged_on(acc);
    rig
}

#[test]
fn logon_fills_partial_fills_and_heartbeats() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "fills");
    let mut rig = rig(&acc, "fills");
    acc.wait_line("LOGON", |l| l == "LOGON");

    let a = rig.order("FILL", 10);
    rig.until("a fill", &acc, |r| r.has(a, ExecKind::Fill));
    assert_eq!(rig.of(a), vec![(ExecKind::New, 0, 0, 10), (ExecKind::Fill, 10, 10, 0)]);
    let fill = rig.reports.iter().find(|r| r.client_id == a && r.kind == ExecKind::Fill).unwrap();
    assert_eq!(fill.last_px, Px::from_raw(10_000));

    let b = rig.order("PART", 7);
    rig.until("two partial fills", &acc, |r| r.has(b, ExecKind::Fill));
    assert_eq!(
        rig.of(b),
        vec![(ExecKind::New, 0, 0, 7), (ExecKind::PartialFill, 3, 3, 4), (ExecKind::Fill, 4, 7, 0)]
    );

    // Our TestRequest, answered by QuickFIX's Heartbeat.
    rig.venue.send_test_request(Clock::now());
    let st = rig.venue.session_stats();
    rig.until("the heartbeat answering our TestRequest", &acc, |_| {
        st.test_requests_answered.get() >= 1
    });
    // QuickFIX's TestRequest, answered by ours (it prints the TestReqID it got back).
    let c = rig.order("TESTREQ", 1);
    rig.until("an ack", &acc, |r| r.has(c, ExecKind::New));
    rig.until("our heartbeat answering QuickFIX", &acc, |_| {
        acc.count(|l| l == "HEARTBEAT ACC-1") > 0
    });
    rig.pump();
    assert!(st.test_requests_received.get() >= 1);
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
    assert_eq!(st.rejects_received.get(), 0, "QuickFIX accepted every message: {:?}", acc.said());
}

#[test]
fn cancel_cancel_replace_and_cancel_reject() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "cancels");
    let mut rig = rig(&acc, "cancels");

    let a = rig.order("REST", 5);
    rig.until("an ack", &acc, |r| r.has(a, ExecKind::New));
    // Replace: new price and size; the report names the replacement.
    let a2 = rig.send(Action::Replace, "REST", Side::Buy, 10_050, 8, a);
    rig.until("the replace", &acc, |r| r.has(a2, ExecKind::Replaced));
    assert_eq!(rig.of(a2), vec![(ExecKind::Replaced, 0, 0, 8)]);
    assert!(acc.count(|l| l.starts_with("REPLACE ")) == 1);
    // Cancel the replacement.
    rig.send(Action::Cancel, "REST", Side::Buy, 0, 0, a2);
    rig.until("the cancel", &acc, |r| r.has(a2, ExecKind::Cancelled));
    assert_eq!(rig.venue.open_orders(), 0);

    // A venue that refuses the cancel: OrderCancelReject, named by the cancel request.
    let b = rig.order("NOCXL", 2);
    rig.until("an ack", &acc, |r| r.has(b, ExecKind::New));
    let cx = rig.send(Action::Cancel, "NOCXL", Side::Buy, 0, 0, b);
    rig.until("the cancel reject", &acc, |r| r.has(cx, ExecKind::CancelRejected));
    // And a refused replace, named by the replacement.
    let bx = rig.send(Action::Replace, "NOCXL", Side::Buy, 10_000, 3, b);
    rig.until("the replace reject", &acc, |r| r.has(bx, ExecKind::CancelRejected));
    assert_eq!(rig.venue.open_orders(), 1, "the NOCXL order is still open");
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
    assert_eq!(rig.venue.session_stats().rejects_received.get(), 0, "{:?}", acc.said());
}

#[test]
fn session_level_reject_refuses_the_order() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "reject");
    let mut rig = rig(&acc, "reject");
    let a = rig.order("REJ", 1);
    rig.until("the order rejected", &acc, |r| r.has(a, ExecKind::Rejected));
    assert_eq!(rig.of(a), vec![(ExecKind::Rejected, 0, 0, 0)]);
    assert_eq!(rig.venue.session_stats().rejects_received.get(), 1);
    // The session carries on.
    let b = rig.order("FILL", 1);
    rig.until("a fill", &acc, |r| r.has(b, ExecKind::Fill));
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
}

#[test]
fn sequence_gap_is_filled_through_a_resend_request() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "gap");
    let mut rig = rig(&acc, "gap");
    let a = rig.order("GAP", 4);
    rig.until("the gapped order's fill", &acc, |r| r.has(a, ExecKind::Fill));
    acc.wait_line("GAPPED", |l| l == "GAPPED");
    let st = rig.venue.session_stats();
    assert!(st.gaps.get() >= 1 && st.resend_requests_sent.get() >= 1);
    // QuickFIX received our ResendRequest and filled the gap (SequenceReset-GapFill), then
    // resent the reports: each applied once.
    assert!(acc.count(|l| l.starts_with("ADMIN 2 ")) >= 1, "{:?}", acc.said());
    assert!(st.sequence_resets.get() >= 1);
    assert_eq!(rig.of(a), vec![(ExecKind::New, 0, 0, 4), (ExecKind::Fill, 4, 4, 0)]);
    assert_eq!(st.seq_too_low.get(), 0);
    let b = rig.order("FILL", 1);
    rig.until("a fill after the gap", &acc, |r| r.has(b, ExecKind::Fill));
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
}

#[test]
fn disconnect_reconnects_with_the_right_sequence_numbers_and_cancels_open_orders() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "reconnect");
    let hook = Arc::new(tickline_engine::risk::CancelOnDisconnect::new());
    let seqs = seq_file("reconnect");
    let venue = FixVenue::new("quickfix", &registry(), config(acc.port, seqs.clone()))
        .unwrap()
        .with_disconnect_hook(Arc::clone(&hook));
    assert!(!hook.is_connected(), "risk holds orders back until the first Logon");
    let logon = venue.logon_state();
    assert!(!logon.is_logged_on() && logon.venue() == "quickfix");
    let mut rig = Rig::new(venue);
    rig.logged_on(&acc);
    assert!(hook.is_connected());
    assert!(logon.is_logged_on(), "the admin port sees the Logon");
    let resting = rig.order("REST", 3);
    rig.until("an ack", &acc, |r| r.has(resting, ExecKind::New));
    let (out_before, _) = rig.venue.seqs();

    // The venue drops the connection without a Logout.
    let dropped = rig.order("DROP", 1);
    let stats = rig.venue.stats();
    rig.until("the drop", &acc, |_| stats.disconnects.get() >= 1);
    assert!(!hook.is_connected(), "risk was told");
    assert!(!logon.is_logged_on(), "and the admin port");
    // Orders while down are refused at once, not queued.
    let offline = rig.order("FILL", 1);
    rig.pump();
    assert_eq!(rig.of(offline), vec![(ExecKind::Rejected, 0, 0, 0)]);
    assert_eq!(stats.rejected_offline.get(), 1);

    // Reconnect (backoff), Logon with numbers that continue: QuickFIX accepts it.
    rig.until("the second logon", &acc, |r| {
        r.venue.session_state() == SessionState::Active && stats.connects.get() >= 2
    });
    rig.until("a second LOGON", &acc, |_| acc.count(|l| l == "LOGON") >= 2);
    assert!(hook.is_connected());
    assert!(logon.is_logged_on());
    let st = rig.venue.session_stats();
    assert_eq!(st.seq_too_low.get(), 0);
    assert!(rig.venue.seqs().0 > out_before, "outbound numbers continued, not reset");
    // Cancel-on-disconnect: both open orders are cancelled after the logon.
    rig.until("cancel-on-disconnect", &acc, |r| {
        r.has(resting, ExecKind::Cancelled) && r.has(dropped, ExecKind::Cancelled)
    });
    assert_eq!(stats.cod_cancels.get(), 2);
    assert_eq!(rig.venue.open_orders(), 0);
    let after = rig.order("FILL", 2);
    rig.until("a fill after reconnecting", &acc, |r| r.has(after, ExecKind::Fill));

    // A restart: a new venue reads the numbers from the file and logs on without a reset.
    let final_seqs = rig.venue.seqs();
    let logons_before = acc.count(|l| l == "LOGON");
    drop(rig);
    acc.wait_lines("the logout of the old venue", 2, |l| l == "LOGOUT");
    let venue = FixVenue::new("quickfix", &registry(), config(acc.port, seqs.clone())).unwrap();
    // Our Logout consumed one more outbound number; QuickFIX's answer to it was never read
    // (the socket closed), so the new session asks for it and gets a gap fill.
    assert_eq!(venue.seqs(), (final_seqs.0 + 1, final_seqs.1));
    let mut rig = Rig::new(venue);
    rig.logged_on(&acc);
    rig.until("a logon after the restart", &acc, |_| acc.count(|l| l == "LOGON") > logons_before);
    let last = rig.order("FILL", 1);
    rig.until("a fill after the restart", &acc, |r| r.has(last, ExecKind::Fill));
    assert_eq!(rig.venue.session_stats().seq_too_low.get(), 0);
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
}

#[test]
fn a_restart_tracks_the_orders_left_open_and_cancels_them_after_logon() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "restore");
    let seqs = seq_file("restore");
    let venue = FixVenue::new("quickfix", &registry(), config(acc.port, seqs.clone())).unwrap();
    let mut rig = Rig::new(venue);
    rig.logged_on(&acc);
    let resting = rig.order("REST", 3);
    let filled = rig.order("FILL", 2);
    rig.until("an ack and a fill", &acc, |r| {
        r.has(resting, ExecKind::New) && r.has(filled, ExecKind::Fill)
    });
    // What the journal holds of this session, rebuilt as a restart does.
    let mut b = SeedBuilder::new(registry().len(), &RiskSeed::default());
    rig.approved.iter().for_each(|o| b.apply(&RecordBody::Approved(*o)));
    rig.reports.iter().for_each(|r| b.apply(&RecordBody::Exec(*r)));
    let seed = b.finish().seed;
    assert_eq!(seed.open_orders.iter().map(|o| o.id).collect::<Vec<_>>(), vec![resting]);
    drop(rig);
    acc.wait_line("the logout of the old venue", |l| l == "LOGOUT");

    // The restart: the gateway tracks the order, risk counts it, and cancel-on-disconnect
    // cancels it once the session is back; the venue's answer reaches risk.
    let watch = Arc::new(SeqWatch::default());
    let mut venue = FixVenue::new("quickfix", &registry(), config(acc.port, seqs))
        .unwrap()
        .with_seq_watch(Arc::clone(&watch));
    assert_eq!(watch.get(), Some(venue.seqs()), "the numbers read from the file, published");
    assert_eq!(venue.restore_open_orders(&seed.open_orders), 1);
    assert_eq!(venue.open_orders(), 1);
    let mut rig = Rig::seeded(venue, seed);
    assert_eq!(rig.risk.open_orders(sym("REST")), (1, 3, 0));
    assert_eq!(rig.risk.position(sym("FILL")).unwrap().qty(), Qty::from_raw(2));
    rig.logged_on(&acc);
    rig.until("the restored order cancelled", &acc, |r| r.has(resting, ExecKind::Cancelled));
    assert_eq!(rig.risk.open_orders(sym("REST")), (0, 0, 0));
    assert_eq!(rig.venue.stats().cod_cancels.get(), 1);
    assert_eq!(rig.venue.open_orders(), 0);
    assert_eq!(rig.venue.tracker_stats().anomalies(), 0);
    assert_eq!(rig.risk.telemetry().unknown_reports.get(), 0);
    rig.pump();
    assert_eq!(watch.get(), Some(rig.venue.seqs()), "every save is published");
}

#[test]
fn reset_seq_num_flag_restarts_both_sides_at_one() {
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "reset");
    let file = seq_file("reset");
    // Leave numbers that a reset must override.
    {
        let (mut s, _) = tickline_gateway::venue::fix::seq_store::SeqStore::open(&file).unwrap();
        s.save(500, 700).unwrap();
    }
    let cfg = FixConfig { reset_on_logon: true, ..config(acc.port, file) };
    let venue = FixVenue::new("quickfix", &registry(), cfg).unwrap();
    assert_eq!(venue.seqs(), (500, 700));
    let mut rig = Rig::new(venue);
    rig.logged_on(&acc);
    assert_eq!(rig.venue.seqs(), (2, 2));
    let a = rig.order("FILL", 1);
    rig.until("a fill", &acc, |r| r.has(a, ExecKind::Fill));
    let _ = Nanos::ZERO;
}

#[test]
fn sends_nothing_quickfix_rejects_under_strict_validation() {
    // Every message kind we send, against the strict dictionary: QuickFIX's own messages log
    // shows no Reject (35=3) going back to us.
    let Some(bin) = quickfix() else { return };
    let acc = Acceptor::start(&bin, "strict");
    let mut rig = rig(&acc, "strict");
    let a = rig.order("REST", 2);
    rig.until("an ack", &acc, |r| r.has(a, ExecKind::New));
    let a2 = rig.send(Action::Replace, "REST", Side::Buy, 10_001, 3, a);
    rig.until("replaced", &acc, |r| r.has(a2, ExecKind::Replaced));
    rig.send(Action::Cancel, "REST", Side::Buy, 0, 0, a2);
    rig.until("cancelled", &acc, |r| r.has(a2, ExecKind::Cancelled));
    rig.venue.send_test_request(Clock::now());
    let st = rig.venue.session_stats();
    rig.until("heartbeat", &acc, |_| st.test_requests_answered.get() >= 1);
    assert_eq!(st.rejects_received.get(), 0);
    let mut log = String::new();
    for entry in std::fs::read_dir(acc.dir.join("log")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().ends_with("messages.current.log") {
            log.push_str(&std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    assert!(
        log.contains("\u{1}35=D\u{1}")
            && log.contains("\u{1}35=G\u{1}")
            && log.contains("\u{1}35=F\u{1}")
    );
    assert!(!log.contains("\u{1}35=3\u{1}"), "QuickFIX rejected something:\n{log}");
    let _ = std::io::stdout().flush();
}
