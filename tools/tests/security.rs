//! Each `check-config` security finding, on configs and files made for it.

use std::os::unix::fs::PermissionsExt;

use tickline_tools::config::{Config, DEFAULT_CONFIG};
use tickline_tools::preflight::Status;
use tickline_tools::security::{check, token_weakness};

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tickline-security-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(extra: &str) -> Config {
    let head = DEFAULT_CONFIG.split("[admin]").next().unwrap();
    Config::parse(&format!("{head}\n{extra}"), "test").unwrap_or_else(|e| panic!("{e}")).config
}

fn status(cfg: &Config, name: &str) -> Option<Status> {
    check(cfg, &|_| None).into_iter().find(|c| c.name == name).map(|c| c.status)
}

#[test]
fn the_embedded_default_has_no_finding() {
    let cfg = Config::parse(DEFAULT_CONFIG, "default").unwrap().config;
    assert!(
        check(&cfg, &|_| None).iter().all(|c| c.status == Status::Pass),
        "{:?}",
        check(&cfg, &|_| None)
    );
}

#[test]
fn admin_beyond_loopback_and_token_files() {
    let dir = scratch("admin");
    let token = dir.join("token");
    std::fs::write(&token, "k3Jx9!vQz2#Lm8Pw4@Rt6^Yb1&Hn5*Dc7(Fg0)").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let t = token.display();
    // The engine itself refuses to start beyond loopback without a token; check-config says so
    // without starting anything (validation may already reject it: then it never gets here).
    if let Ok(cfg) = Config::parse(
        &format!(
            "{}\n[admin]\nenabled = true\nbind = \"0.0.0.0:9100\"\n",
            DEFAULT_CONFIG.split("[admin]").next().unwrap()
        ),
        "t",
    ) {
        assert_eq!(status(&cfg.config, "admin.exposure"), Some(Status::Fail));
    }
    let cfg = config(&format!(
        "[admin]\nenabled = true\nbind = \"0.0.0.0:9100\"\ntoken_file = \"{t}\"\n"
    ));
    assert_eq!(status(&cfg, "admin.exposure"), Some(Status::Warn));
    assert_eq!(status(&cfg, "admin.token_file"), Some(Status::Fail), "0644 token file");
    assert_eq!(status(&cfg, "admin.token_strength"), Some(Status::Pass));
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(status(&cfg, "admin.token_file"), Some(Status::Pass));
    std::fs::write(&token, "hunter2").unwrap();
    assert_eq!(status(&cfg, "admin.token_strength"), Some(Status::Warn));
    let cfg = config(&format!(
        "[admin]\nenabled = true\nbind = \"127.0.0.1:9100\"\ntoken_file = \"{}\"\n",
        dir.join("missing").display()
    ));
    assert_eq!(status(&cfg, "admin.exposure"), Some(Status::Pass));
    assert_eq!(status(&cfg, "admin.token_file"), Some(Status::Fail));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn weak_tokens() {
    assert!(token_weakness("short").is_some());
    assert!(token_weakness(&"a".repeat(64)).unwrap().contains("distinct"));
    assert!(token_weakness("k3Jx9vQz2Lm8Pw4Rt6Yb1Hn5Dc7Fg0aBc").is_none());
}

#[test]
fn journal_directory_permissions() {
    let dir = scratch("journal");
    let j = dir.join("journal");
    std::fs::create_dir(&j).unwrap();
    let cfg = config(&format!("[journal]\nenabled = true\ndir = \"{}\"\n", j.display()));
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert_eq!(status(&cfg, "journal.permissions"), Some(Status::Fail));
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(status(&cfg, "journal.permissions"), Some(Status::Warn));
    std::fs::set_permissions(&j, std::fs::Permissions::from_mode(0o700)).unwrap();
    assert_eq!(status(&cfg, "journal.permissions"), Some(Status::Pass));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn debug_logging_is_flagged() {
    let cfg = config("[log]\nlevel = \"debug\"\n");
    assert_eq!(status(&cfg, "log.level"), Some(Status::Warn));
    assert_eq!(status(&config("[log]\nlevel = \"info\"\n"), "log.level"), None);
}

#[test]
fn production_example_is_valid_once_its_cores_exist() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../configs/production.example.toml"
    ))
    .unwrap();
    // Its cores (1-4) may not exist here: map them onto this host's cores, keeping them distinct
    // where the host has enough, to validate everything else.
    let cores = tickline_engine::runtime::available_cores();
    let mut t = text.clone();
    for (n, from) in ["core = 1\n", "core = 2\n", "core = 3\n", "core = 4\n"].iter().enumerate() {
        let to = cores.get(n % cores.len().max(1)).copied().unwrap_or(0);
        t = t.replace(from, &format!("core = {to} \n"));
    }
    // Everything but the layout validates here whatever the host: the same file with an auto
    // layout must load.
    let (head, tail) = text.split_once("[layout]").unwrap();
    let rest = tail.split_once("[journal]").unwrap().1;
    let auto = format!("{head}[layout]\nmode = \"auto\"\n\n[journal]{rest}");
    Config::parse(&auto, "production.example.toml (auto layout)").unwrap_or_else(|e| panic!("{e}"));
    match Config::parse(&t, "production.example.toml") {
        Ok(loaded) => {
            assert!(loaded.config.journal.enabled && loaded.config.admin.enabled);
            let findings = check(&loaded.config, &|_| None);
            assert!(
                findings.iter().all(|c| c.status != Status::Fail || c.name == "admin.token_file"),
                "{findings:?}"
            );
        }
        // On a host with fewer than 4 cores the mapping reuses a core for two hot threads,
        // which validation refuses by name; anything else is a real error in the example.
        Err(e) => {
            assert!(cores.len() < 4 && e.to_string().contains("already given to thread"), "{e}")
        }
    }
}
