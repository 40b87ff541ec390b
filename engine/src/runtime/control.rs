//! Operator control: commands reach the strategy thread over a bounded channel and are
//! applied between events, so no hot-path structure is ever shared behind a lock.
//!
//! The admin port, SIGHUP reload and tests hold a [`ControlHandle`]; the strategy thread
//! drains the channel when idle and every [`CONTROL_EVERY`] busy iterations, applies each
//! command, journals it (a [`crate::record::RecordKind::Control`] record) and replies.

use std::time::Duration;

use crossbeam_channel::{Receiver, Sender, TrySendError};
use rust_decimal::Decimal;

/// Busy loop iterations between two checks of the control channel.
pub const CONTROL_EVERY: u32 = 1_024;
/// Commands waiting to be applied, at most.
pub const CONTROL_QUEUE: usize = 256;

/// An operator command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Stop new orders (cancels still pass).
    Halt,
    /// Allow new orders again.
    Resume,
    /// Cancel every open order (through risk, journaled, in any layout).
    CancelAll,
    /// Enable or disable a strategy by name.
    EnableStrategy {
        /// Strategy name.
        strategy: String,
        /// Enabled after the command.
        enabled: bool,
    },
    /// Set a strategy parameter.
    SetStrategyParam {
        /// Strategy name.
        strategy: String,
        /// Parameter name.
        name: String,
        /// New value.
        value: Decimal,
    },
    /// Set a risk limit.
    SetRiskLimit {
        /// Limit name.
        name: String,
        /// Instrument symbol for per-instrument limits.
        instrument: Option<String>,
        /// New value.
        value: Decimal,
    },
}

impl Command {
    /// Stable code, as journaled.
    pub const fn code(&self) -> u8 {
        match self {
            Command::Halt => 1,
            Command::Resume => 2,
            Command::CancelAll => 3,
            Command::EnableStrategy { .. } => 4,
            Command::SetStrategyParam { .. } => 5,
            Command::SetRiskLimit { .. } => 6,
        }
    }

    /// Short description for the journal and logs.
    pub fn describe(&self) -> String {
        match self {
            Command::Halt => "halt".into(),
            Command::Resume => "resume".into(),
            Command::CancelAll => "cancel-all".into(),
            Command::EnableStrategy { strategy, enabled } => {
                format!("{} {strategy}", if *enabled { "enable" } else { "disable" })
            }
            Command::SetStrategyParam { strategy, name, value } => {
                format!("param {strategy}.{name}={value}")
            }
            Command::SetRiskLimit { name, instrument, value } => match instrument {
                Some(i) => format!("limit {name}[{i}]={value}"),
                None => format!("limit {name}={value}"),
            },
        }
    }
}

/// What applying a command did: `Ok` with a note, or `Err` with why it was refused.
pub type ControlReply = Result<String, String>;

/// A command in flight, with who sent it and where to answer.
#[derive(Debug)]
pub struct ControlRequest {
    /// The command.
    pub command: Command,
    /// Who sent it (`admin 127.0.0.1:51234`, `sighup`), journaled with it.
    pub origin: String,
    /// Where the strategy thread answers.
    pub reply: Option<Sender<ControlReply>>,
}

/// Why a command could not be delivered or answered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// The control queue is full: the strategy thread is not draining it.
    #[error("control queue full ({CONTROL_QUEUE} commands waiting)")]
    Busy,
    /// The pipeline has stopped.
    #[error("pipeline is not running")]
    Stopped,
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The engine refused the command.
    #[error("{0}")]
    Refused(String),
}

/// A cloneable handle that sends commands to a running pipeline.
#[derive(Clone, Debug)]
pub struct ControlHandle {
    tx: Sender<ControlRequest>,
}

/// Creates the control channel.
pub(crate) fn channel() -> (ControlHandle, Receiver<ControlRequest>) {
    let (tx, rx) = crossbeam_channel::bounded(CONTROL_QUEUE);
    (ControlHandle { tx }, rx)
}

impl ControlHandle {
    /// Sends `command` and waits up to `timeout` for the engine's answer.
    pub fn call(
        &self,
        command: Command,
        origin: &str,
        timeout: Duration,
    ) -> Result<String, ControlError> {
        let (reply_tx, reply_rx) = crossbeam_channel::bounded(1);
        let req = ControlRequest { command, origin: origin.to_owned(), reply: Some(reply_tx) };
        self.tx.try_send(req).map_err(|e| match e {
            TrySendError::Full(_) => ControlError::Busy,
            TrySendError::Disconnected(_) => ControlError::Stopped,
        })?;
        match reply_rx.recv_timeout(timeout) {
            Ok(Ok(note)) => Ok(note),
            Ok(Err(why)) => Err(ControlError::Refused(why)),
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                Err(ControlError::Timeout(timeout))
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => Err(ControlError::Stopped),
        }
    }
}
