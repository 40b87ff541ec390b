//! The halt switch: once tripped, no new order passes risk until an operator resumes.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Why trading is halted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum HaltCause {
    /// Not halted.
    None = 0,
    /// An operator halted trading (admin port, kill switch).
    Operator = 1,
    /// A stage panicked.
    StagePanic = 2,
    /// The engine is shutting down.
    Shutdown = 3,
    /// A risk limit halted trading automatically (loss limit, drawdown, repeated executions).
    RiskLimit = 4,
    /// The journal could not record: nothing unrecorded may reach a venue.
    Journal = 5,
}

impl HaltCause {
    fn from_u8(v: u8) -> HaltCause {
        match v {
            1 => HaltCause::Operator,
            2 => HaltCause::StagePanic,
            3 => HaltCause::Shutdown,
            4 => HaltCause::RiskLimit,
            5 => HaltCause::Journal,
            _ => HaltCause::None,
        }
    }
}

/// Shared halt state. Read on every order by risk (one relaxed load); written rarely.
#[derive(Debug, Default)]
pub struct HaltSwitch {
    halted: AtomicBool,
    cause: AtomicU8,
}

impl HaltSwitch {
    /// Not halted.
    pub const fn new() -> HaltSwitch {
        HaltSwitch { halted: AtomicBool::new(false), cause: AtomicU8::new(0) }
    }

    /// Whether trading is halted.
    #[inline]
    pub fn is_halted(&self) -> bool {
        self.halted.load(Ordering::Acquire)
    }

    /// Halts trading. The first cause sticks until [`HaltSwitch::resume`].
    pub fn trip(&self, cause: HaltCause) {
        let _ = self.cause.compare_exchange(0, cause as u8, Ordering::AcqRel, Ordering::Acquire);
        self.halted.store(true, Ordering::Release);
    }

    /// Resumes trading (operator action).
    pub fn resume(&self) {
        self.halted.store(false, Ordering::Release);
        self.cause.store(0, Ordering::Release);
    }

    /// Why trading is halted.
    pub fn cause(&self) -> HaltCause {
        if self.is_halted() {
            HaltCause::from_u8(self.cause.load(Ordering::Acquire))
        } else {
            HaltCause::None
        }
    }
}
