//! Building and running a pipeline: rings from the plan, stages moved onto their threads,
//! threads pinned and started, and a handle to stop and join them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::config::{ConfigError, RingConfig, RingsConfig};
use crate::record::{Record, RecordSink};
use crate::ring::{Consumer, FullPolicy, Producer, Ring, RingError};
use crate::risk::{HaltSwitch, RiskApproved, RiskSetup, RiskStage, RiskTelemetry};
use crate::stage::{Batch, Feed, OrderSink, Strategy, Venue};
use crate::telemetry::{Telemetry, TelemetrySnapshot};
use crate::types::{ClientOrderIdGen, ExecReport, InstrumentRegistry, Nanos, Order, Tick};

use super::control::ControlHandle;
use super::hot::{Core, FeedRun, GatewayRun, Hot, RiskRun, StrategyRun};
use super::layout::{Plan, StageRef, ThreadPlan};
use super::lifecycle::{Lifecycle, StageFailure};
use super::recorder::Recorder;

/// Everything a pipeline is built from.
pub struct PipelineParts {
    /// Instruments.
    pub registry: Arc<InstrumentRegistry>,
    /// Feeds, in config order (the layout refers to them by index).
    pub feeds: Vec<Box<dyn Feed>>,
    /// Strategies; a strategy's index is its [`crate::types::StrategyId`].
    pub strategies: Vec<Box<dyn Strategy>>,
    /// The venue adapter.
    pub venue: Box<dyn Venue>,
    /// Where records go; `None` records nothing (no record ring, no recorder thread).
    pub recorder: Option<Box<dyn RecordSink>>,
    /// Ring sizes and policies.
    pub rings: RingsConfig,
    /// The resolved layout.
    pub plan: Plan,
    /// The halt switch shared with risk, the admin port and the kill switch.
    pub halt: Arc<HaltSwitch>,
    /// Risk limits and the gateway's cancel-on-disconnect hook.
    pub risk: RiskSetup,
    /// Client order ids start here (see [`ClientOrderIdGen`]).
    pub order_ids: ClientOrderIdGen,
}

impl std::fmt::Debug for PipelineParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineParts").field("plan", &self.plan).finish_non_exhaustive()
    }
}

/// Why a pipeline could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The layout does not fit the pipeline.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A ring could not be built.
    #[error(transparent)]
    Ring(#[from] RingError),
    /// A thread could not be spawned.
    #[error("spawning thread {thread}: {source}")]
    Spawn {
        /// Thread name.
        thread: String,
        /// OS error.
        source: std::io::Error,
    },
}

/// How a pipeline ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every thread drained and exited.
    Clean,
    /// A stage panicked; trading was halted.
    Failed(StageFailure),
}

/// A running pipeline.
#[derive(Debug)]
pub struct Pipeline {
    lifecycle: Arc<Lifecycle>,
    threads: Vec<JoinHandle<()>>,
    telemetry: Arc<Telemetry>,
    risk: Arc<RiskTelemetry>,
    plan: Plan,
    unpinned: Arc<crate::telemetry::SharedCounter>,
    control: ControlHandle,
}

fn ring<T: bytemuck::NoUninit + Send>(
    name: &str,
    cfg: RingConfig,
    consumers: usize,
    telemetry: &mut Telemetry,
) -> Result<(Producer<T>, Vec<Consumer<T>>), RingError> {
    let (tx, rxs) =
        Ring::<T>::builder(name, cfg.capacity).policy(cfg.policy).consumers(consumers).build()?;
    telemetry.add_ring(tx.handle());
    Ok((tx, rxs))
}

fn tick_ring(
    name: &str,
    cfg: RingConfig,
    instruments: usize,
    telemetry: &mut Telemetry,
) -> Result<(Producer<Tick>, Consumer<Tick>), RingError> {
    let mut b = Ring::<Tick>::builder(name, cfg.capacity).policy(cfg.policy);
    if cfg.policy == FullPolicy::Conflate {
        b = b.conflate_by(|t| t.instrument().index(), instruments.max(1));
    }
    let (tx, rx) = b.build_one()?;
    telemetry.add_ring(tx.handle());
    Ok((tx, rx))
}

impl Pipeline {
    /// Builds the rings the plan needs, moves each stage onto its thread, and starts them.
    pub fn start(parts: PipelineParts) -> Result<Pipeline, StartError> {
        let PipelineParts {
            registry,
            feeds,
            strategies,
            venue,
            recorder,
            rings,
            plan,
            halt,
            risk: risk_setup,
            order_ids,
        } = parts;
        rings.validate()?;
        let s_thread = plan.thread_of(StageRef::Strategy);
        if plan.thread_of(StageRef::Risk) != s_thread {
            return Err(ConfigError::new(
                "layout.threads",
                "risk must run on the strategy's thread: it needs the same market view, and a hop costs more than the check",
            )
            .into());
        }
        let (Some(s_thread), Some(g_thread)) = (s_thread, plan.thread_of(StageRef::Gateway)) else {
            return Err(ConfigError::new(
                "layout.threads",
                "no thread runs the strategy and gateway",
            )
            .into());
        };

        let mut telemetry = Telemetry::new();
        let feed_tel: Vec<_> =
            feeds.iter().map(|f| telemetry.add_stage(&format!("feed:{}", f.name()))).collect();
        let strategy_tel = telemetry.add_stage("strategy");
        let risk_tel = telemetry.add_stage("risk");
        let gateway_tel = telemetry.add_stage("gateway");
        let recorder_tel = telemetry.add_stage("recorder");

        let lifecycle = Arc::new(Lifecycle::new(Arc::clone(&halt)));
        let push_wait = |t: &ThreadPlan| t.wait.waiter();

        // Per hot thread: its inputs and outputs.
        let n = plan.hot.len();
        let mut tick_in: Vec<Vec<Consumer<Tick>>> = (0..n).map(|_| Vec::new()).collect();
        let mut tick_out: Vec<Option<Producer<Tick>>> = (0..n).map(|_| None).collect();
        for (i, t) in plan.hot.iter().enumerate() {
            let has_feeds = t.stages.iter().any(|s| matches!(s, StageRef::Feed(_)));
            if has_feeds && i != s_thread {
                let (tx, rx) = tick_ring(
                    &format!("ticks:{}", t.name),
                    rings.ticks,
                    registry.len(),
                    &mut telemetry,
                )?;
                tick_out[i] = Some(tx);
                tick_in[s_thread].push(rx);
            }
        }
        let (mut order_out, mut order_in, mut exec_out, mut exec_in) = (None, None, None, None);
        if g_thread != s_thread {
            let (tx, mut rx) =
                ring::<RiskApproved<Order>>("orders", rings.orders, 1, &mut telemetry)?;
            order_out = Some(tx);
            order_in = rx.pop();
            let (tx, mut rx) = ring::<ExecReport>("exec", rings.exec, 1, &mut telemetry)?;
            exec_out = Some(tx);
            exec_in = rx.pop();
        }
        let (record_out, recorder) = match recorder {
            Some(sink) => {
                let (tx, rxs) = ring::<Record>("records", rings.records, 1, &mut telemetry)?;
                let rec = Recorder {
                    rings: rxs,
                    sink,
                    tel: recorder_tel,
                    lifecycle: Arc::clone(&lifecycle),
                    waiter: plan.aux.wait.waiter(),
                    failed: false,
                };
                (Some(tx), Some(rec))
            }
            None => (None, None),
        };

        let risk = RiskStage::with_setup(Arc::clone(&registry), halt, risk_setup);
        let risk_counters = risk.telemetry();
        let routes: Vec<Vec<u16>> = crate::stage::strategy_routes(registry.len(), &strategies);
        let telemetry = Arc::new(telemetry);

        let mut feeds: Vec<Option<Box<dyn Feed>>> = feeds.into_iter().map(Some).collect();
        let (control, control_rx) = super::control::channel();
        let mut control_rx = Some(control_rx);
        let enabled = vec![true; strategies.len()];
        let mut strategy_run = Some(StrategyRun {
            enabled,
            strategies,
            routes,
            sink: OrderSink::new(order_ids),
            tel: strategy_tel,
            sample: 0,
            last_timer: Nanos::ZERO,
        });
        let mut risk_run = Some(RiskRun { risk, tel: risk_tel, sample: 0 });
        let mut gateway_run = Some(GatewayRun {
            venue,
            tel: gateway_tel,
            batch: Batch::new(),
            drain_deadline: None,
            sample: 0,
        });
        let mut record_out = record_out;

        let mut hots = Vec::with_capacity(n);
        for (i, t) in plan.hot.iter().enumerate() {
            let feed_runs = t
                .stages
                .iter()
                .filter_map(|s| match s {
                    StageRef::Feed(k) => feeds.get_mut(*k).and_then(Option::take).map(|feed| {
                        FeedRun { feed, tel: Arc::clone(&feed_tel[*k]), finished: false }
                    }),
                    _ => None,
                })
                .collect();
            let is_s = i == s_thread;
            let is_g = i == g_thread;
            let core = Core {
                strategy: if is_s { strategy_run.take() } else { None },
                risk: if is_s { risk_run.take() } else { None },
                gateway: if is_g { gateway_run.take() } else { None },
                tick_out: tick_out[i].take(),
                order_out: if is_s { order_out.take() } else { None },
                exec_out: if is_g { exec_out.take() } else { None },
                record_out: if is_s { record_out.take() } else { None },
                pending_tick: None,
                push_wait: push_wait(t),
                lifecycle: Arc::clone(&lifecycle),
                telemetry: Arc::clone(&telemetry),
                current: super::hot::Current::Loop,
                control: if is_s { control_rx.take() } else { None },
            };
            hots.push(Hot {
                name: t.name.clone(),
                feeds: feed_runs,
                tick_in: std::mem::take(&mut tick_in[i]),
                order_in: if is_g { order_in.take() } else { None },
                exec_in: if is_s { exec_in.take() } else { None },
                core,
                waiter: t.wait.waiter(),
                batch: Batch::new(),
                forward_closed: false,
                feeds_stopped: false,
                busy: 0,
                housekeeping: Nanos::ZERO,
            });
        }

        let unpinned = Arc::new(crate::telemetry::SharedCounter::default());
        if let Some(core) = plan.cold_core() {
            let helpers = recorder.as_ref().map(|r| r.sink.helper_threads()).unwrap_or_default();
            for tid in helpers.into_iter().chain(crate::types::Clock::helper_thread()) {
                if let Err(e) = super::affinity::pin_thread(tid, core) {
                    unpinned.inc();
                    tracing::warn!(thread = tid, core, error = %e, "could not move a background thread to the cold core");
                }
            }
        }
        let mut threads = Vec::new();
        for (hot, t) in hots.into_iter().zip(plan.hot.iter()) {
            let lifecycle = Arc::clone(&lifecycle);
            let core = t.core;
            let unpinned = Arc::clone(&unpinned);
            let handle = std::thread::Builder::new()
                .name(t.name.clone())
                .spawn(move || {
                    pin(core, &unpinned);
                    run_hot(hot, &lifecycle);
                })
                .map_err(|source| StartError::Spawn { thread: t.name.clone(), source })?;
            threads.push(handle);
        }
        if let Some(mut rec) = recorder {
            let lifecycle = Arc::clone(&lifecycle);
            let core = plan.aux.core;
            let unpinned = Arc::clone(&unpinned);
            let handle = std::thread::Builder::new()
                .name("recorder".into())
                .spawn(move || {
                    pin(core, &unpinned);
                    if let Err(p) = catch_unwind(AssertUnwindSafe(|| rec.run())) {
                        lifecycle.fail(StageFailure {
                            thread: "recorder".into(),
                            stage: "recorder".into(),
                            message: panic_message(p.as_ref()),
                        });
                    }
                })
                .map_err(|source| StartError::Spawn { thread: "recorder".into(), source })?;
            threads.push(handle);
        }
        Ok(Pipeline { lifecycle, threads, telemetry, risk: risk_counters, plan, unpinned, control })
    }

    /// A handle to send operator commands.
    pub fn control(&self) -> ControlHandle {
        self.control.clone()
    }

    /// Asks the pipeline to stop: feeds stop, rings drain, threads exit.
    pub fn stop(&self) {
        self.lifecycle.request_stop();
    }

    /// Shared lifecycle (stop and failure flags, the halt switch).
    pub fn lifecycle(&self) -> &Arc<Lifecycle> {
        &self.lifecycle
    }

    /// Whether every thread has exited.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(JoinHandle::is_finished)
    }

    /// Telemetry registry.
    pub fn telemetry(&self) -> &Arc<Telemetry> {
        &self.telemetry
    }

    /// A snapshot of all telemetry.
    pub fn snapshot(&self) -> TelemetrySnapshot {
        self.telemetry.snapshot()
    }

    /// Risk counters.
    pub fn risk(&self) -> &Arc<RiskTelemetry> {
        &self.risk
    }

    /// The layout it runs.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Threads that asked for a core and could not be pinned to it (hot threads, the
    /// recorder, and background threads moved to the cold core).
    pub fn unpinned(&self) -> u64 {
        self.unpinned.get()
    }

    /// Waits for every thread and says how the run ended.
    pub fn join(self) -> Outcome {
        for t in self.threads {
            // Stage panics are caught inside the thread; a join error would be a panic in
            // the catch handler itself, which the failure record already covers.
            let _ = t.join();
        }
        match self.lifecycle.failure() {
            Some(f) => Outcome::Failed(f),
            None => Outcome::Clean,
        }
    }
}

fn pin(core: Option<usize>, unpinned: &crate::telemetry::SharedCounter) {
    if let Some(id) = core {
        if let Err(e) = super::affinity::pin_current(id) {
            unpinned.inc();
            tracing::warn!(core = id, error = %e, "could not pin thread to core");
        }
    }
}

fn run_hot(mut hot: Hot, lifecycle: &Lifecycle) {
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| hot.run())) {
        lifecycle.fail(StageFailure {
            thread: hot.name.clone(),
            stage: hot.current_stage(),
            message: panic_message(p.as_ref()),
        });
    }
    // Dropping `hot` closes its producers, so downstream threads see their inputs finish.
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
