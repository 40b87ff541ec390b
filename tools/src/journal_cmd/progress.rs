//! A progress line on stderr for long journal operations (verify, backup, export, replay).
//!
//! Shown when stderr is a terminal (redrawn in place, at most five times a second), or when
//! forced with `--progress` (one line per update, so a log or a test can read it). Never on
//! stdout, which carries the operation's output.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Minimum time between two redraws.
const EVERY: Duration = Duration::from_millis(200);

/// One operation's progress line.
#[derive(Debug)]
pub struct Progress {
    label: &'static str,
    unit: &'static str,
    total: u64,
    mode: Mode,
    last: Option<Instant>,
    drawn: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Off,
    Terminal,
    Lines,
}

impl Progress {
    /// Progress of `label` over `total` `unit`s; `force` shows it even off a terminal.
    pub fn new(label: &'static str, unit: &'static str, total: u64, force: bool) -> Progress {
        let mode = if force {
            Mode::Lines
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Off
        };
        Progress { label, unit, total, mode, last: None, drawn: false }
    }

    /// A progress that never shows.
    pub fn hidden() -> Progress {
        Progress { label: "", unit: "", total: 0, mode: Mode::Off, last: None, drawn: false }
    }

    /// `done` units of `total` are done.
    pub fn update(&mut self, done: u64) {
        if self.mode == Mode::Off {
            return;
        }
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < EVERY) {
            return;
        }
        self.last = Some(now);
        self.draw(done);
    }

    /// Draws the final state and ends the line.
    pub fn finish(&mut self, done: u64) {
        if self.mode == Mode::Off {
            return;
        }
        self.draw(done);
        if self.mode == Mode::Terminal {
            eprintln!();
        }
    }

    fn draw(&mut self, done: u64) {
        let pct = if self.total == 0 { 100.0 } else { done as f64 * 100.0 / self.total as f64 };
        let line =
            format!("{}: {done}/{} {} ({:.0}%)", self.label, self.total, self.unit, pct.min(100.0));
        let mut err = std::io::stderr().lock();
        let _ = match self.mode {
            Mode::Terminal => write!(err, "\r\x1b[2K{line}"),
            Mode::Lines => writeln!(err, "{line}"),
            Mode::Off => Ok(()),
        };
        let _ = err.flush();
        self.drawn = true;
    }
}
