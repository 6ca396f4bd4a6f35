use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::error::{Context, SysResult};

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChildStatus {
    Exited(i32),
    Signaled(i32),
}

/// Which side of a fork we are on.
pub(crate) enum Forked {
    Parent(i32),
    Child,
}

/// `fork()`.
///
/// # Safety
/// The caller must be single-threaded, or the child must only call async-signal-safe functions
/// before it execs or exits (see fork(2)).
pub(crate) unsafe fn fork() -> SysResult<Forked> {
    // SAFETY: the caller upholds fork's contract, as documented above.
    match unsafe { nix::unistd::fork() }.op("fork")? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child.as_raw())),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Waits for any child; `None` when there are no children left.
pub(crate) fn wait_any() -> SysResult<Option<(i32, ChildStatus)>> {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::__WALL)) {
            Ok(status) => {
                if let Some(done) = decode(status) {
                    return Ok(Some(done));
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::ECHILD) => return Ok(None),
            Err(errno) => return Err(super::SysError::new("waitpid", errno)),
        }
    }
}

/// Reaps one child that has ended, without waiting: `None` when none has (or there are none).
pub(crate) fn reap_one() -> Option<(i32, ChildStatus)> {
    loop {
        match waitpid(
            Pid::from_raw(-1),
            Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG),
        ) {
            Ok(WaitStatus::StillAlive) | Err(_) => return None,
            Ok(status) => {
                if let Some(done) = decode(status) {
                    return Some(done);
                }
            }
        }
    }
}

/// This process's effective user id.
pub(crate) fn geteuid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// SIGKILL to process `pid` (gone already is fine).
pub(crate) fn kill_pid(pid: i32) {
    let _ = nix::sys::signal::kill(Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
}

/// The process's name in `ps` and `/proc/PID/comm`: the last component of `path`, cut to the
/// kernel's 15 bytes.
pub(crate) fn set_process_name(path: &std::ffi::OsStr) {
    use std::os::unix::ffi::OsStrExt;
    let name = std::path::Path::new(path)
        .file_name()
        .map_or(&b"isolated"[..], |n| n.as_bytes());
    let mut buf = [0u8; 16];
    let len = name.len().min(15);
    buf[..len].copy_from_slice(&name[..len]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes from `buf`.
    unsafe { libc::prctl(libc::PR_SET_NAME, buf.as_ptr(), 0, 0, 0) };
}

/// No longer killed when the parent (thread) dies: `prctl(PR_SET_PDEATHSIG, 0)`.
pub(crate) fn outlive_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG, 0) takes no pointer.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0) };
}

fn decode(status: WaitStatus) -> Option<(i32, ChildStatus)> {
    match status {
        WaitStatus::Exited(pid, code) => Some((pid.as_raw(), ChildStatus::Exited(code))),
        WaitStatus::Signaled(pid, sig, _) => {
            Some((pid.as_raw(), ChildStatus::Signaled(sig as i32)))
        }
        _ => None,
    }
}

/// `sethostname(name)` in the current UTS namespace.
pub(crate) fn sethostname(name: &str) -> SysResult<()> {
    nix::unistd::sethostname(name).op("sethostname")
}

/// Whether the effective user is root.
pub(crate) fn geteuid_is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// `_exit(code)`: ends the process without running destructors or atexit handlers.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is always safe to call; it never returns.
    unsafe { libc::_exit(code) }
}

/// The conventional name of a signal number (`SIGABRT`), or `signal N` if unknown.
pub(crate) fn signal_name(signal: i32) -> String {
    match Signal::try_from(signal) {
        Ok(sig) => sig.as_str().to_string(),
        Err(_) => format!("signal {signal}"),
    }
}

/// Unblocks every signal: the runner keeps them all blocked across the exec into a test.
pub(crate) fn unblock_all_signals() {
    let _ = nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&nix::sys::signal::SigSet::empty()),
        None,
    );
}

/// `setsid()`: a new session without a controlling terminal, so a test cannot reach the
/// terminal the runner was started from.
pub(crate) fn setsid() -> SysResult<()> {
    nix::unistd::setsid().op("setsid").map(drop)
}

/// Whether the process has CAP_SYS_ADMIN in its effective set (read from /proc/self/status).
pub(crate) fn has_cap_sys_admin() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return true; // cannot tell: let the attempt speak for itself
    };
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_none_or(|caps| caps & (1 << CAP_SYS_ADMIN) != 0)
}
