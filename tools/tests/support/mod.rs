//! Set-up shared by the tools' integration tests.

use std::path::PathBuf;

use tickline_tools::config::{Config, Loaded};

/// The embedded default config, journaling into a fresh directory named for `name` and this
/// process, in 4 MiB segments without pretouch (quick to open and to roll).
pub fn journaled_default(name: &str) -> (Loaded, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tickline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut loaded = Config::load(None).unwrap();
    loaded.config.journal.enabled = true;
    loaded.config.journal.dir = dir.clone();
    loaded.config.journal.segment_size = 4 << 20;
    loaded.config.journal.pretouch = false;
    (loaded, dir)
}
