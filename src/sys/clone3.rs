//! `clone3(CLONE_PARENT | CLONE_PIDFD | CLONE_NEW*)`: a fork of the calling process into new
//! namespaces whose parent is the caller's own parent, so that process, not the caller,
//! waits for it.

use std::os::fd::{FromRawFd, OwnedFd};

use super::error::{Errno, SysError, SysResult};
use super::spawn::Namespaces;

/// The kernel's `struct clone_args` (`CLONE_ARGS_SIZE_VER0`: the fields up to `tls`).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
}

/// Which side of [`clone_sibling`] this is.
#[derive(Debug)]
pub(crate) enum Sibling {
    /// The new process: a copy of the caller, in the new namespaces.
    Child,
    /// The caller: the new process's pid and a pidfd for it.
    Caller { pid: libc::pid_t, pidfd: OwnedFd },
}

/// Forks the calling process into `namespaces`, as a child of the caller's parent.
///
/// # Safety
/// Like `fork()`, and more so: the caller must be single-threaded, and the child must not rely
/// on the C library's cached thread id (glibc's `raise` and `abort` ask the kernel; a
/// `pthread_kill` of another thread would not). The child returns on the caller's stack.
pub(crate) unsafe fn clone_sibling(namespaces: Namespaces) -> SysResult<Sibling> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: (namespaces.bits() | libc::CLONE_PARENT | libc::CLONE_PIDFD) as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        ..CloneArgs::default()
    };
    // SAFETY: `args` is a valid clone_args of the size passed; with no stack given the child
    // continues on a copy of this one, like after fork(); the caller vouches for the rest.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    match rc {
        -1 => Err(SysError::new(
            "clone3(CLONE_PARENT|CLONE_PIDFD|CLONE_NEW…)",
            Errno::last(),
        )),
        0 => Ok(Sibling::Child),
        pid => Ok(Sibling::Caller {
            pid: pid as libc::pid_t,
            // SAFETY: with CLONE_PIDFD the kernel stored a new pidfd that nothing else owns.
            pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) },
        }),
    }
}
