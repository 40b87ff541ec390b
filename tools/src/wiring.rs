//! Builds a pipeline from a validated config: the one place that knows every crate.

use std::sync::Arc;

use anyhow::Context;
use tickline_engine::record::RecordSink;
use tickline_engine::risk::HaltSwitch;
use tickline_engine::runtime::{available_cores, resolve, PipelineParts};
use tickline_engine::stage::{Feed, Strategy, Venue};
use tickline_engine::types::{ClientOrderIdGen, Clock, Px, Qty};
use tickline_feeds::synthetic::{SyntheticFeed, SyntheticInstrument, SyntheticSpec};
use tickline_gateway::venue::instant::InstantVenue;
use tickline_strategies::threshold::{Threshold, ThresholdParams};

use crate::config::{find_symbol, FeedConfig, GatewayConfig, Loaded, StrategyConfig};

/// Response queue capacity of the in-process venue.
const INSTANT_VENUE_QUEUE: usize = 65_536;

/// Builds the pipeline's parts from `loaded`, recording into `recorder` if given.
pub fn build(
    loaded: &Loaded,
    recorder: Option<Box<dyn RecordSink>>,
) -> anyhow::Result<PipelineParts> {
    let cfg = &loaded.config;
    let registry = Arc::new(loaded.registry.clone());
    let mut feeds: Vec<Box<dyn Feed>> = Vec::new();
    for f in &cfg.feeds {
        match f {
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
                feeds.push(Box::new(SyntheticFeed::new(SyntheticSpec {
                    name: name.clone(),
                    seed: *seed,
                    rate: *rate,
                    trade_every: *trade_every,
                    max_ticks: *max_ticks,
                    instruments: list,
                })));
            }
        }
    }
    let mut strategies: Vec<Box<dyn Strategy>> = Vec::new();
    for s in &cfg.strategies {
        match s {
            StrategyConfig::Threshold { name, instrument, threshold, qty, max_position } => {
                let id = find_symbol(&registry, instrument)
                    .with_context(|| format!("strategy {name}"))?;
                let inst = registry.get(id).with_context(|| format!("strategy {name}"))?;
                strategies.push(Box::new(Threshold::new(
                    name,
                    ThresholdParams {
                        instrument: id,
                        threshold: Px::from_decimal(*threshold, inst.price_scale)?,
                        qty: Qty::from_decimal(*qty, inst.qty_scale)?,
                        max_position: Qty::from_decimal(*max_position, inst.qty_scale)?,
                    },
                )));
            }
        }
    }
    let venue: Box<dyn Venue> = match &cfg.gateway {
        GatewayConfig::Instant { name } => Box::new(InstantVenue::new(name, INSTANT_VENUE_QUEUE)),
    };
    let feed_names: Vec<String> = cfg.feeds.iter().map(|f| f.name().to_owned()).collect();
    let plan = resolve(&cfg.layout, &feed_names, &available_cores())?;
    Ok(PipelineParts {
        registry,
        feeds,
        strategies,
        venue,
        recorder,
        rings: cfg.rings,
        plan,
        halt: Arc::new(HaltSwitch::new()),
        order_ids: ClientOrderIdGen::new(Clock::now()),
    })
}
