//! `tickline preflight` against fixture `/proc` and `/sys` trees.

use std::path::{Path, PathBuf};

use tickline_tools::preflight::{exit_code, run, Check, Host, Status, Target};

struct Fixture(PathBuf);

impl Fixture {
    fn new(name: &str) -> Fixture {
        let dir =
            std::env::temp_dir().join(format!("tickline-preflight-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Fixture(dir)
    }

    fn file(&self, rel: &str, text: &str) -> &Self {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    /// A tuned 8-core host: cores 2-5 isolated, performance governor, THP never, tsc.
    fn tuned(name: &str) -> Fixture {
        let f = Fixture::new(name);
        f.file("sys/devices/system/cpu/online", "0-7\n")
            .file("proc/cmdline", "quiet isolcpus=managed_irq,domain,2-5 nohz_full=2-5 rcu_nocbs=2-5\n")
            .file("sys/kernel/mm/transparent_hugepage/enabled", "always madvise [never]\n")
            .file("sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc\n")
            .file("proc/cpuinfo", "processor : 0\nflags : fpu tsc constant_tsc nonstop_tsc rdtscp\n")
            .file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n")
            .file("sys/devices/system/cpu/cpufreq/boost", "0\n")
            .file("sys/devices/system/node/node0/cpulist", "0-7\n")
            .file(
                "proc/self/limits",
                "Limit                     Soft Limit           Hard Limit           Units\nMax open files            1048576              1048576              files\nMax locked memory         unlimited            unlimited            bytes\n",
            )
            .file("proc/irq/24/smp_affinity_list", "0-1\n")
            .file("proc/irq/25/smp_affinity_list", "6-7\n");
        for c in 0..8 {
            f.file(
                &format!("sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor"),
                "performance\n",
            );
        }
        f
    }

    fn host(&self) -> Host {
        Host::at(&self.0)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn target() -> Target {
    Target { hot_cores: vec![2, 3, 4, 5], all_cores: vec![0, 2, 3, 4, 5], journal_dir: None }
}

fn status(checks: &[Check], name: &str) -> Status {
    checks.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no check {name}")).status
}

#[test]
fn tuned_host_passes_every_host_check() {
    let f = Fixture::tuned("tuned");
    let checks = run(&f.host(), &target());
    for c in &checks {
        if c.name != "journal.space" {
            assert_eq!(c.status, Status::Pass, "{c:?}");
        }
    }
}

#[test]
fn untuned_host_warns_with_fixes() {
    let f = Fixture::tuned("untuned");
    f.file("proc/cmdline", "quiet\n")
        .file("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n")
        .file("sys/devices/system/cpu/cpu3/cpufreq/scaling_governor", "powersave\n")
        .file("proc/irq/30/smp_affinity_list", "0-7\n")
        .file("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n");
    let checks = run(&f.host(), &target());
    for name in [
        "cpu.isolcpus",
        "cpu.nohz_full",
        "cpu.rcu_nocbs",
        "mm.thp",
        "cpu.governor",
        "irq.affinity",
        "mm.swap",
    ] {
        assert_eq!(status(&checks, name), Status::Warn, "{name}");
        let c = checks.iter().find(|c| c.name == name).unwrap();
        assert!(c.fix.is_some(), "{name} needs a fix");
    }
    let gov = checks.iter().find(|c| c.name == "cpu.governor").unwrap();
    assert!(gov.detail.contains("cpu3=powersave"), "{}", gov.detail);
    let irq = checks.iter().find(|c| c.name == "irq.affinity").unwrap();
    assert!(irq.detail.contains("IRQs 30"), "{}", irq.detail);
    assert_eq!(exit_code(&checks), 1);
}

#[test]
fn missing_cores_fail() {
    let f = Fixture::tuned("small");
    f.file("sys/devices/system/cpu/online", "0-1\n");
    let checks = run(&f.host(), &target());
    assert_eq!(status(&checks, "layout.cores"), Status::Fail);
    assert_eq!(exit_code(&checks), 2);
}

#[test]
fn empty_tree_says_unknown_for_everything_it_cannot_read() {
    let f = Fixture::new("empty");
    let checks = run(&f.host(), &target());
    for c in &checks {
        assert_ne!(c.status, Status::Pass, "{c:?}");
        if c.status == Status::Unknown {
            assert!(!c.detail.is_empty(), "{} says why", c.name);
        }
    }
    assert_eq!(status(&checks, "cpu.governor"), Status::Unknown);
    assert_eq!(status(&checks, "mm.thp"), Status::Unknown);
    assert_eq!(exit_code(&checks), 1, "unknowns warn, nothing fails");
}

#[test]
fn journal_space_and_filesystem() {
    let f = Fixture::tuned("journal");
    let dir = Path::new("/tmp").join("tickline-preflight-journal-check");
    f.file("proc/self/mounts", "/dev/vda1 / ext4 rw 0 0\nnfs:/x /tmp nfs4 rw 0 0\n");
    let t = Target { journal_dir: Some(dir.clone()), ..target() };
    let checks = run(&f.host(), &t);
    assert_eq!(
        status(&checks, "journal.filesystem"),
        Status::Fail,
        "a network filesystem cannot back the journal"
    );
    assert_ne!(
        status(&checks, "journal.space"),
        Status::Unknown,
        "free space is read from the nearest existing parent"
    );
    f.file("proc/self/mounts", "/dev/vda1 / ext4 rw 0 0\ntmpfs /tmp tmpfs rw 0 0\n");
    assert_eq!(status(&run(&f.host(), &t), "journal.filesystem"), Status::Warn);
    f.file("proc/self/mounts", "/dev/vda1 / xfs rw 0 0\n");
    assert_eq!(status(&run(&f.host(), &t), "journal.filesystem"), Status::Pass);
}
