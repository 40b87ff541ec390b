//! Builds a pipeline from a validated config: the one place that knows every crate.

use std::sync::Arc;

use anyhow::Context;
use tickline_engine::config::ConfigError;
use tickline_engine::record::RecordSink;
use tickline_engine::risk::{HaltSwitch, RiskSetup};
use tickline_engine::runtime::{available_cores, resolve, PipelineParts, Plan, StageRef};
use tickline_engine::stage::{Feed, Strategy, Venue};
use tickline_engine::types::{ClientOrderIdGen, Clock, InstrumentRegistry, Px, Qty};
use tickline_feeds::capture_feed::CaptureFeed;
use tickline_feeds::feed_health::FeedHealth;
use tickline_feeds::synthetic::{SyntheticFeed, SyntheticInstrument, SyntheticSpec};
use tickline_gateway::logon::LogonState;
use tickline_gateway::venue::fix::FixVenue;
use tickline_gateway::venue::instant::InstantVenue;
use tickline_gateway::venue::sim::SimVenue;
use tickline_strategies::market_maker::{FairValue, MarketMaker, MarketMakerParams};
use tickline_strategies::momentum::{Momentum, MomentumParams};
use tickline_strategies::spread::{SpreadParams, SpreadReversion};
use tickline_strategies::threshold::{Threshold, ThresholdParams};
use tickline_strategies::Leg;

use crate::config::{find_symbol, FeedConfig, GatewayConfig, Loaded, StrategyConfig};
use crate::journal_sink::StartState;

/// Response queue capacity of the in-process venue.
const INSTANT_VENUE_QUEUE: usize = 65_536;

/// Builds the pipeline's parts from `loaded`, recording into `recorder` if given, starting
/// flat.
pub fn build(
    loaded: &Loaded,
    recorder: Option<Box<dyn RecordSink>>,
) -> anyhow::Result<PipelineParts> {
    build_with_probes(loaded, recorder, None).map(|(parts, _)| parts)
}

/// Everything a run of `loaded` starts from, in the order `tickline run` needs it.
#[derive(Debug)]
pub struct RunParts {
    /// The pipeline's parts, seeded with what the journal restored.
    pub parts: PipelineParts,
    /// Handles the admin port reads.
    pub probes: Probes,
    /// The journal opened for the run (`None`: none configured, or `recorder` was given).
    pub journal: Option<crate::journal_sink::RunJournal>,
}

/// Opens the journal `loaded` configures (unless `recorder` is given), first, so a second
/// writer is refused before anything starts and the config and session records lead the
/// session; then builds the parts seeded with what it restored (positions, open orders, FIX
/// sequence numbers), client order ids continuing after the journal's. `duration` is the
/// run's effective duration, for the config record.
pub fn build_for_run(
    loaded: &Loaded,
    duration: Option<std::time::Duration>,
    recorder: Option<Box<dyn RecordSink>>,
) -> anyhow::Result<RunParts> {
    let mut journal = None;
    let recorder = match recorder {
        Some(r) => Some(r),
        None => crate::journal_sink::open_for_run(loaded, duration)?.map(|(sink, info)| {
            journal = Some(info);
            Box::new(sink) as Box<dyn RecordSink>
        }),
    };
    let (mut parts, probes) =
        build_with_probes(loaded, recorder, journal.as_ref().map(|j| &j.start))?;
    if let Some(j) = &journal {
        parts.order_ids = j.order_ids.clone();
    }
    Ok(RunParts { parts, probes, journal })
}

/// What the admin port reads of the parts beside the pipeline's telemetry: handles taken
/// before the parts go to the runtime, each written by the thread that owns its part.
#[derive(Clone, Debug)]
pub struct Probes {
    /// Each feed's name (as in the config, in config order) and health handle.
    pub feeds: Vec<(String, FeedHealth)>,
    /// The gateway's logon state (in-process venues are always logged on).
    pub gateway: Arc<LogonState>,
}

/// As [`build`], starting from what the journal restored (the risk stage is seeded with its
/// positions and open orders, and a FIX gateway tracks those orders and publishes its
/// sequence numbers for the journal's checkpoints), also returning the [`Probes`] the admin
/// port reads.
pub fn build_with_probes(
    loaded: &Loaded,
    recorder: Option<Box<dyn RecordSink>>,
    start: Option<&StartState>,
) -> anyhow::Result<(PipelineParts, Probes)> {
    let cfg = &loaded.config;
    let registry = Arc::new(loaded.registry.clone());
    let mut feeds: Vec<Box<dyn Feed>> = Vec::new();
    let mut health = Vec::new();
    for f in &cfg.feeds {
        match f {
            FeedConfig::Binance(s) => {
                let feed = tickline_feeds::venue::binance::connection::BinanceFeed::new(
                    &registry,
                    s.to_feed_config(),
                )?;
                health.push((f.name().to_owned(), feed.health()));
                feeds.push(Box::new(feed))
            }
            FeedConfig::Okx(s) => {
                let feed = tickline_feeds::venue::okx::connection::OkxFeed::new(
                    &registry,
                    s.to_feed_config(),
                )?;
                health.push((f.name().to_owned(), feed.health()));
                feeds.push(Box::new(feed))
            }
            FeedConfig::Capture { name, path, snapshot_symbol, rate } => {
                let feed = CaptureFeed::open(name, path, &registry, snapshot_symbol.as_deref())
                    .with_context(|| format!("feed {name}"))?
                    .with_rate(*rate);
                health.push((name.clone(), feed.health()));
                feeds.push(Box::new(feed))
            }
            FeedConfig::Synthetic {
                name,
                seed,
                rate,
                trade_every,
                max_ticks,
                start_price,
                instruments,
            } => {
                let mut list = Vec::new();
                for sym in instruments {
                    let id = find_symbol(&registry, sym)
                        .with_context(|| format!("feed {name}: instrument {sym}"))?;
                    let inst = registry.get(id).with_context(|| format!("instrument {sym}"))?;
                    // Round the start price down to the instrument's grid.
                    let start = Px::from_decimal(
                        start_price.trunc_with_scale(u32::from(inst.price_scale.places())),
                        inst.price_scale,
                    )
                    .with_context(|| format!("feed {name}: start_price for {sym}"))?;
                    list.push(SyntheticInstrument {
                        id,
                        start,
                        tick: inst.tick_size,
                        lot: inst.lot_size,
                    });
                }
                let feed = SyntheticFeed::new(SyntheticSpec {
                    name: name.clone(),
                    seed: *seed,
                    rate: *rate,
                    trade_every: *trade_every,
                    max_ticks: *max_ticks,
                    instruments: list,
                });
                health.push((name.clone(), feed.health()));
                feeds.push(Box::new(feed));
            }
        }
    }
    let mut strategies: Vec<Box<dyn Strategy>> = Vec::new();
    for (i, s) in cfg.strategies.iter().enumerate() {
        strategies.push(strategy(i, s, &registry)?);
    }
    let limits = cfg.risk.resolve(&registry)?;
    let missing = limits.missing(&registry);
    if !missing.is_empty() {
        tracing::warn!(
            limits = %missing.join(", "),
            "risk limits not configured: orders that need them will be rejected (limit_not_configured)"
        );
    }
    let risk = RiskSetup::new(limits).with_seed(start.map(|s| s.risk.clone()).unwrap_or_default());
    let (venue, logon): (Box<dyn Venue>, Arc<LogonState>) = match &cfg.gateway {
        GatewayConfig::Instant { name } => {
            (Box::new(InstantVenue::new(name, INSTANT_VENUE_QUEUE)), LogonState::always(name))
        }
        GatewayConfig::Sim(s) => (
            Box::new(SimVenue::new(&s.name, Arc::clone(&registry), s.to_config()?)),
            LogonState::always(&s.name),
        ),
        GatewayConfig::Fix(f) => {
            let mut venue = FixVenue::new(&f.name, &registry, f.to_config()?)
                .with_context(|| format!("gateway {}", f.name))?
                .with_disconnect_hook(Arc::clone(&risk.disconnect));
            if let Some(s) = start {
                if let Some(w) = &s.fix_seqs {
                    venue = venue.with_seq_watch(Arc::clone(w));
                }
                venue.restore_open_orders(&s.risk.open_orders);
            }
            let logon = venue.logon_state();
            (Box::new(venue), logon)
        }
    };
    let feed_names: Vec<String> = cfg.feeds.iter().map(|f| f.name().to_owned()).collect();
    let mut plan = resolve(&cfg.layout, &feed_names, &available_cores())?;
    if matches!(cfg.gateway, GatewayConfig::Sim(_)) {
        fuse_gateway_with_strategy(&mut plan);
    }
    let parts = PipelineParts {
        registry,
        feeds,
        strategies,
        venue,
        recorder,
        rings: cfg.rings,
        plan,
        halt: Arc::new(HaltSwitch::new()),
        risk,
        order_ids: ClientOrderIdGen::new(Clock::now()),
    };
    Ok((parts, Probes { feeds: health, gateway: logon }))
}

/// The simulated exchange matches against the market data `Venue::on_tick` hands it, which
/// the runtime calls only when the gateway runs on the strategy's thread: an explicit layout
/// that puts them apart is a start-up error (an automatic one is fused, see
/// [`fuse_gateway_with_strategy`]).
pub fn check_sim_layout(
    gateway: &GatewayConfig,
    layout: &tickline_engine::config::LayoutConfig,
    plan: &Plan,
) -> Result<(), ConfigError> {
    let explicit = layout.mode == tickline_engine::config::LayoutMode::Explicit;
    let apart = plan.thread_of(StageRef::Gateway) != plan.thread_of(StageRef::Strategy);
    if matches!(gateway, GatewayConfig::Sim(_)) && explicit && apart {
        return Err(ConfigError::new(
            "layout.threads",
            "gateway kind \"sim\" matches against the ticks the strategy thread sees: list \"gateway\" (and \"risk\") with \"strategy\" on one thread",
        ));
    }
    Ok(())
}

/// Moves risk and the gateway onto the strategy's thread (an automatic layout with the
/// simulated exchange), dropping threads left with nothing to run.
pub fn fuse_gateway_with_strategy(plan: &mut Plan) {
    for stage in [StageRef::Risk, StageRef::Gateway] {
        let (Some(s), Some(t)) = (plan.thread_of(StageRef::Strategy), plan.thread_of(stage)) else {
            continue;
        };
        if s != t {
            plan.hot[t].stages.retain(|x| *x != stage);
            plan.hot[s].stages.push(stage);
        }
    }
    plan.hot.retain(|t| !t.stages.is_empty());
}

/// Builds strategy `i` of the config over `registry`; errors name the config key
/// (`strategies[2].qty`). Config validation calls it too, so a config that loads builds.
pub fn strategy(
    i: usize,
    cfg: &StrategyConfig,
    registry: &InstrumentRegistry,
) -> Result<Box<dyn Strategy>, ConfigError> {
    let key = |f: &str| format!("strategies[{i}].{f}");
    let leg = |field: &str, symbol: &str| -> Result<Leg, ConfigError> {
        find_symbol(registry, symbol)
            .and_then(|id| registry.get(id))
            .map(Leg::of)
            .ok_or_else(|| ConfigError::new(key(field), format!("unknown instrument {symbol:?}")))
    };
    let bad = |field: &'static str| move |why: String| ConfigError::new(key(field), why);
    let positive = |field: &str, v: Px| {
        if v.is_positive() {
            Ok(v)
        } else {
            Err(ConfigError::new(key(field), "must be positive"))
        }
    };
    Ok(match cfg {
        StrategyConfig::Threshold { name, instrument, threshold, qty, max_position } => {
            let l = leg("instrument", instrument)?;
            let threshold = l.distance("threshold", *threshold).map_err(bad("threshold"))?;
            let max_position = l.cap("max_position", *max_position).map_err(bad("max_position"))?;
            Box::new(Threshold::new(
                name,
                ThresholdParams {
                    leg: l,
                    threshold: positive("threshold", threshold)?,
                    qty: Qty::from_decimal(*qty, l.qty_scale)
                        .ok()
                        .filter(|q| q.is_positive())
                        .ok_or_else(|| {
                            ConfigError::new(
                                key("qty"),
                                format!("{qty}: not a positive size at the instrument's scale"),
                            )
                        })?,
                    max_position,
                },
            ))
        }
        StrategyConfig::MarketMaker {
            name,
            instrument,
            fair,
            half_spread,
            qty,
            skew,
            max_position,
            requote,
        } => {
            let l = leg("instrument", instrument)?;
            let fair = match fair.as_str() {
                "mid" => FairValue::Mid,
                "microprice" => FairValue::Microprice,
                other => {
                    return Err(ConfigError::new(
                        key("fair"),
                        format!("{other:?}: use \"mid\" or \"microprice\""),
                    ))
                }
            };
            Box::new(MarketMaker::new(
                name,
                MarketMakerParams {
                    leg: l,
                    fair,
                    half_spread: l
                        .distance("half_spread", *half_spread)
                        .map_err(bad("half_spread"))?,
                    qty: l.size("qty", *qty).map_err(bad("qty"))?,
                    skew: l.distance("skew", *skew).map_err(bad("skew"))?,
                    max_position: l
                        .cap("max_position", *max_position)
                        .map_err(bad("max_position"))?,
                    requote: l.distance("requote", *requote).map_err(bad("requote"))?,
                },
            ))
        }
        StrategyConfig::Momentum { name, instrument, fast, slow, qty, stop_loss, take_profit } => {
            let l = leg("instrument", instrument)?;
            let params = MomentumParams {
                leg: l,
                fast: *fast,
                slow: *slow,
                qty: l.size("qty", *qty).map_err(bad("qty"))?,
                stop_loss: l.distance("stop_loss", *stop_loss).map_err(bad("stop_loss"))?,
                take_profit: l.distance("take_profit", *take_profit).map_err(bad("take_profit"))?,
            };
            Box::new(Momentum::new(name, params).map_err(bad("slow"))?)
        }
        StrategyConfig::Spread { name, leg_a, leg_b, window, entry, exit, qty_a, qty_b } => {
            let (a, b) = (leg("leg_a", leg_a)?, leg("leg_b", leg_b)?);
            let grid = Leg { price_scale: SpreadParams::scale(&a, &b), ..a };
            let params = SpreadParams {
                a,
                b,
                window: *window,
                entry: positive("entry", grid.distance("entry", *entry).map_err(bad("entry"))?)?,
                exit: grid.distance("exit", *exit).map_err(bad("exit"))?,
                qty_a: a.size("qty_a", *qty_a).map_err(bad("qty_a"))?,
                qty_b: b.size("qty_b", *qty_b).map_err(bad("qty_b"))?,
            };
            Box::new(SpreadReversion::new(name, params).map_err(bad("window"))?)
        }
    })
}
