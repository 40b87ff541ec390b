//! Helpers for end-to-end tests of the real `tickline` binary: find (or build) it, run it,
//! write scratch files.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// Path of the `tickline` binary of this build profile, building it once if it is missing
/// or older than the test binary.
pub fn tickline() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/<test> → target/<profile>
        let profile_dir =
            exe.parent().and_then(Path::parent).expect("target profile dir").to_path_buf();
        let bin = profile_dir.join("tickline");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "tickline-tools", "--bin", "tickline"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build for the tickline binary");
        assert!(status.success(), "building the tickline binary failed");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
}

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A fresh scratch directory for one test, removed with everything in it when dropped,
/// unless the test is failing (then it stays for a look). Journals and captures are large:
/// left behind, a full test run would leave gigabytes in the temporary directory.
pub fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("tickline-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    Scratch(dir)
}

/// A scratch directory (see [`scratch`]); dereferences to its path.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The embedded default config's text (`configs/default.toml`).
pub fn default_config() -> String {
    std::fs::read_to_string(root().join("configs/default.toml")).expect("configs/default.toml")
}

/// A finished command's standard output, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A finished command's standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `tickline run --json` for `duration` with `args` (a journal, a config), which must not
/// panic (exit 101); the caller judges the exit status.
pub fn run_tickline(duration: &str, args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(tickline())
        .args(["run", "--json", "--duration", duration])
        .args(args)
        .output()
        .expect("running tickline");
    assert_ne!(out.status.code(), Some(101), "tickline panicked: {}", stderr(&out));
    out
}

/// The JSON summary of a run that succeeded.
pub fn summary(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "run failed: {}", stderr(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}
