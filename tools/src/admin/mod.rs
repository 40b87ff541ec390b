//! The metrics and admin HTTP sidecar: Prometheus metrics, status, and operator control.
//!
//! It runs on its own thread (`admin`), never on a hot core: it pins itself to the layout's
//! auxiliary core when that core runs no hot thread, and otherwise stays unpinned. It reads
//! the pipeline only through atomics (telemetry counters, histogram buckets, ring cursors, the
//! halt switch) and sends commands through the engine's control channel, so it never takes a
//! lock a hot thread takes. Control commands wait for the engine's answer on a second cold
//! thread (`admin-control`), so `/health` keeps answering while they do.
//!
//! The server is HTTP/1.1 on `mio` (no async runtime): keep-alive, request-line, head and body
//! limits (414, 431, 413), read and idle timeouts, a connection cap, 127.0.0.1 by default.
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /` | live status page (self-contained HTML and JS polling `/status`) |
//! | `GET /health` | 200 while the process serves |
//! | `GET /ready` | 200 when the pipeline runs and its feeds, gateway and journal are up; 503 with the reason |
//! | `GET /metrics` | Prometheus text format |
//! | `GET /status` | JSON: threads and cores, stages, rings, feeds, orders, latency, halt, positions |
//! | `GET /orders`, `/fills?limit=N`, `/positions`, `/risk`, `/config`, `/strategies` | JSON |
//! | `POST /halt`, `POST /resume` (`{"confirm": "resume"}`), `POST /cancel-all` | control, bearer token |
//! | `PUT /risk/limits`, `PUT /strategies/{name}` | control, bearer token |
//!
//! ```no_run
//! # fn main() -> anyhow::Result<()> {
//! use tickline_tools::admin::{self, AdminConfig};
//! let cfg = AdminConfig { enabled: true, ..AdminConfig::default() };
//! let bound = admin::bind(&cfg)?.expect("enabled");
//! println!("admin port on {}", bound.local_addr());
//! // `bound.start(Sources::from_pipeline(&pipeline, &loaded, state))` once the pipeline runs.
//! # Ok(())
//! # }
//! ```

mod auth;
pub mod config;
mod engine_state;
pub mod http;
mod metrics;
mod page;
mod routes;
mod server;
pub mod source;
mod status;
mod view;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use anyhow::Context;
use tickline_engine::runtime::Plan;

pub use auth::Token;
pub use config::{AdminConfig, AdminSettings, TokenSource};
pub use engine_state::EngineState;
pub use routes::redact;
pub use source::{NoState, StateSource};
pub use view::Sources;

/// A listening admin socket, bound before the pipeline starts so a busy port is an error
/// before anything trades.
#[derive(Debug)]
pub struct Bound {
    listener: mio::net::TcpListener,
    settings: AdminSettings,
    token: Option<Token>,
    addr: SocketAddr,
}

/// Validates `[admin]`, loads the token and binds. `None` when the admin port is disabled.
pub fn bind(cfg: &AdminConfig) -> anyhow::Result<Option<Bound>> {
    if !cfg.enabled {
        return Ok(None);
    }
    let settings = cfg.resolve()?;
    let token = Token::load(&settings.token)?;
    let listener = mio::net::TcpListener::bind(settings.bind)
        .with_context(|| format!("config key `admin.bind`: cannot listen on {}", settings.bind))?;
    let addr = listener.local_addr().context("admin: local address")?;
    Ok(Some(Bound { listener, settings, token, addr }))
}

impl Bound {
    /// The address it listens on (the real port when `bind` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts the sidecar thread serving `sources`.
    pub fn start(self, sources: Sources) -> anyhow::Result<Admin> {
        let pin = cold_core(&sources.plan);
        let stop = Arc::new(AtomicBool::new(false));
        let addr = self.addr;
        let has_token = self.token.is_some();
        let app = routes::App::new(sources, self.settings, self.token);
        let (server, waker) = server::Server::new(self.listener, app, Arc::clone(&stop), pin)
            .context("admin: setting up the event loop")?;
        let thread = std::thread::Builder::new()
            .name("admin".into())
            .spawn(move || {
                pin_cold(pin);
                server.run();
            })
            .context("admin: spawning the sidecar thread")?;
        tracing::info!(%addr, core = ?pin, control = if has_token { "token" } else { "disabled (no token)" }, "admin port listening");
        Ok(Admin { thread: Some(thread), stop, waker, addr })
    }
}

/// The running sidecar.
#[derive(Debug)]
pub struct Admin {
    thread: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    addr: SocketAddr,
}

impl Admin {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits for the sidecar thread (and a control answer in flight, at most
    /// `admin.control_timeout`).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The core the sidecar uses: the plan's cold core ([`Plan::cold_core`]), shared with the
/// journal's and the clock's background threads.
fn cold_core(plan: &Plan) -> Option<usize> {
    let core = plan.cold_core();
    if core.is_none() && plan.hot.iter().any(|t| t.core.is_some()) {
        tracing::warn!("admin: every core runs a pinned hot thread; the sidecar runs unpinned");
    }
    core
}

/// Pins the calling sidecar thread to `core`, if any.
fn pin_cold(core: Option<usize>) {
    if let Some(id) = core {
        if let Err(e) = tickline_engine::runtime::affinity::pin_current(id) {
            tracing::warn!(core = id, error = %e, "admin: could not pin the sidecar thread");
        }
    }
}
