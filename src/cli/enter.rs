//! `isolated enter ID [-- CMD...]`: a shell (or CMD) in a kept environment, in the test's
//! namespaces, root, working directory and environment, and its cgroup; on a terminal, through
//! a pseudo-terminal of the environment's own (the user's terminal is never handed in).

use std::io::{IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::kept::Record;
use crate::sys::{self, Signal};

/// Runs `command` (a shell if empty) in `record`'s environment and returns its exit code; with
/// `limit`, the command is killed after it.
pub(crate) fn enter(
    record: &Record,
    command: &[String],
    limit: Option<Duration>,
) -> Result<i32, String> {
    if !record.alive() {
        return Err(format!(
            "the environment of `{}` ({}) has ended",
            record.test,
            record.id()
        ));
    }
    let namespaces = sys::ProcessNamespaces::of(record.pid).map_err(|e| failed(record, e))?;
    // Into the test's cgroups first, from the host's namespaces: limited as the test was,
    // and ended with it.
    for dir in &record.cgroups {
        let _ = std::fs::write(dir.join("test/cgroup.procs"), "0");
    }
    namespaces.join().map_err(|e| failed(record, e))?;
    let program = match command.first() {
        Some(_) => command.to_vec(),
        None => vec![shell()],
    };
    let mut process = Command::new(&program[0]);
    process
        .args(&program[1..])
        .env_clear()
        .envs(record.environ.iter().filter_map(|v| v.split_once('=')))
        .current_dir(&record.cwd);
    let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    let status = match interactive {
        true => in_a_terminal(process, limit),
        false => process
            .spawn()
            .map_err(|e| e.to_string())
            .and_then(|child| wait(child, limit)),
    };
    let status =
        status.map_err(|e| format!("failed to run `{}` in the environment: {e}", program[0]))?;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

fn failed(record: &Record, e: sys::SysError) -> String {
    format!(
        "failed to enter the environment of `{}` ({}): {e}",
        record.test,
        record.id()
    )
}

/// The environment's bash if it has one, else its `sh` (busybox's, in Alpine).
fn shell() -> String {
    match std::path::Path::new("/bin/bash").exists() {
        true => "/bin/bash".to_string(),
        false => "/bin/sh".to_string(),
    }
}

/// Waits for `child`, killing it after `limit`.
fn wait(mut child: Child, limit: Option<Duration>) -> Result<ExitStatus, String> {
    let Some(limit) = limit else {
        return child.wait().map_err(|e| e.to_string());
    };
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            return child.wait().map_err(|e| e.to_string());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `process` on a new pseudo-terminal of the environment, relaying the user's terminal
/// (in raw mode meanwhile) to it and back, window size included.
fn in_a_terminal(mut process: Command, limit: Option<Duration>) -> Result<ExitStatus, String> {
    let pty = sys::open_pty().map_err(|e| e.to_string())?;
    let stdin = std::io::stdin();
    sys::copy_window_size(stdin.as_fd(), pty.master.as_fd());
    let slave = |pty: &sys::Pty| pty.slave.try_clone().map(Stdio::from);
    process
        .stdin(slave(&pty).map_err(|e| e.to_string())?)
        .stdout(slave(&pty).map_err(|e| e.to_string())?)
        .stderr(slave(&pty).map_err(|e| e.to_string())?);
    // SAFETY: between fork and exec the child only makes system calls (setsid, ioctl).
    unsafe {
        process.pre_exec(|| {
            sys::setsid().map_err(|e| std::io::Error::from_raw_os_error(e.errno as i32))?;
            sys::make_controlling(std::io::stdin())
        });
    }
    let child = process.spawn().map_err(|e| e.to_string())?;
    drop(pty.slave);
    relay(OwnedFd::from(pty.master), child, limit)
}

/// Copies between the user's terminal and the pseudo-terminal until the command has ended.
fn relay(master: OwnedFd, mut child: Child, limit: Option<Duration>) -> Result<ExitStatus, String> {
    let stdin = std::io::stdin();
    let _raw = sys::raw_mode(stdin.as_fd()).map_err(|e| e.to_string())?;
    let mut signals =
        sys::signal_fd(&[Signal::SIGWINCH, Signal::SIGCHLD]).map_err(|e| e.to_string())?;
    let mut master = std::fs::File::from(master);
    let mut out = std::io::stdout();
    let deadline = limit.map(|l| Instant::now() + l);
    let mut typing = true;
    let mut buf = [0u8; 16 * 1024];
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
        }
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            // What it printed last, then its status.
            while sys::poll_readable(&[master.as_fd()], Duration::from_millis(10))
                .is_ok_and(|r| r[0])
            {
                match master.read(&mut buf) {
                    Ok(n) if n > 0 => {
                        let _ = out.write_all(&buf[..n]);
                    }
                    _ => break,
                }
            }
            let _ = out.flush();
            return Ok(status);
        }
        let ready = {
            let mut fds = vec![signals.as_fd(), master.as_fd()];
            if typing {
                fds.push(stdin.as_fd());
            }
            sys::poll_readable(&fds, Duration::from_millis(200)).map_err(|e| e.to_string())?
        };
        if ready[0] && signals.drain().contains(&(Signal::SIGWINCH as i32)) {
            sys::copy_window_size(stdin.as_fd(), master.as_fd());
        }
        if ready[1] {
            match master.read(&mut buf) {
                Ok(n) if n > 0 => {
                    out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
                    out.flush().map_err(|e| e.to_string())?;
                }
                // EIO: every process of the terminal has closed it; the loop reaps the command.
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        if typing && ready.get(2) == Some(&true) {
            match stdin.lock().read(&mut buf) {
                Ok(n) if n > 0 => master.write_all(&buf[..n]).map_err(|e| e.to_string())?,
                _ => typing = false,
            }
        }
    }
}
