//! Waiting for a test environment: draining its output and report while it runs, killing it
//! at the deadline.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::report::Message;
use crate::sys::{self, Child, ChildStatus, SysResult};

/// Output past this is dropped (and said so), so a chatty test cannot exhaust the runner.
const OUTPUT_LIMIT: usize = 32 * 1024 * 1024;
/// How long to keep reading after the environment is gone. Its processes are all dead by then;
/// this only bounds the wait for a writer that somehow lives outside it.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// Everything a finished test environment left behind.
#[derive(Debug)]
pub(super) struct Finished {
    /// How PID 1 of the environment ended; `None`: it has not (a kept environment).
    pub init: Option<ChildStatus>,
    pub messages: Result<Vec<Message>, String>,
    /// The body's stdout and stderr, interleaved as written (empty with --nocapture).
    pub output: Vec<u8>,
    pub timed_out: Option<Duration>,
}

/// How long to wait for an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Until {
    /// Until PID 1 has exited, killing it at the deadline: every test.
    Exit,
    /// Until the body has ended (or the deadline, killing nothing): a test whose environment
    /// may be kept, whose PID 1 stays until told (see `child/keeper.rs`).
    BodyEnded,
}

/// What waiting came to.
#[derive(Debug)]
pub(super) enum Collected {
    /// The environment is gone.
    Ended(Finished),
    /// [`Until::BodyEnded`]: the body ended (or the deadline passed), the environment stays.
    Paused(Paused),
}

/// An environment whose body has ended (or ran out of time) and whose PID 1 waits.
#[derive(Debug)]
pub(super) struct Paused {
    child: Child,
    report: Pipe,
    output: Option<Pipe>,
    timed_out: Option<Duration>,
}

impl Paused {
    /// What it left so far, to judge it by.
    pub(super) fn so_far(&self) -> Finished {
        Finished {
            init: None,
            messages: Message::decode_all(&self.report.data).map_err(|e| e.to_string()),
            output: self.output.as_ref().map(Pipe::text).unwrap_or_default(),
            timed_out: self.timed_out,
        }
    }

    /// PID 1, to be told to stay or go.
    pub(super) fn child(&self) -> &Child {
        &self.child
    }

    /// The output pipe's read end (`None` under `--nocapture`).
    pub(super) fn output_pipe(&self) -> Option<BorrowedFd<'_>> {
        self.output.as_ref().map(|pipe| pipe.file.as_fd())
    }

    /// Once PID 1 was told to go: waits for it, then drains the pipes as [`collect`] does.
    pub(super) fn finish(self) -> SysResult<Finished> {
        let Paused {
            child,
            report,
            output,
            timed_out,
        } = self;
        ended(child, report, output, timed_out)
    }

    /// For keeping: PID 1 (the pipes close here; PID 1 has the output's now).
    pub(super) fn into_child(self) -> Child {
        self.child
    }
}

/// Waits for `child` (see [`Until`]), reading its pipes meanwhile; with [`Until::Exit`], kills
/// it after `timeout`.
pub(super) fn collect(
    child: Child,
    report: OwnedFd,
    output: Option<OwnedFd>,
    timeout: Duration,
    kill_all: impl FnOnce(),
    until: Until,
) -> SysResult<Collected> {
    let deadline = Instant::now() + timeout;
    let mut report = Pipe::new(report)?;
    let mut output = output.map(Pipe::new).transpose()?;
    let mut timed_out = None;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            timed_out = Some(timeout);
            if until == Until::BodyEnded {
                return Ok(Collected::Paused(Paused {
                    child,
                    report,
                    output,
                    timed_out,
                }));
            }
            // PID 1 dies, and with it every process of the test's PID namespace.
            child.kill()?;
            // And through the test's cgroup: frozen first, a fork bomb dies at once.
            kill_all();
            break;
        }
        if wait_for_activity(&child, &mut report, output.as_mut(), remaining)? {
            break;
        }
        if until == Until::BodyEnded && body_ended(&report.data) {
            return Ok(Collected::Paused(Paused {
                child,
                report,
                output,
                timed_out,
            }));
        }
    }
    ended(child, report, output, timed_out).map(Collected::Ended)
}

/// Whether the report so far says the body has ended.
fn body_ended(report: &[u8]) -> bool {
    Message::decode_all(report)
        .is_ok_and(|messages| messages.iter().any(|m| matches!(m, Message::BodyEnded(_))))
}

/// Reaps PID 1 and drains the pipes: every process of the environment is gone now, so they
/// reach EOF promptly.
fn ended(
    mut child: Child,
    mut report: Pipe,
    mut output: Option<Pipe>,
    timed_out: Option<Duration>,
) -> SysResult<Finished> {
    let init = child.wait()?;
    let drained_by = Instant::now() + DRAIN_LIMIT;
    report.drain(drained_by)?;
    if let Some(output) = output.as_mut() {
        output.drain(drained_by)?;
    }
    Ok(Finished {
        init: Some(init),
        messages: Message::decode_all(&report.data).map_err(|e| e.to_string()),
        output: output.map(|o| o.text()).unwrap_or_default(),
        timed_out,
    })
}

/// Polls the pidfd and the open pipes; returns true once the child has exited.
fn wait_for_activity(
    child: &Child,
    report: &mut Pipe,
    output: Option<&mut Pipe>,
    remaining: Duration,
) -> SysResult<bool> {
    let mut fds: Vec<BorrowedFd<'_>> = vec![child.pidfd()];
    fds.extend(report.poll_fd());
    fds.extend(output.as_ref().and_then(|o| o.poll_fd()));
    let ready = sys::poll_readable(&fds, remaining)?;
    report.read_available();
    if let Some(output) = output {
        output.read_available();
    }
    Ok(ready[0])
}

/// One pipe's read end and what came through it.
#[derive(Debug)]
struct Pipe {
    file: File,
    data: Vec<u8>,
    eof: bool,
    dropped: usize,
}

impl Pipe {
    fn new(fd: OwnedFd) -> SysResult<Pipe> {
        sys::set_nonblocking(&fd, true)?;
        Ok(Pipe {
            file: File::from(fd),
            data: Vec::new(),
            eof: false,
            dropped: 0,
        })
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        (!self.eof).then(|| self.file.as_fd())
    }

    /// Reads what is there now, without blocking.
    fn read_available(&mut self) {
        let mut buf = [0u8; 64 * 1024];
        while !self.eof {
            match self.file.read(&mut buf) {
                Ok(0) => self.eof = true,
                Ok(n) => self.keep(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
    }

    /// Reads to EOF, or until `deadline`; called once the environment is gone.
    fn drain(&mut self, deadline: Instant) -> SysResult<()> {
        loop {
            self.read_available();
            let remaining = deadline.saturating_duration_since(Instant::now());
            if self.eof || remaining.is_zero() {
                return Ok(());
            }
            sys::poll_readable(&[self.file.as_fd()], remaining)?;
        }
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = OUTPUT_LIMIT.saturating_sub(self.data.len());
        self.data.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.dropped += bytes.len().saturating_sub(room);
    }

    fn text(&self) -> Vec<u8> {
        let mut data = self.data.clone();
        if self.dropped > 0 {
            let note = format!(
                "\n[isolated: {} more bytes of output dropped]\n",
                self.dropped
            );
            data.extend_from_slice(note.as_bytes());
        }
        data
    }
}
