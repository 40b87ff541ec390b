//! `tickline preflight`: checks the host against the configured layout.
//!
//! Most latency lost in production is lost to the host: cores that are not isolated, a
//! power-saving governor, transparent huge pages, a slow clock source. Each check reads
//! `/proc` and `/sys` (under a configurable root, so a captured snapshot of another host can
//! be checked too) and says pass, warn, fail, or unknown — with the reason it cannot know
//! (a VM without cpufreq, a container without `/sys`) instead of failing the whole command.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A check's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Pass,
    /// Could not be determined on this host; the detail says why.
    Unknown,
    /// Costs latency or jitter; the fix says what to change.
    Warn,
    /// Will not work as configured.
    Fail,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Unknown => "unknown",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// One checked item.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    /// Stable name, e.g. `cpu.governor`.
    pub name: &'static str,
    /// Verdict.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// What to do about it (absent when passing).
    pub fix: Option<String>,
}

impl Check {
    fn new(
        name: &'static str,
        status: Status,
        detail: impl Into<String>,
        fix: Option<&str>,
    ) -> Check {
        Check { name, status, detail: detail.into(), fix: fix.map(str::to_owned) }
    }
}

/// What preflight checks against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Cores the layout pins hot threads to.
    pub hot_cores: Vec<usize>,
    /// Cores any thread of the layout is pinned to (hot and aux).
    pub all_cores: Vec<usize>,
    /// The journal directory, if journaling is configured.
    pub journal_dir: Option<PathBuf>,
}

impl Target {
    /// The cores and journal of a loaded config's layout on this host.
    pub fn from_config(
        loaded: &crate::config::Loaded,
    ) -> Result<Target, tickline_engine::config::ConfigError> {
        let cfg = &loaded.config;
        let feeds: Vec<String> = cfg.feeds.iter().map(|f| f.name().to_owned()).collect();
        let plan = tickline_engine::runtime::resolve(
            &cfg.layout,
            &feeds,
            &tickline_engine::runtime::available_cores(),
        )?;
        let mut hot_cores: Vec<usize> = plan.hot.iter().filter_map(|t| t.core).collect();
        hot_cores.sort_unstable();
        let mut all_cores = hot_cores.clone();
        all_cores.extend(plan.aux.core);
        all_cores.sort_unstable();
        all_cores.dedup();
        Ok(Target { hot_cores, all_cores, journal_dir: crate::config::journal_dir(cfg) })
    }
}

/// Where `/proc` and `/sys` are read from.
#[derive(Clone, Debug)]
pub struct Host {
    root: PathBuf,
}

impl Host {
    /// The running host (`/`).
    pub fn live() -> Host {
        Host { root: PathBuf::from("/") }
    }

    /// A snapshot of a host's `/proc` and `/sys` under `root`.
    pub fn at(root: impl Into<PathBuf>) -> Host {
        Host { root: root.into() }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel.trim_start_matches('/'))
    }

    fn read(&self, rel: &str) -> Result<String, String> {
        let p = self.path(rel);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    }
}

/// Parses a kernel CPU list (`"0-3,8,10-11"`).
pub fn parse_cpu_list(text: &str) -> Option<BTreeSet<usize>> {
    let mut set = BTreeSet::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if b < a || b - a > 65_536 {
                    return None;
                }
                set.extend(a..=b);
            }
            None => {
                set.insert(part.trim().parse().ok()?);
            }
        }
    }
    Some(set)
}

fn list(cores: &[usize]) -> String {
    cores.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
}

/// Runs every check.
pub fn run(host: &Host, target: &Target) -> Vec<Check> {
    let mut out = vec![check_cores(host, target)];
    out.extend(check_isolation(host, target));
    out.push(check_irqs(host, target));
    out.push(check_governor(host, target));
    out.push(check_boost(host));
    out.push(check_thp(host));
    out.push(check_clocksource(host));
    out.push(check_tsc_flags(host));
    out.push(check_swap(host));
    out.push(check_numa(host, target));
    out.extend(check_limits(host));
    out.extend(check_journal(host, target));
    out
}

fn check_cores(host: &Host, t: &Target) -> Check {
    let online = match host.read("sys/devices/system/cpu/online") {
        Ok(s) => s,
        Err(e) => return Check::new("layout.cores", Status::Unknown, e, None),
    };
    let Some(online) = parse_cpu_list(&online) else {
        return Check::new(
            "layout.cores",
            Status::Unknown,
            format!("unparsable online CPU list {online:?}"),
            None,
        );
    };
    let missing: Vec<usize> = t.all_cores.iter().copied().filter(|c| !online.contains(c)).collect();
    if t.all_cores.is_empty() {
        Check::new(
            "layout.cores",
            Status::Warn,
            "the layout pins no thread to a core",
            Some("set layout.pin = true (auto) or give each thread a core (explicit)"),
        )
    } else if missing.is_empty() {
        Check::new(
            "layout.cores",
            Status::Pass,
            format!("cores {} online", list(&t.all_cores)),
            None,
        )
    } else {
        Check::new(
            "layout.cores",
            Status::Fail,
            format!(
                "cores {} are not online (online: {})",
                list(&missing),
                list(&online.into_iter().collect::<Vec<_>>())
            ),
            Some("change the layout's cores to online ones"),
        )
    }
}

/// The CPU list of a kernel parameter such as `isolcpus=domain,managed_irq,2-5`.
fn cmdline_cpus(cmdline: &str, key: &str) -> Option<BTreeSet<usize>> {
    let value = cmdline.split_whitespace().find_map(|w| w.strip_prefix(key)?.strip_prefix('='))?;
    // isolcpus may carry flags before the list: keep the parts that parse as CPUs.
    let cpus: Vec<&str> =
        value.split(',').filter(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit())).collect();
    parse_cpu_list(&cpus.join(","))
}

fn check_isolation(host: &Host, t: &Target) -> Vec<Check> {
    let cmdline = match host.read("proc/cmdline") {
        Ok(s) => s,
        Err(e) => {
            return ["cpu.isolcpus", "cpu.nohz_full", "cpu.rcu_nocbs"]
                .into_iter()
                .map(|n| Check::new(n, Status::Unknown, e.clone(), None))
                .collect()
        }
    };
    [
        ("cpu.isolcpus", "isolcpus", "keeps the scheduler's other tasks off the hot cores"),
        ("cpu.nohz_full", "nohz_full", "stops the scheduler tick on a core running one task"),
        ("cpu.rcu_nocbs", "rcu_nocbs", "moves RCU callbacks off the hot cores"),
    ]
    .into_iter()
    .map(|(name, key, why)| {
        if t.hot_cores.is_empty() {
            return Check::new(
                name,
                Status::Warn,
                "no hot thread is pinned, so none can be isolated",
                Some("pin the hot threads first"),
            );
        }
        let set = cmdline_cpus(&cmdline, key).unwrap_or_default();
        let missing: Vec<usize> =
            t.hot_cores.iter().copied().filter(|c| !set.contains(c)).collect();
        if missing.is_empty() {
            Check::new(
                name,
                Status::Pass,
                format!("hot cores {} listed in {key}", list(&t.hot_cores)),
                None,
            )
        } else {
            Check::new(
                name,
                Status::Warn,
                format!("hot cores {} not in {key} ({why})", list(&missing)),
                Some(&format!(
                    "add {key}={} to the kernel command line and reboot",
                    list(&t.hot_cores)
                )),
            )
        }
    })
    .collect()
}

fn check_irqs(host: &Host, t: &Target) -> Check {
    let dir = host.path("proc/irq");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            return Check::new(
                "irq.affinity",
                Status::Unknown,
                format!("cannot list {}: {e}", dir.display()),
                None,
            )
        }
    };
    let mut hits = Vec::new();
    let mut unreadable = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        match std::fs::read_to_string(e.path().join("smp_affinity_list"))
            .ok()
            .as_deref()
            .and_then(parse_cpu_list)
        {
            Some(cpus) => {
                if t.hot_cores.iter().any(|c| cpus.contains(c)) {
                    hits.push(name);
                }
            }
            None => unreadable += 1,
        }
    }
    hits.sort_by_key(|n| n.parse::<u64>().unwrap_or(u64::MAX));
    if t.hot_cores.is_empty() {
        Check::new(
            "irq.affinity",
            Status::Warn,
            "no hot core pinned",
            Some("pin the hot threads first"),
        )
    } else if hits.is_empty() && unreadable == 0 {
        Check::new("irq.affinity", Status::Pass, "no IRQ may run on a hot core", None)
    } else if hits.is_empty() {
        Check::new(
            "irq.affinity",
            Status::Unknown,
            format!("{unreadable} IRQ affinities unreadable (container or permissions)"),
            None,
        )
    } else {
        Check::new(
            "irq.affinity",
            Status::Warn,
            format!("{} IRQs may run on hot cores (IRQs {})", hits.len(), hits.iter().take(10).cloned().collect::<Vec<_>>().join(",")),
            Some("move them: echo <housekeeping cores> > /proc/irq/N/smp_affinity_list (and stop irqbalance)"),
        )
    }
}

fn check_governor(host: &Host, t: &Target) -> Check {
    let cores: Vec<usize> = if t.hot_cores.is_empty() { vec![0] } else { t.hot_cores.clone() };
    let mut bad = Vec::new();
    for c in &cores {
        match host.read(&format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor")) {
            Ok(g) if g.trim() == "performance" => {}
            Ok(g) => bad.push(format!("cpu{c}={}", g.trim())),
            Err(_) => {
                return Check::new(
                    "cpu.governor",
                    Status::Unknown,
                    format!("no cpufreq for cpu{c}: a VM or a driver without frequency scaling"),
                    None,
                )
            }
        }
    }
    if bad.is_empty() {
        Check::new("cpu.governor", Status::Pass, "performance on the hot cores", None)
    } else {
        Check::new(
            "cpu.governor",
            Status::Warn,
            format!("not performance: {}", bad.join(", ")),
            Some("cpupower frequency-set -g performance (or echo performance > .../scaling_governor)"),
        )
    }
}

fn check_boost(host: &Host) -> Check {
    let boost = host.read("sys/devices/system/cpu/cpufreq/boost").ok();
    let no_turbo = host.read("sys/devices/system/cpu/intel_pstate/no_turbo").ok();
    let fix = Some("for steady latency turn boost off: echo 0 > /sys/devices/system/cpu/cpufreq/boost (or 1 > intel_pstate/no_turbo)");
    match (boost.as_deref().map(str::trim), no_turbo.as_deref().map(str::trim)) {
        (Some("1"), _) | (_, Some("0")) => Check::new(
            "cpu.boost",
            Status::Warn,
            "turbo/boost on: the clock varies with load and heat",
            fix,
        ),
        (Some(_), _) | (_, Some(_)) => {
            Check::new("cpu.boost", Status::Pass, "turbo/boost off", None)
        }
        (None, None) => Check::new(
            "cpu.boost",
            Status::Unknown,
            "no boost control exposed (VM or unsupported driver)",
            None,
        ),
    }
}

fn bracketed(text: &str) -> Option<&str> {
    let start = text.find('[')? + 1;
    let end = text[start..].find(']')? + start;
    Some(&text[start..end])
}

fn check_thp(host: &Host) -> Check {
    match host.read("sys/kernel/mm/transparent_hugepage/enabled") {
        Err(e) => Check::new("mm.thp", Status::Unknown, e, None),
        Ok(s) => match bracketed(&s) {
            Some("always") => Check::new(
                "mm.thp",
                Status::Warn,
                "transparent huge pages: always (khugepaged compaction stalls)",
                Some("echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (or never)"),
            ),
            Some(mode @ ("madvise" | "never")) => {
                Check::new("mm.thp", Status::Pass, format!("transparent huge pages: {mode}"), None)
            }
            _ => Check::new(
                "mm.thp",
                Status::Unknown,
                format!("unrecognised setting {:?}", s.trim()),
                None,
            ),
        },
    }
}

fn check_clocksource(host: &Host) -> Check {
    match host.read("sys/devices/system/clocksource/clocksource0/current_clocksource") {
        Err(e) => Check::new("clock.source", Status::Unknown, e, None),
        Ok(s) if s.trim() == "tsc" => Check::new("clock.source", Status::Pass, "tsc", None),
        Ok(s) => Check::new(
            "clock.source",
            Status::Warn,
            format!("{}: clock reads may be syscalls or slow", s.trim()),
            Some("boot with clocksource=tsc tsc=reliable if the TSC is invariant"),
        ),
    }
}

fn check_tsc_flags(host: &Host) -> Check {
    let cpuinfo = match host.read("proc/cpuinfo") {
        Ok(s) => s,
        Err(e) => return Check::new("clock.tsc_flags", Status::Unknown, e, None),
    };
    let Some(flags) = cpuinfo.lines().find(|l| l.starts_with("flags")) else {
        return Check::new(
            "clock.tsc_flags",
            Status::Unknown,
            "no flags line in /proc/cpuinfo (not x86?)",
            None,
        );
    };
    let has = |f: &str| flags.split_whitespace().any(|w| w == f);
    let missing: Vec<&str> =
        ["constant_tsc", "nonstop_tsc"].into_iter().filter(|f| !has(f)).collect();
    if missing.is_empty() {
        Check::new("clock.tsc_flags", Status::Pass, "constant_tsc nonstop_tsc", None)
    } else {
        Check::new(
            "clock.tsc_flags",
            Status::Warn,
            format!(
                "missing {}: the TSC may drift with frequency or stop in idle",
                missing.join(" ")
            ),
            Some("use a CPU with an invariant TSC for timestamping"),
        )
    }
}

fn check_swap(host: &Host) -> Check {
    match host.read("proc/swaps") {
        Err(e) => Check::new("mm.swap", Status::Unknown, e, None),
        Ok(s) => {
            let devices = s.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
            if devices == 0 {
                Check::new("mm.swap", Status::Pass, "no swap", None)
            } else {
                Check::new(
                    "mm.swap",
                    Status::Warn,
                    format!("{devices} swap device(s) active"),
                    Some("swapoff -a, or vm.swappiness=0 and mlock the engine"),
                )
            }
        }
    }
}

fn check_numa(host: &Host, t: &Target) -> Check {
    let dir = host.path("sys/devices/system/node");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Check::new(
            "numa.placement",
            Status::Unknown,
            format!("cannot list {}", dir.display()),
            None,
        );
    };
    let mut nodes = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = name.strip_prefix("node").and_then(|n| n.parse::<usize>().ok()) {
            if let Some(cpus) = std::fs::read_to_string(e.path().join("cpulist"))
                .ok()
                .as_deref()
                .and_then(parse_cpu_list)
            {
                nodes.push((n, cpus));
            }
        }
    }
    if nodes.is_empty() {
        return Check::new("numa.placement", Status::Unknown, "no NUMA nodes listed", None);
    }
    let used: BTreeSet<usize> = nodes
        .iter()
        .filter(|(_, cpus)| t.all_cores.iter().any(|c| cpus.contains(c)))
        .map(|(n, _)| *n)
        .collect();
    let journal = t.journal_dir.as_ref().map_or(String::new(), |_| {
        "; journal device node not derived (check /sys/block/<dev>/device/numa_node)".to_owned()
    });
    if nodes.len() == 1 {
        Check::new("numa.placement", Status::Pass, format!("single NUMA node{journal}"), None)
    } else if used.len() <= 1 {
        Check::new(
            "numa.placement",
            Status::Pass,
            format!("pinned cores on node {:?} of {}{journal}", used.iter().next(), nodes.len()),
            None,
        )
    } else {
        Check::new(
            "numa.placement",
            Status::Warn,
            format!("pinned cores span NUMA nodes {used:?}: rings cross the interconnect{journal}"),
            Some("pin every hot thread to cores of one node (and the journal's device on it)"),
        )
    }
}

fn limit_of(limits: &str, key: &str) -> Option<Option<u64>> {
    let line = limits.lines().find(|l| l.starts_with(key))?;
    let soft = line[key.len()..].split_whitespace().next()?;
    if soft == "unlimited" {
        Some(None)
    } else {
        soft.parse().ok().map(Some)
    }
}

fn check_limits(host: &Host) -> Vec<Check> {
    let limits = match host.read("proc/self/limits") {
        Ok(s) => s,
        Err(e) => {
            return vec![
                Check::new("limits.memlock", Status::Unknown, e.clone(), None),
                Check::new("limits.nofile", Status::Unknown, e, None),
            ]
        }
    };
    const MEMLOCK_MIN: u64 = 256 << 20;
    const NOFILE_MIN: u64 = 65_536;
    let memlock = match limit_of(&limits, "Max locked memory") {
        Some(None) => Check::new("limits.memlock", Status::Pass, "unlimited", None),
        Some(Some(v)) if v >= MEMLOCK_MIN => {
            Check::new("limits.memlock", Status::Pass, format!("{} MiB", v >> 20), None)
        }
        Some(Some(v)) => Check::new(
            "limits.memlock",
            Status::Warn,
            format!("{} KiB: rings and journal segments cannot be locked in memory", v >> 10),
            Some("LimitMEMLOCK=infinity in the systemd unit (or ulimit -l unlimited)"),
        ),
        None => Check::new("limits.memlock", Status::Unknown, "no 'Max locked memory' line", None),
    };
    let nofile = match limit_of(&limits, "Max open files") {
        Some(None) => Check::new("limits.nofile", Status::Pass, "unlimited", None),
        Some(Some(v)) if v >= NOFILE_MIN => {
            Check::new("limits.nofile", Status::Pass, v.to_string(), None)
        }
        Some(Some(v)) => Check::new(
            "limits.nofile",
            Status::Warn,
            format!("{v} (admin connections, venue sockets and journal segments share it)"),
            Some("LimitNOFILE=65536 in the systemd unit"),
        ),
        None => Check::new("limits.nofile", Status::Unknown, "no 'Max open files' line", None),
    };
    vec![memlock, nofile]
}

/// Filesystem type of the longest mount point containing `dir` (from `/proc/self/mounts`).
fn fs_type(host: &Host, dir: &Path) -> Option<String> {
    let mounts = host.read("proc/self/mounts").ok()?;
    let mut best: Option<(usize, String)> = None;
    for l in mounts.lines() {
        let mut w = l.split_whitespace();
        let (_, mnt, ty) = (w.next()?, w.next()?, w.next()?);
        if dir.starts_with(mnt) && best.as_ref().is_none_or(|(len, _)| mnt.len() > *len) {
            best = Some((mnt.len(), ty.to_owned()));
        }
    }
    best.map(|(_, t)| t)
}

fn check_journal(host: &Host, t: &Target) -> Vec<Check> {
    let Some(dir) = &t.journal_dir else {
        return vec![Check::new("journal.space", Status::Unknown, "no journal configured", None)];
    };
    // The nearest existing ancestor: the directory may not exist before the first run.
    let abs = if dir.is_absolute() {
        dir.clone()
    } else {
        std::env::current_dir().map(|c| c.join(dir)).unwrap_or(dir.clone())
    };
    let existing = abs.ancestors().find(|p| p.exists()).map(Path::to_path_buf);
    let space = match existing.as_deref().map(rustix::fs::statvfs) {
        Some(Ok(st)) => {
            let free = st.f_bavail.saturating_mul(st.f_frsize);
            let gib = free as f64 / f64::from(1u32 << 30);
            if free < 1 << 30 {
                Check::new(
                    "journal.space",
                    Status::Fail,
                    format!("{gib:.1} GiB free at {}", abs.display()),
                    Some("free space or move journal.dir: segments are pre-allocated"),
                )
            } else if free < 10 << 30 {
                Check::new(
                    "journal.space",
                    Status::Warn,
                    format!("{gib:.1} GiB free at {}", abs.display()),
                    Some(
                        "keep at least a day of journal free; prune with `tickline journal prune`",
                    ),
                )
            } else {
                Check::new(
                    "journal.space",
                    Status::Pass,
                    format!("{gib:.1} GiB free at {}", abs.display()),
                    None,
                )
            }
        }
        Some(Err(e)) => Check::new(
            "journal.space",
            Status::Unknown,
            format!("statvfs {}: {e}", abs.display()),
            None,
        ),
        None => Check::new(
            "journal.space",
            Status::Unknown,
            format!("no existing ancestor of {}", abs.display()),
            None,
        ),
    };
    let fs = match fs_type(host, &abs) {
        None => Check::new("journal.filesystem", Status::Unknown, "mount table unreadable", None),
        Some(ty) if ["ext4", "xfs", "btrfs"].contains(&ty.as_str()) => {
            Check::new("journal.filesystem", Status::Pass, ty, None)
        }
        Some(ty) if ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs"].contains(&ty.as_str()) => Check::new(
            "journal.filesystem",
            Status::Fail,
            format!("{ty}: a network filesystem cannot back a memory-mapped journal"),
            Some("put journal.dir on a local ext4 or xfs volume"),
        ),
        Some(ty) => Check::new(
            "journal.filesystem",
            Status::Warn,
            format!("{ty}: not a filesystem tickline's durability was tested on (tmpfs and overlay lose data on reboot)"),
            Some("put journal.dir on a local ext4 or xfs volume"),
        ),
    };
    vec![space, fs]
}

/// Exit status: 0 all pass, 1 any warning or unknown, 2 any failure.
pub fn exit_code(checks: &[Check]) -> u8 {
    match checks.iter().map(|c| c.status).max() {
        Some(Status::Fail) => 2,
        Some(Status::Warn | Status::Unknown) => 1,
        _ => 0,
    }
}

/// The human-readable report.
pub fn to_text(checks: &[Check]) -> String {
    let mut s = String::new();
    for c in checks {
        let _ = writeln!(s, "{:<7} {:<20} {}", c.status.label(), c.name, c.detail);
        if let Some(fix) = &c.fix {
            let _ = writeln!(s, "{:<28} fix: {fix}", "");
        }
    }
    let count = |st| checks.iter().filter(|c| c.status == st).count();
    let _ = writeln!(
        s,
        "{} pass, {} warn, {} fail, {} unknown",
        count(Status::Pass),
        count(Status::Warn),
        count(Status::Fail),
        count(Status::Unknown)
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists_parse() {
        assert_eq!(
            parse_cpu_list("0-3,8,10-11\n").unwrap().into_iter().collect::<Vec<_>>(),
            vec![0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(parse_cpu_list("").unwrap().len(), 0);
        assert!(parse_cpu_list("3-1").is_none());
        assert!(parse_cpu_list("x").is_none());
        let set = cmdline_cpus("quiet isolcpus=domain,managed_irq,2-5 nohz_full=2-5", "isolcpus")
            .unwrap();
        assert_eq!(set.into_iter().collect::<Vec<_>>(), vec![2, 3, 4, 5]);
        assert!(cmdline_cpus("quiet", "isolcpus").is_none());
    }

    #[test]
    fn exit_codes_follow_the_worst_status() {
        let c = |s| Check::new("x", s, "", None);
        assert_eq!(exit_code(&[c(Status::Pass)]), 0);
        assert_eq!(exit_code(&[c(Status::Pass), c(Status::Unknown)]), 1);
        assert_eq!(exit_code(&[c(Status::Warn), c(Status::Fail)]), 2);
    }
}
