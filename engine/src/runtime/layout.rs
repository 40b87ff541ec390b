//! Thread layouts: which stages share a thread (fused, direct calls) and which core each
//! thread is pinned to.
//!
//! The hot path is `feeds → strategy → risk → gateway`. A layout cuts it into contiguous
//! pieces, one per thread; each cut becomes a ring. An explicit layout that names a core the
//! host lacks is an error, never a silent downgrade.

use crate::config::{parse_wait, ConfigError, LayoutConfig, LayoutMode};
use crate::ring::WaitStrategy;

/// A stage of the hot path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StageRef {
    /// The feed at this index of the configured feeds.
    Feed(usize),
    /// The strategy stage (all strategies).
    Strategy,
    /// The risk stage.
    Risk,
    /// The gateway stage (the venue adapter).
    Gateway,
}

/// One thread of a resolved layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadPlan {
    /// Thread name.
    pub name: String,
    /// Stages, fused.
    pub stages: Vec<StageRef>,
    /// Core to pin to.
    pub core: Option<usize>,
    /// Wait strategy.
    pub wait: WaitStrategy,
}

impl ThreadPlan {
    /// Whether the thread runs `stage`.
    pub fn has(&self, stage: StageRef) -> bool {
        self.stages.contains(&stage)
    }
}

/// A resolved, validated layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Hot threads.
    pub hot: Vec<ThreadPlan>,
    /// The auxiliary thread (journal recorder).
    pub aux: ThreadPlan,
}

impl Plan {
    /// Index of the hot thread running `stage`.
    pub fn thread_of(&self, stage: StageRef) -> Option<usize> {
        self.hot.iter().position(|t| t.has(stage))
    }

    /// The core for the process's cold threads (the journal's segment and msync threads,
    /// the clock's discipline thread, the admin sidecar), so none of them takes a slice of
    /// a pinned hot thread's core: the aux thread's core when it is not a hot one, else the
    /// first core this process may use that no hot thread is pinned to. `None` when no hot
    /// thread is pinned (nothing to keep off) or every core is taken by one.
    pub fn cold_core(&self) -> Option<usize> {
        self.cold_core_of(&available_cores())
    }

    fn cold_core_of(&self, available: &[usize]) -> Option<usize> {
        let hot: Vec<usize> = self.hot.iter().filter_map(|t| t.core).collect();
        if hot.is_empty() {
            return None;
        }
        self.aux
            .core
            .filter(|c| !hot.contains(c))
            .or_else(|| available.iter().copied().find(|c| !hot.contains(c)))
    }

    /// One line per thread, for logs and the run summary.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for t in self.hot.iter().chain(std::iter::once(&self.aux)) {
            let core = t.core.map_or_else(|| "unpinned".to_owned(), |c| format!("core {c}"));
            out.push_str(&format!("{} [{}] {} {:?}\n", t.name, core, t.wait.name(), t.stages));
        }
        out
    }
}

/// Resolves `cfg` against the feeds configured and the cores this process may use.
pub fn resolve(cfg: &LayoutConfig, feeds: &[String], cores: &[usize]) -> Result<Plan, ConfigError> {
    match cfg.mode {
        LayoutMode::Auto => {
            if !cfg.threads.is_empty() || cfg.aux.is_some() {
                return Err(ConfigError::new(
                    "layout.threads",
                    "threads and aux are only read with mode = \"explicit\"",
                ));
            }
            let wait = parse_wait("layout.wait", &cfg.wait)?;
            Ok(auto(feeds.len(), cores, wait, cfg.pin))
        }
        LayoutMode::Explicit => explicit(cfg, feeds, cores),
    }
}

/// The automatic layout.
///
/// - enough cores for every stage (feeds, strategy, risk, gateway, plus one for the aux
///   thread): every stage on its own core;
/// - otherwise, two or more cores: the whole hot path fused on one core, the aux thread on
///   another (on 2 cores: hot on the second, aux on the first);
/// - one core: everything on it.
pub fn auto(n_feeds: usize, cores: &[usize], wait: WaitStrategy, pin: bool) -> Plan {
    let mut sorted = cores.to_vec();
    sorted.sort_unstable();
    let core = |i: usize| if pin { sorted.get(i).copied() } else { None };
    let aux_wait = WaitStrategy::from_name("park").unwrap_or(WaitStrategy::spin_yield());
    let aux = |c| ThreadPlan { name: "aux".into(), stages: vec![], core: c, wait: aux_wait };
    let feeds: Vec<StageRef> = (0..n_feeds).map(StageRef::Feed).collect();
    if sorted.len() > n_feeds + 3 {
        let mut hot: Vec<ThreadPlan> = (0..n_feeds)
            .map(|i| ThreadPlan {
                name: format!("feed-{i}"),
                stages: vec![StageRef::Feed(i)],
                core: core(1 + i),
                wait,
            })
            .collect();
        for (k, (name, stage)) in [
            ("strategy", StageRef::Strategy),
            ("risk", StageRef::Risk),
            ("gateway", StageRef::Gateway),
        ]
        .into_iter()
        .enumerate()
        {
            hot.push(ThreadPlan {
                name: name.into(),
                stages: vec![stage],
                core: core(1 + n_feeds + k),
                wait,
            });
        }
        return Plan { hot, aux: aux(core(0)) };
    }
    let mut stages = feeds;
    stages.extend([StageRef::Strategy, StageRef::Risk, StageRef::Gateway]);
    let (hot_core, aux_core) = match sorted.len() {
        0 => (None, None),
        1 => (core(0), None),
        n => (core(n - 1), core(0)),
    };
    Plan {
        hot: vec![ThreadPlan { name: "hot".into(), stages, core: hot_core, wait }],
        aux: aux(aux_core),
    }
}

fn explicit(cfg: &LayoutConfig, feeds: &[String], cores: &[usize]) -> Result<Plan, ConfigError> {
    if cfg.threads.is_empty() {
        return Err(ConfigError::new(
            "layout.threads",
            "mode = \"explicit\" needs at least one thread",
        ));
    }
    let check_core = |key: String, core: Option<usize>| -> Result<(), ConfigError> {
        match core {
            Some(c) if !cores.contains(&c) => Err(ConfigError::new(
                key,
                format!("core {c} is not available to this process (available: {cores:?})"),
            )),
            _ => Ok(()),
        }
    };
    let mut hot = Vec::new();
    let mut seen: Vec<(StageRef, String)> = Vec::new();
    for (i, t) in cfg.threads.iter().enumerate() {
        let key = |field: &str| format!("layout.threads[{i}].{field}");
        check_core(key("core"), t.core)?;
        if let Some(c) = t.core {
            if let Some(other) = hot.iter().find(|p: &&ThreadPlan| p.core == Some(c)) {
                return Err(ConfigError::new(
                    key("core"),
                    format!(
                        "core {c} is already given to thread {:?}; hot threads need a core each",
                        other.name
                    ),
                ));
            }
        }
        let wait = parse_wait(&key("wait"), &t.wait)?;
        let mut stages = Vec::new();
        for name in &t.stages {
            let refs: Vec<StageRef> = match name.as_str() {
                "feeds" => (0..feeds.len()).map(StageRef::Feed).collect(),
                "strategy" => vec![StageRef::Strategy],
                "risk" => vec![StageRef::Risk],
                "gateway" => vec![StageRef::Gateway],
                other => match other.strip_prefix("feed:") {
                    Some(f) => match feeds.iter().position(|x| x == f) {
                        Some(idx) => vec![StageRef::Feed(idx)],
                        None => {
                            return Err(ConfigError::new(
                                key("stages"),
                                format!("no feed named {f:?} (feeds: {feeds:?})"),
                            ))
                        }
                    },
                    None => {
                        return Err(ConfigError::new(
                            key("stages"),
                            format!("unknown stage {other:?}; use feeds, feed:NAME, strategy, risk, gateway"),
                        ))
                    }
                },
            };
            for r in refs {
                if let Some((_, owner)) = seen.iter().find(|(s, _)| *s == r) {
                    return Err(ConfigError::new(
                        key("stages"),
                        format!("stage {r:?} is already on thread {owner:?}"),
                    ));
                }
                seen.push((r, t.name.clone()));
                stages.push(r);
            }
        }
        hot.push(ThreadPlan { name: t.name.clone(), stages, core: t.core, wait });
    }
    let missing: Vec<String> = (0..feeds.len())
        .map(StageRef::Feed)
        .chain([StageRef::Strategy, StageRef::Risk, StageRef::Gateway])
        .filter(|s| !seen.iter().any(|(x, _)| x == s))
        .map(|s| format!("{s:?}"))
        .collect();
    if !missing.is_empty() {
        return Err(ConfigError::new(
            "layout.threads",
            format!("no thread runs {}", missing.join(", ")),
        ));
    }
    let plan_aux = match &cfg.aux {
        Some(a) => {
            check_core("layout.aux.core".into(), a.core)?;
            ThreadPlan {
                name: "aux".into(),
                stages: vec![],
                core: a.core,
                wait: parse_wait("layout.aux.wait", &a.wait)?,
            }
        }
        None => ThreadPlan {
            name: "aux".into(),
            stages: vec![],
            core: None,
            wait: WaitStrategy::spin_yield(),
        },
    };
    let plan = Plan { hot, aux: plan_aux };
    let (s, r, g) = (
        plan.thread_of(StageRef::Strategy),
        plan.thread_of(StageRef::Risk),
        plan.thread_of(StageRef::Gateway),
    );
    if s == g && r != s {
        return Err(ConfigError::new(
            "layout.threads",
            "strategy and gateway share a thread but risk does not: fused stages must be contiguous (feeds → strategy → risk → gateway)",
        ));
    }
    for t in &plan.hot {
        let has_feed = t.stages.iter().any(|s| matches!(s, StageRef::Feed(_)));
        if has_feed
            && !t.has(StageRef::Strategy)
            && (t.has(StageRef::Risk) || t.has(StageRef::Gateway))
        {
            return Err(ConfigError::new(
                "layout.threads",
                format!("thread {:?} runs feeds and a later stage without the strategy: fused stages must be contiguous", t.name),
            ));
        }
    }
    Ok(plan)
}

/// The cores this process may run on (its affinity mask).
pub fn available_cores() -> Vec<usize> {
    core_affinity::get_core_ids().unwrap_or_default().into_iter().map(|c| c.id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ThreadConfig;

    fn feeds() -> Vec<String> {
        vec!["synthetic".into(), "binance".into()]
    }

    fn thread(name: &str, stages: &[&str], core: Option<usize>) -> ThreadConfig {
        ThreadConfig {
            name: name.into(),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            core,
            wait: "spin-yield".into(),
        }
    }

    fn explicit_cfg(threads: Vec<ThreadConfig>) -> LayoutConfig {
        LayoutConfig { mode: LayoutMode::Explicit, threads, ..LayoutConfig::default() }
    }

    #[test]
    fn auto_fuses_on_two_cores_and_spreads_on_many() {
        let p = auto(2, &[0, 1], WaitStrategy::spin_yield(), true);
        assert_eq!(p.hot.len(), 1);
        assert_eq!(p.hot[0].core, Some(1));
        assert_eq!(p.aux.core, Some(0));
        assert_eq!(p.hot[0].stages.len(), 5);
        let p = auto(2, &(0..16).collect::<Vec<_>>(), WaitStrategy::BusySpin, true);
        assert_eq!(p.hot.len(), 5);
        let cores: Vec<_> = p.hot.iter().map(|t| t.core.unwrap()).collect();
        assert_eq!(cores, vec![1, 2, 3, 4, 5]);
        let p = auto(1, &[0], WaitStrategy::spin_yield(), false);
        assert_eq!((p.hot[0].core, p.aux.core), (None, None));
    }

    #[test]
    fn cold_threads_go_to_the_aux_core_or_the_first_core_no_hot_thread_has() {
        let fused = auto(2, &[0, 1], WaitStrategy::spin_yield(), true);
        assert_eq!(fused.cold_core_of(&[0, 1]), Some(0), "the aux core");
        let mut p = fused.clone();
        p.aux.core = Some(1);
        assert_eq!(p.cold_core_of(&[0, 1, 2]), Some(0), "aux shares a hot core: a free one");
        assert_eq!(p.cold_core_of(&[1]), None, "every core runs a hot thread");
        p.aux.core = None;
        assert_eq!(p.cold_core_of(&[1, 3, 4]), Some(3));
        let unpinned = auto(1, &[0], WaitStrategy::spin_yield(), false);
        assert_eq!(
            unpinned.cold_core_of(&[0, 1]),
            None,
            "no hot thread pinned: nothing to keep off"
        );
    }

    #[test]
    fn explicit_layout_errors_name_the_key() {
        let cores = [0, 1];
        let err = resolve(
            &explicit_cfg(vec![thread("hot", &["feeds", "strategy", "risk", "gateway"], Some(7))]),
            &feeds(),
            &cores,
        )
        .unwrap_err();
        assert_eq!(err.key, "layout.threads[0].core");
        assert!(err.problem.contains("core 7 is not available"), "{err}");
        let err = resolve(
            &explicit_cfg(vec![thread("hot", &["feeds", "strategy", "risk"], None)]),
            &feeds(),
            &cores,
        )
        .unwrap_err();
        assert!(err.problem.contains("no thread runs Gateway"), "{err}");
        let err = resolve(
            &explicit_cfg(vec![
                thread("a", &["feeds", "strategy", "gateway"], None),
                thread("b", &["risk"], None),
            ]),
            &feeds(),
            &cores,
        )
        .unwrap_err();
        assert!(err.problem.contains("contiguous"), "{err}");
        let err = resolve(&explicit_cfg(vec![thread("a", &["feed:nope"], None)]), &feeds(), &cores)
            .unwrap_err();
        assert!(err.problem.contains("no feed named \"nope\""), "{err}");
        let err = resolve(
            &explicit_cfg(vec![thread(
                "a",
                &["feeds", "strategy", "risk", "gateway", "risk"],
                None,
            )]),
            &feeds(),
            &cores,
        )
        .unwrap_err();
        assert!(err.problem.contains("already on thread"), "{err}");
    }

    #[test]
    fn explicit_split_layout_resolves() {
        let p = resolve(
            &explicit_cfg(vec![
                thread("md", &["feed:binance"], Some(0)),
                thread("trade", &["feed:synthetic", "strategy", "risk"], Some(1)),
                thread("gw", &["gateway"], None),
            ]),
            &feeds(),
            &[0, 1],
        )
        .unwrap();
        assert_eq!(p.thread_of(StageRef::Feed(1)), Some(0));
        assert_eq!(p.thread_of(StageRef::Feed(0)), Some(1));
        assert_eq!(p.thread_of(StageRef::Gateway), Some(2));
    }
}
