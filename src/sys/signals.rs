//! Signals as a descriptor, for loops that `poll` on children and sockets at once.

use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use super::error::{Context, SysResult};

/// Pending signals, readable from a descriptor; they are blocked in the thread that made it.
pub(crate) struct Signals(SignalFd);

/// Blocks `signals` in this thread and makes a descriptor they arrive at instead.
pub(crate) fn signal_fd(signals: &[Signal]) -> SysResult<Signals> {
    let mut mask = SigSet::empty();
    for &signal in signals {
        mask.add(signal);
    }
    mask.thread_block().op("pthread_sigmask(SIG_BLOCK)")?;
    SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .map(Signals)
        .op("signalfd")
}

impl Signals {
    /// The signals that arrived since the last call.
    pub(crate) fn drain(&mut self) -> Vec<i32> {
        let mut arrived = Vec::new();
        while let Ok(Some(info)) = self.0.read_signal() {
            arrived.push(info.ssi_signo as i32);
        }
        arrived
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
