//! PID 1 of an environment that may be kept: it reaps as always, and once the body has ended
//! it waits for the runner's word on the control socket instead of exiting.
//!
//! - `end`: PID 1 exits, and the kernel takes the environment down, as after any test.
//! - `keep:SECONDS` (with the output pipe's read end, a log file and, for `net = "veth"`, the
//!   link's lease attached): PID 1 stops dying with the runner's thread, answers with the
//!   environment's [`Snapshot`], and stays: it copies what the environment's processes print
//!   into the log, and leaves when the runner's end of the socket closes (the run is over),
//!   or, with `SECONDS`, that long after.
//!
//! The words may come while the body still runs (the runner keeps a test that timed out).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::kept::Snapshot;
use crate::report::{Ended, Message};
use crate::sys::{self, Signal};

/// The runner's word to stay: `keep:SECONDS:RELAYED` (see [`heed`]).
pub(crate) const KEEP: &[u8] = b"keep:";
/// The runner's word to go (any word but [`KEEP`] means it).
pub(crate) const END: &[u8] = b"end";

/// Where a kept environment's output goes: the pipe its processes write to, and the log.
struct Relay {
    from: File,
    to: File,
}

/// Reaps until told to go; never returns.
pub(super) fn supervise(body: i32, mut report: File, control: OwnedFd, snapshot: Snapshot) -> ! {
    // SIGCHLD through a descriptor, so one `poll` waits for children and the runner alike.
    let mut signals = match sys::signal_fd(&[Signal::SIGCHLD]) {
        Ok(signals) => signals,
        Err(e) => fail(&mut report, &e.to_string()),
    };
    let mut body = Some(body);
    let mut control = Some(control);
    let mut relay: Option<Relay> = None;
    // What the kept environment holds on to for as long as it lives: the veth link's lease,
    // held by keeping its descriptor open.
    let mut _held: Vec<OwnedFd> = Vec::new();
    let mut deadline: Option<Instant> = None;
    loop {
        reap(&mut body, &mut report);
        if deadline.is_some_and(|at| Instant::now() >= at) {
            sys::exit_now(0)
        }
        let wait = deadline.map_or(Duration::from_secs(3600), |at| {
            at.saturating_duration_since(Instant::now())
        });
        let ready = {
            let mut fds: Vec<BorrowedFd<'_>> = vec![signals.as_fd()];
            fds.extend(control.as_ref().map(|c| c.as_fd()));
            fds.extend(relay.as_ref().map(|r| r.from.as_fd()));
            sys::poll_readable(&fds, wait).unwrap_or_default()
        };
        let ready = |i: usize| ready.get(i).copied().unwrap_or(false);
        if ready(0) {
            signals.drain();
        }
        if let (Some(socket), true) = (&control, ready(1)) {
            let mut word = [0u8; 64];
            match sys::recv_with_fds(socket.as_fd(), &mut word) {
                Ok(Some((len, fds))) => match heed(&word[..len], fds, socket, &snapshot) {
                    Some((kept_for, kept_relay, kept_held)) => {
                        deadline = kept_for.map(|d| Instant::now() + d);
                        relay = kept_relay;
                        _held = kept_held;
                    }
                    None => sys::exit_now(0),
                },
                // The runner is gone (its run is over, or it was killed): the environment goes
                // too, unless it was kept for a while longer.
                Ok(None) | Err(_) => {
                    if deadline.is_none() {
                        sys::exit_now(0)
                    }
                    control = None;
                }
            }
        }
        let relay_at = 1 + usize::from(control.is_some());
        if let (Some(r), true) = (&mut relay, ready(relay_at)) {
            if !copy(r) {
                relay = None;
            }
        }
    }
}

/// Acts on the runner's word: `None` to go; else how long to stay after the run (`None`: not
/// at all), where the output goes, and what to hold on to.
#[allow(clippy::type_complexity)]
fn heed(
    word: &[u8],
    fds: Vec<OwnedFd>,
    socket: &OwnedFd,
    snapshot: &Snapshot,
) -> Option<(Option<Duration>, Option<Relay>, Vec<OwnedFd>)> {
    // `keep:SECONDS:RELAYED`: RELAYED descriptors (the output pipe, the log) come first.
    let rest = word.strip_prefix(KEEP)?;
    let rest = std::str::from_utf8(rest).ok()?;
    let (seconds, relayed) = rest.split_once(':')?;
    let seconds: u64 = seconds.parse().ok()?;
    let relayed: usize = relayed.parse().ok()?;
    // No longer bound to the runner's thread (which may end before the run does): the socket
    // says when the run is over.
    sys::outlive_parent();
    let mut fds = fds.into_iter();
    let relay = match relayed {
        2 => match (fds.next(), fds.next()) {
            (Some(from), Some(to)) => Some(Relay {
                from: File::from(from),
                to: File::from(to),
            }),
            _ => None,
        },
        _ => None,
    };
    let _ = sys::send_with_fds(socket.as_fd(), &answer(snapshot), &[]);
    let kept_for = (seconds > 0).then(|| Duration::from_secs(seconds));
    Some((kept_for, relay, fds.collect()))
}

/// What the runner records: `CWD \0 VAR=value \0 ... \0\0 DESCRIPTION`, the working
/// directory and environment the body started with (this process's own), and the snapshot.
fn answer(snapshot: &Snapshot) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    let mut answer = std::env::current_dir()
        .unwrap_or_default()
        .as_os_str()
        .as_bytes()
        .to_vec();
    for (key, value) in std::env::vars_os() {
        answer.push(0);
        answer.extend_from_slice(key.as_bytes());
        answer.push(b'=');
        answer.extend_from_slice(value.as_bytes());
    }
    answer.extend_from_slice(b"\0\0");
    answer.extend_from_slice(snapshot.describe().as_bytes());
    answer
}

/// Copies what is in the pipe to the log; false once the pipe is at its end.
fn copy(relay: &mut Relay) -> bool {
    let mut buf = [0u8; 16 * 1024];
    match relay.from.read(&mut buf) {
        Ok(0) => false,
        Ok(n) => {
            let _ = relay.to.write_all(&buf[..n]);
            true
        }
        Err(e) => {
            e.kind() == std::io::ErrorKind::WouldBlock
                || e.kind() == std::io::ErrorKind::Interrupted
        }
    }
}

/// Reaps every child that has ended; when the body is among them, reports how it ended.
fn reap(body: &mut Option<i32>, report: &mut File) {
    while let Some((pid, status)) = sys::reap_one() {
        if *body == Some(pid) {
            *body = None;
            let ended = match status {
                sys::ChildStatus::Exited(code) => Ended::Exited(code),
                sys::ChildStatus::Signaled(sig) => Ended::Signaled(sig),
            };
            let _ = Message::BodyEnded(ended).send(report);
        }
    }
}

fn fail(report: &mut File, error: &str) -> ! {
    let message = Message::SetupFailed {
        step: "wait for the test body".to_string(),
        error: error.to_string(),
    };
    let _ = message.send(report);
    sys::exit_now(1)
}
