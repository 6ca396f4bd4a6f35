//! The system calls of `isolated::net`'s nodes: namespaces of their own, process groups,
//! MAC addresses. One thin wrapper each, errors naming the call.

use std::os::fd::BorrowedFd;

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::{ChildStatus, SysError, SysResult};

/// `unshare(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS)`: a node's own network, hostname and
/// mounts; it stays in the test's PID and IPC namespaces.
pub(crate) fn unshare_node_namespaces() -> SysResult<()> {
    let flags = CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWUTS | CloneFlags::CLONE_NEWNS;
    nix::sched::unshare(flags)
        .map_err(|errno| SysError::new("unshare(CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWNS)", errno))
}

/// `setns(fd, CLONE_NEWNET)`: moves the calling thread into the network namespace `netns`.
pub(crate) fn enter_netns(netns: BorrowedFd<'_>) -> SysResult<()> {
    nix::sched::setns(netns, CloneFlags::CLONE_NEWNET)
        .map_err(|errno| SysError::new("setns(CLONE_NEWNET)", errno))
}

/// `setpgid(pid, pid)`: the process leads a group of its own, so one signal reaches everything
/// it starts. Fails harmlessly once the child has exec'd (it did the same itself by then).
pub(crate) fn lead_own_group(pid: i32) {
    let _ = nix::unistd::setpgid(Pid::from_raw(pid), Pid::from_raw(pid));
}

/// SIGKILL to the process group `pid` leads, and to `pid` itself (in case it left the group).
/// A group or process already gone is not an error.
pub(crate) fn kill_group(pid: i32) -> SysResult<()> {
    for target in [-pid, pid] {
        match nix::sys::signal::kill(Pid::from_raw(target), Signal::SIGKILL) {
            Ok(()) | Err(Errno::ESRCH) => {}
            Err(errno) => return Err(SysError::new("kill(SIGKILL)", errno)),
        }
    }
    Ok(())
}

/// `waitpid(pid)`: how the child ended; `None` if it is still running and `block` is false.
pub(crate) fn wait_pid(pid: i32, block: bool) -> SysResult<Option<ChildStatus>> {
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

/// `ioctl(SIOCSIFHWADDR)`: gives the (down) Ethernet interface `name` the address `mac`.
pub(crate) fn set_mac(name: &str, mac: [u8; 6]) -> SysResult<()> {
    // SAFETY: plain socket(2) call; the result is checked and wrapped in an OwnedFd below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(SysError::new("socket(AF_INET)", Errno::last()));
    }
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    if name.len() >= req.ifr_name.len() {
        return Err(SysError::at("ioctl(SIOCSIFHWADDR)", name, Errno::EINVAL));
    }
    for (dst, src) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *dst = src as libc::c_char;
    }
    // SAFETY: writing the hwaddr member of the request's union, which SIOCSIFHWADDR reads.
    unsafe {
        req.ifr_ifru.ifru_hwaddr.sa_family = libc::ARPHRD_ETHER;
        for (dst, src) in req.ifr_ifru.ifru_hwaddr.sa_data.iter_mut().zip(mac) {
            *dst = src as libc::c_char;
        }
    }
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);
    // SAFETY: `req` is a valid ifreq naming the interface, with the new address; read only.
    if unsafe { libc::ioctl(raw, libc::SIOCSIFHWADDR, &req) } < 0 {
        return Err(SysError::at("ioctl(SIOCSIFHWADDR)", name, Errno::last()));
    }
    Ok(())
}

/// `EEXIST: File exists`: an errno as `crate::sys` errors display it.
pub(crate) fn errno_text(raw: i32) -> String {
    Errno::from_raw(raw).to_string()
}

/// Whether `e` is "exists already".
pub(crate) fn is_eexist(e: &SysError) -> bool {
    e.errno == Errno::EEXIST
}

/// The raw errno of an I/O error, for a [`SysError`].
pub(crate) fn io_error(op: &'static str, path: &str, e: &std::io::Error) -> SysError {
    SysError::at(
        op,
        path,
        Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    )
}
