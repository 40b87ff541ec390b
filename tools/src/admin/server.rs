//! The sidecar's event loop: one `mio` poll over the listener and every connection, on the
//! sidecar thread. Control commands wait on a second cold thread (the control worker), so a
//! slow engine answer never stops `/health` from answering.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token as MioToken, Waker};
use tickline_engine::runtime::{Command, ControlError, ControlHandle};

use super::http::{self, ApiError, Limits, Parsed, Response};
use super::routes::{Action, App, ControlJob, ControlLogEntry};
use super::view::unix_ns;

const LISTENER: MioToken = MioToken(0);
const WAKER: MioToken = MioToken(1);
const FIRST_CONN: usize = 2;
/// How often timeouts are checked; also the longest the loop sleeps.
const SWEEP: Duration = Duration::from_millis(100);
const READ_CHUNK: usize = 16 * 1024;
/// Longest wait for the peer to close after our last response (lingering close).
const LINGER: Duration = Duration::from_secs(2);
/// Most bytes discarded while lingering.
const LINGER_BYTES: usize = 1 << 20;

/// Where a connection is in its request/response cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading a request (or idle between requests).
    Reading,
    /// A control command is with the engine.
    Waiting,
    /// Writing a response.
    Writing,
    /// Response sent and our side shut: reading and discarding until the peer closes, so
    /// closing with unread input does not reset the connection under the response.
    Draining,
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    serial: u64,
    rbuf: Vec<u8>,
    wbuf: Vec<u8>,
    wpos: usize,
    phase: Phase,
    close_after_write: bool,
    /// The peer closed its side; no more requests will come.
    eof: bool,
    last_activity: Instant,
    request_started: Option<Instant>,
    /// How the pending control request wants its answer framed.
    pending: Option<(bool, bool)>,
}

/// A control job with the connection waiting for it.
struct JobMsg {
    slot: usize,
    serial: u64,
    job: ControlJob,
}

/// A control job's answer.
struct DoneMsg {
    slot: usize,
    serial: u64,
    action: &'static str,
    response: Response,
    log: Vec<ControlLogEntry>,
    accepted: Vec<Command>,
}

/// The running event loop's state.
pub(super) struct Server {
    poll: Poll,
    listener: TcpListener,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    serial: u64,
    app: App,
    limits: Limits,
    stop: Arc<AtomicBool>,
    jobs: Option<mpsc::Sender<JobMsg>>,
    done: mpsc::Receiver<DoneMsg>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Sets up the poll, the waker and the control worker.
    pub(super) fn new(
        mut listener: TcpListener,
        app: App,
        stop: Arc<AtomicBool>,
        pin: Option<usize>,
    ) -> std::io::Result<(Server, Arc<Waker>)> {
        let poll = Poll::new()?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let s = &app.settings;
        let limits = Limits {
            request_line: s.max_request_line,
            header_bytes: s.max_header_bytes,
            headers: s.max_headers,
            body: s.max_body_bytes,
        };
        let (jobs_tx, jobs_rx) = mpsc::channel::<JobMsg>();
        let (done_tx, done_rx) = mpsc::channel::<DoneMsg>();
        let control = app.sources.control.clone();
        let timeout = s.control_timeout;
        let journaled = app.sources.journaled;
        let worker_waker = Arc::clone(&waker);
        let worker = std::thread::Builder::new().name("admin-control".into()).spawn(move || {
            super::pin_cold(pin);
            while let Ok(msg) = jobs_rx.recv() {
                let done = execute(&control, msg, timeout, journaled);
                if done_tx.send(done).is_err() {
                    break;
                }
                let _ = worker_waker.wake();
            }
        })?;
        let cap = s.max_connections + 1;
        Ok((
            Server {
                poll,
                listener,
                conns: Vec::with_capacity(cap),
                free: Vec::new(),
                open: 0,
                serial: 0,
                app,
                limits,
                stop,
                jobs: Some(jobs_tx),
                done: done_rx,
                worker: Some(worker),
            },
            waker,
        ))
    }

    /// Runs until the stop flag is set.
    pub(super) fn run(mut self) {
        let mut events = Events::with_capacity(1024);
        let mut last_sweep = Instant::now();
        while !self.stop.load(Ordering::Acquire) {
            if let Err(e) = self.poll.poll(&mut events, Some(SWEEP)) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!(error = %e, "admin: poll failed; the admin port stops");
                    break;
                }
            }
            self.app.next_turn();
            for ev in &events {
                match ev.token() {
                    LISTENER => self.accept(),
                    WAKER => self.control_answers(),
                    MioToken(t) => self.drive(t - FIRST_CONN),
                }
            }
            let now = Instant::now();
            if now.duration_since(last_sweep) >= SWEEP {
                last_sweep = now;
                self.sweep(now);
            }
            self.app.sample_if_due(now);
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        for slot in 0..self.conns.len() {
            self.close(slot);
        }
        self.jobs = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }

    fn accept(&mut self) {
        loop {
            let (stream, peer) = match self.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving what is open.
                    tracing::warn!(error = %e, "admin: accept failed");
                    return;
                }
            };
            self.app.counters.accepted += 1;
            if self.open >= self.app.settings.max_connections && !self.evict_idle() {
                self.refuse(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let slot = self.free.pop().unwrap_or_else(|| {
                self.conns.push(None);
                self.conns.len() - 1
            });
            let mut conn = Conn {
                stream,
                peer,
                serial: self.serial,
                rbuf: Vec::new(),
                wbuf: Vec::new(),
                wpos: 0,
                phase: Phase::Reading,
                close_after_write: false,
                eof: false,
                last_activity: Instant::now(),
                request_started: None,
                pending: None,
            };
            self.serial += 1;
            if let Err(e) = self.poll.registry().register(
                &mut conn.stream,
                MioToken(slot + FIRST_CONN),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                tracing::warn!(error = %e, "admin: cannot register a connection");
                self.free.push(slot);
                continue;
            }
            self.conns[slot] = Some(conn);
            self.open += 1;
            self.app.counters.open = self.open;
            // Data may already be waiting; edge-triggered readiness would not say so again.
            self.drive(slot);
        }
    }

    /// At the cap: closes the connection idle the longest (no request in progress first, then
    /// one that is still sending its request). False when every connection is busy.
    fn evict_idle(&mut self) -> bool {
        let victim = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
            .filter(|(_, c)| matches!(c.phase, Phase::Reading | Phase::Draining))
            .min_by_key(|(_, c)| (c.phase != Phase::Draining, !c.rbuf.is_empty(), c.last_activity))
            .map(|(i, _)| i);
        match victim {
            Some(slot) => {
                self.close(slot);
                self.app.counters.evicted += 1;
                true
            }
            None => false,
        }
    }

    fn refuse(&mut self, mut stream: TcpStream) {
        self.app.counters.refused += 1;
        self.app.counters.response(503);
        let mut out = Vec::new();
        ApiError::new(
            503,
            "too_many_connections",
            format!("{} connections are open and busy; retry shortly", self.open),
        )
        .response()
        .write_to(&mut out, false, false);
        // Best effort: a fresh socket's send buffer takes this without blocking.
        let _ = stream.write(&out);
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }

    fn close(&mut self, slot: usize) {
        if let Some(mut c) = self.conns.get_mut(slot).and_then(Option::take) {
            let _ = self.poll.registry().deregister(&mut c.stream);
            self.free.push(slot);
            self.open -= 1;
            self.app.counters.open = self.open;
        }
    }

    /// Moves a connection on as far as it can go without blocking.
    fn drive(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        let keep = self.step(slot, &mut conn);
        self.conns[slot] = Some(conn);
        if !keep {
            self.close(slot);
        }
    }

    /// Returns false when the connection should close.
    fn step(&mut self, slot: usize, conn: &mut Conn) -> bool {
        loop {
            match conn.phase {
                Phase::Waiting => return true,
                Phase::Draining => return drain(conn),
                Phase::Writing => {
                    while conn.wpos < conn.wbuf.len() {
                        match conn.stream.write(&conn.wbuf[conn.wpos..]) {
                            Ok(0) => return false,
                            Ok(n) => {
                                conn.wpos += n;
                                conn.last_activity = Instant::now();
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                            Err(e) if e.kind() == ErrorKind::Interrupted => {}
                            Err(_) => return false,
                        }
                    }
                    conn.wbuf.clear();
                    conn.wpos = 0;
                    if conn.close_after_write {
                        let _ = conn.stream.flush();
                        if conn.eof || conn.stream.shutdown(std::net::Shutdown::Write).is_err() {
                            return false;
                        }
                        conn.phase = Phase::Draining;
                        conn.rbuf = Vec::new();
                        conn.last_activity = Instant::now();
                        continue;
                    }
                    conn.phase = Phase::Reading;
                }
                Phase::Reading => {
                    if conn.rbuf.is_empty() {
                        conn.request_started = None;
                    }
                    match http::parse(&conn.rbuf, &self.limits) {
                        Parsed::Done(req, used) => {
                            conn.rbuf.drain(..used);
                            conn.request_started =
                                if conn.rbuf.is_empty() { None } else { Some(Instant::now()) };
                            let head_only = req.method == "HEAD";
                            let keep_alive = req.keep_alive && !conn.eof;
                            match self.app.handle(&req, conn.peer) {
                                Action::Respond(resp) => {
                                    self.respond(conn, &resp, head_only, keep_alive);
                                }
                                Action::Control(job) => {
                                    tracing::info!(action = job.action, origin = %job.origin, reason = job.reason.as_deref().unwrap_or(""), "admin: control request");
                                    let sent = self.jobs.as_ref().is_some_and(|tx| {
                                        tx.send(JobMsg { slot, serial: conn.serial, job }).is_ok()
                                    });
                                    if sent {
                                        conn.phase = Phase::Waiting;
                                        conn.pending = Some((head_only, keep_alive));
                                    } else {
                                        let e = ApiError::new(
                                            503,
                                            "control_unavailable",
                                            "the control worker has stopped",
                                        );
                                        self.respond(conn, &e.response(), head_only, keep_alive);
                                    }
                                }
                            }
                        }
                        Parsed::Error(e) => {
                            tracing::debug!(peer = %conn.peer, status = e.status, error = %e.message, "admin: bad request");
                            self.respond(conn, &e.response(), false, false);
                        }
                        Parsed::Incomplete => {
                            if conn.eof {
                                return false;
                            }
                            match self.read_more(conn) {
                                Ok(true) => {}
                                Ok(false) => return true,
                                Err(()) => return false,
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads what is available. `Ok(true)` when bytes arrived or the peer closed (parse
    /// again), `Ok(false)` when nothing is available, `Err` on a socket error.
    fn read_more(&mut self, conn: &mut Conn) -> Result<bool, ()> {
        // Enough for any request within the limits: past it, parsing always decides.
        let cap = self.limits.header_bytes + self.limits.body + 1;
        let mut got = false;
        while conn.rbuf.len() < cap {
            let len = conn.rbuf.len();
            let want = READ_CHUNK.min(cap - len);
            conn.rbuf.resize(len + want, 0);
            match conn.stream.read(&mut conn.rbuf[len..]) {
                Ok(0) => {
                    conn.rbuf.truncate(len);
                    conn.eof = true;
                    return Ok(true);
                }
                Ok(n) => {
                    conn.rbuf.truncate(len + n);
                    conn.last_activity = Instant::now();
                    if conn.request_started.is_none() {
                        conn.request_started = Some(conn.last_activity);
                    }
                    got = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    conn.rbuf.truncate(len);
                    return Ok(got);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => conn.rbuf.truncate(len),
                Err(_) => {
                    conn.rbuf.truncate(len);
                    return Err(());
                }
            }
        }
        Ok(got)
    }

    fn respond(&mut self, conn: &mut Conn, resp: &Response, head_only: bool, keep_alive: bool) {
        self.app.counters.response(resp.status);
        // Errors that leave the stream's framing unknown (parse errors, timeouts) come with
        // keep_alive = false, so the connection closes after them.
        let keep = keep_alive && !resp.close;
        resp.write_to(&mut conn.wbuf, head_only, keep);
        conn.close_after_write = !keep;
        conn.phase = Phase::Writing;
    }

    fn control_answers(&mut self) {
        while let Ok(done) = self.done.try_recv() {
            self.app.control_done(done.action, done.log, &done.accepted);
            let Some(Some(mut conn)) = self.conns.get_mut(done.slot).map(Option::take) else {
                continue;
            };
            if conn.serial == done.serial && conn.phase == Phase::Waiting {
                let (head_only, keep_alive) = conn.pending.take().unwrap_or((false, false));
                self.respond(&mut conn, &done.response, head_only, keep_alive);
                self.conns[done.slot] = Some(conn);
                self.drive(done.slot);
            } else {
                self.conns[done.slot] = Some(conn);
            }
        }
    }

    fn sweep(&mut self, now: Instant) {
        let s = &self.app.settings;
        let (read_timeout, idle_timeout) = (s.read_timeout, s.idle_timeout);
        for slot in 0..self.conns.len() {
            let Some(conn) = self.conns[slot].as_mut() else { continue };
            match conn.phase {
                Phase::Reading => {
                    if let Some(t) = conn.request_started {
                        if now.duration_since(t) >= read_timeout {
                            let e = ApiError::new(
                                408,
                                "request_timeout",
                                format!(
                                    "the request was not received in full within {read_timeout:?}"
                                ),
                            );
                            let mut conn = self.conns[slot].take().expect("checked above");
                            self.app.counters.timeouts += 1;
                            self.respond(&mut conn, &e.response(), false, false);
                            self.conns[slot] = Some(conn);
                            self.drive(slot);
                        }
                    } else if now.duration_since(conn.last_activity) >= idle_timeout {
                        self.close(slot);
                    }
                }
                Phase::Writing => {
                    if now.duration_since(conn.last_activity) >= read_timeout {
                        // The client stopped reading its response.
                        self.close(slot);
                    }
                }
                Phase::Draining => {
                    if now.duration_since(conn.last_activity) >= LINGER {
                        self.close(slot);
                    }
                }
                Phase::Waiting => {}
            }
        }
    }
}

/// Reads and discards input until the peer closes (false: close now) or would block (true).
fn drain(conn: &mut Conn) -> bool {
    let mut buf = [0u8; 4096];
    let mut total = 0;
    loop {
        match conn.stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => {
                total += n;
                if total > LINGER_BYTES {
                    return false;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Sends a job's commands to the engine, in order, stopping at the first refusal.
fn execute(control: &ControlHandle, msg: JobMsg, timeout: Duration, journaled: bool) -> DoneMsg {
    let JobMsg { slot, serial, job } = msg;
    let mut results = Vec::new();
    let mut log = Vec::new();
    let mut accepted = Vec::new();
    let mut failure: Option<ApiError> = None;
    for cmd in &job.steps {
        let what = cmd.describe();
        let answer = control.call(cmd.clone(), &job.origin, timeout);
        let (result, detail) = match &answer {
            Ok(note) => ("ok", note.clone()),
            Err(ControlError::Refused(why)) => ("refused", why.clone()),
            Err(e) => ("error", e.to_string()),
        };
        tracing::info!(command = %what, origin = %job.origin, result, detail = %detail, "admin: control answer");
        log.push(ControlLogEntry {
            t_ms: unix_ns() / 1_000_000,
            origin: job.origin.clone(),
            command: what.clone(),
            result,
            detail: detail.clone(),
        });
        results.push(serde_json::json!({"command": what, "result": result, "reply": detail}));
        match answer {
            Ok(_) => accepted.push(cmd.clone()),
            Err(e) => {
                failure = Some(match e {
                    ControlError::Refused(why) => {
                        ApiError::new(422, "refused", format!("the engine refused {what}: {why}"))
                    }
                    ControlError::Busy => ApiError::new(503, "control_busy", e.to_string()),
                    ControlError::Stopped => ApiError::new(503, "pipeline_stopped", e.to_string()),
                    ControlError::Timeout(_) => ApiError::new(
                        504,
                        "control_timeout",
                        format!("the engine did not answer {what}: {e}"),
                    ),
                });
                break;
            }
        }
    }
    let journal = if journaled {
        "the engine journaled each command as a control record"
    } else {
        "no journal is attached to this run: the engine's control records go nowhere"
    };
    let body = match &failure {
        None => serde_json::json!({
            "ok": true,
            "action": job.action,
            "origin": job.origin,
            "results": results,
            "journaled": journaled,
            "journal": journal,
        }),
        Some(e) => serde_json::json!({
            "error": e.code,
            "message": e.message,
            "status": e.status,
            "action": job.action,
            "origin": job.origin,
            "results": results,
            "journaled": journaled,
        }),
    };
    let status = failure.as_ref().map_or(200, |e| e.status);
    DoneMsg {
        slot,
        serial,
        action: job.action,
        response: Response::json(status, &body),
        log,
        accepted,
    }
}
