//! The few system calls nodes need that `crate::sys` does not wrap (yet): one thin wrapper
//! each, errors naming the call, like `crate::sys`. They belong in `src/sys/` and should move
//! there; they live here only because this module is the only one that needs them.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::sys::{ChildStatus, SysError, SysResult};

/// `unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS)`: a node's own network, hostname and
/// mounts; it stays in the test's PID and IPC namespaces.
pub(super) fn unshare_node_namespaces() -> SysResult<()> {
    let flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNS;
    nix::sched::unshare(flags)
        .map_err(|errno| SysError::new("unshare(CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWNS)", errno))
}

/// `setns(fd, CLONE_NEWNET)`: moves the calling thread into the network namespace `netns`.
pub(super) fn enter_netns(netns: BorrowedFd<'_>) -> SysResult<()> {
    nix::sched::setns(netns, CloneFlags::CLONE_NEWNET)
        .map_err(|errno| SysError::new("setns(CLONE_NEWNET)", errno))
}

/// `setpgid(pid, pid)`: the process leads a group of its own, so one signal reaches everything
/// it starts. Fails harmlessly once the child has exec'd (it did the same itself by then).
pub(super) fn lead_own_group(pid: i32) {
    let _ = nix::unistd::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
}

/// SIGKILL to the process group `pid` leads, and to `pid` itself (in case it left the group).
/// A group or process already gone is not an error.
pub(super) fn kill_group(pid: i32) -> SysResult<()> {
    for target in [-pid, pid] {
        match nix::sys::signal::kill(Pid::from_raw(target), Signal::SIGKILL) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(errno) => return Err(SysError::new("kill(SIGKILL)", errno)),
        }
    }
    Ok(())
}

/// `waitpid(pid)`: how the child ended; `None` if it is still running and `block` is false.
pub(super) fn wait_pid(pid: i32, block: bool) -> SysResult<Option<ChildStatus>> {
    let flags = if block {
        WaitPidFlag::__WALL
    } else {
        WaitPidFlag::__WALL | WaitPidFlag::WNOHANG
    };
    loop {
        match waitpid(Pid::from_raw(pid), Some(flags)) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(Some(ChildStatus::Exited(code))),
            Ok(WaitStatus::Signaled(_, sig, _)) => {
                return Ok(Some(ChildStatus::Signaled(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) => return Ok(None),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(errno) => return Err(SysError::new("waitpid", errno)),
        }
    }
}

/// `EEXIST: File exists`: an errno as `crate::sys` errors display it.
pub(super) fn errno_text(raw: i32) -> String {
    Errno::from_raw(raw).to_string()
}

/// Whether `e` is "exists already".
pub(super) fn is_eexist(e: &SysError) -> bool {
    e.errno == Errno::EEXIST
}

/// The raw errno of an I/O error, for a [`SysError`].
pub(super) fn io_error(op: &'static str, path: &str, e: &std::io::Error) -> SysError {
    SysError::at(op, path, Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))
}
