//! The namespaces a test runs in, made by its PID 1 once the sandbox is built.
//!
//! Made after the mounts, so that:
//! - the test's user namespace owns a fresh copy of the mount namespace, and the kernel locks
//!   every mount copied into it: the test cannot unmount what the harness mounted (to see what
//!   lies below) nor clear a read-only flag the harness set;
//! - the same user namespace owns the new network, UTS, IPC and cgroup namespaces, so the
//!   test's capabilities administer those (its links, firewall, `/proc/sys/net`, hostname)
//!   and nothing of the host's.
//!
//! The network namespace comes first, with its user namespace, from a short-lived helper
//! process ([`UserAndNetwork`]): PID 1 joins the network namespace while it still holds the
//! host's mount namespace and mounts its `/sys` there, so that this `/sys` is locked like the
//! rest. `ip netns exec` (and `ip -n`) unmounts `/sys` to mount one for the namespace it
//! enters, read-write; a locked `/sys` makes it fall back to a read-only one, which the
//! kernel allows. A writable sysfs is not allowed: root inside is the host's root to its
//! files (`/sys/kernel/mm`, `/sys/module/*/parameters`).
use std::ffi::c_int;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};

use super::error::{Errno, SysError, SysResult};

/// Which namespaces PID 1 makes for the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TestNamespaces {
    /// A network namespace of its own (every `net` but `"host"`).
    pub own_network: bool,
    /// A user namespace (and with it a fresh, locked copy of the mount namespace): every test
    /// but a `privileged` one.
    pub confined: bool,
}

/// Whether this process's user namespace maps a single id: the one a rootless runner made
/// for PID 1. The test's user namespace inside it can then map only that id, root, which PID
/// 1 maps itself (the runner, outside the namespace above, may not).
pub(crate) fn in_rootless_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|map| {
        let mut lines = map.lines();
        let single = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(2))
            .is_some_and(|count| count == "1");
        single && lines.next().is_none()
    })
}

impl TestNamespaces {
    fn flags(self) -> c_int {
        let mut flags = libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWCGROUP;
        if self.own_network {
            flags |= libc::CLONE_NEWNET;
        }
        if self.confined {
            flags |= libc::CLONE_NEWUSER | libc::CLONE_NEWNS;
        }
        flags
    }

    /// Makes the user and network namespaces ahead (for a confined test with its own network):
    /// call it before anything else in PID 1, so the helper that makes them is gone before the
    /// test's body is forked. See [`Prepared::join_network`] for `map_self`.
    pub(crate) fn prepare(self, map_self: bool) -> SysResult<Prepared> {
        let made = match self.confined && self.own_network {
            true => Some(UserAndNetwork::make(map_self)?),
            false => None,
        };
        Ok(Prepared {
            namespaces: self,
            map_self,
            made,
        })
    }

    fn op(self) -> &'static str {
        match (self.confined, self.own_network) {
            (true, true) => "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWCGROUP)",
            (true, false) => "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWCGROUP)",
            (false, true) => "unshare(CLONE_NEWNET|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWCGROUP)",
            (false, false) => "unshare(CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWCGROUP)",
        }
    }
}

/// The test's namespaces, the user and network ones perhaps made already.
pub(crate) struct Prepared {
    namespaces: TestNamespaces,
    map_self: bool,
    made: Option<UserAndNetwork>,
}

impl Prepared {
    /// The first step into the test's namespaces: its network namespace, or (when there is no
    /// separate user namespace to join later) all of them at once. The caller must be
    /// single-threaded (a user namespace demands it). With `map_self`, root of a new user
    /// namespace is mapped to this process's own id (the only map a process may write for
    /// itself); else the runner writes the map. Mount the network's `/sys` between this and
    /// [`Self::lock`]: still in the old mount namespace, it is locked like the rest.
    pub(crate) fn join_network(&self) -> SysResult<()> {
        let Some(made) = &self.made else {
            unshare(self.namespaces.flags(), self.namespaces.op())?;
            if self.namespaces.confined && self.map_self {
                map_own_root()?;
            }
            return Ok(());
        };
        setns(
            made.network.as_fd(),
            libc::CLONE_NEWNET,
            "setns(CLONE_NEWNET)",
        )
    }

    /// The rest: the user namespace, and a copy of the mount namespace it owns (every mount
    /// made so far is locked in it), with new UTS, IPC and cgroup namespaces.
    pub(crate) fn lock(self) -> SysResult<()> {
        let Some(made) = self.made else {
            return Ok(());
        };
        setns(
            made.user.as_fd(),
            libc::CLONE_NEWUSER,
            "setns(CLONE_NEWUSER)",
        )?;
        let rest =
            libc::CLONE_NEWNS | libc::CLONE_NEWUTS | libc::CLONE_NEWIPC | libc::CLONE_NEWCGROUP;
        unshare(
            rest,
            "unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWCGROUP)",
        )
    }
}

fn unshare(flags: c_int, op: &'static str) -> SysResult<()> {
    // SAFETY: unshare takes flags only; the process is single-threaded (caller's duty).
    match unsafe { libc::unshare(flags) } {
        0 => Ok(()),
        _ => Err(SysError::new(op, Errno::last())),
    }
}

fn setns(fd: std::os::fd::BorrowedFd<'_>, kind: c_int, op: &'static str) -> SysResult<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: setns(2) with an open namespace descriptor; single-threaded (caller's duty).
    match unsafe { libc::setns(fd.as_raw_fd(), kind) } {
        0 => Ok(()),
        _ => Err(SysError::new(op, Errno::last())),
    }
}

/// Root of this process's (new) user namespace, mapped to its own id in the one above.
fn map_own_root() -> SysResult<()> {
    // Denied already, inherited from the namespace above; a self-made gid_map needs it.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    super::write_id_maps_of("self", super::ROOT_ONLY_MAP)
}

/// A user namespace and a network namespace it owns, made by a helper (a child of PID 1
/// sharing its memory and descriptor table, which PID 1 waits for like `vfork`) and held open
/// by the descriptors the helper opened before it exited.
struct UserAndNetwork {
    user: OwnedFd,
    network: OwnedFd,
}

/// What the helper is given and leaves behind, in memory it shares with PID 1.
#[repr(C)]
struct HelperArgs {
    map_self: bool,
    user: c_int,
    network: c_int,
    failed_op: &'static str,
    errno: c_int,
}

impl UserAndNetwork {
    fn make(map_self: bool) -> SysResult<UserAndNetwork> {
        let mut args = HelperArgs {
            map_self,
            user: -1,
            network: -1,
            failed_op: "",
            errno: 0,
        };
        let mut stack = vec![0u8; 64 * 1024];
        // SAFETY: one past the end of the buffer, which the stack grows down from.
        let top = unsafe { stack.as_mut_ptr().add(stack.len()) };
        let top = (top as usize & !15) as *mut libc::c_void;
        let flags = libc::CLONE_NEWUSER
            | libc::CLONE_NEWNET
            | libc::CLONE_VM
            | libc::CLONE_VFORK
            | libc::CLONE_FILES
            | libc::SIGCHLD;
        // SAFETY: `helper_main` makes only async-signal-safe calls and returns; the stack and
        // `args` outlive it (CLONE_VFORK suspends this process until the helper has exited).
        let pid = unsafe {
            libc::clone(
                helper_main,
                top,
                flags,
                &mut args as *mut HelperArgs as *mut libc::c_void,
            )
        };
        if pid < 0 {
            return Err(SysError::new(
                "clone(CLONE_NEWUSER|CLONE_NEWNET)",
                Errno::last(),
            ));
        }
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        drop(stack);
        // The helper took PID 2: give it back, so the test's body is PID 2 as always. Needs
        // a writable /proc/sys (not in every container): else the body is PID 3.
        let _ = std::fs::write("/proc/sys/kernel/ns_last_pid", "1");
        // SAFETY: descriptors the helper opened in the table it shared with us; nothing else
        // owns them.
        let own = |fd: c_int| (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let (user, network) = (own(args.user), own(args.network));
        match (user, network, args.errno) {
            (Some(user), Some(network), 0) => Ok(UserAndNetwork { user, network }),
            (_, _, errno) => Err(SysError::new(args.failed_op, Errno::from_raw(errno))),
        }
    }
}

/// The helper: in its new user and network namespaces, maps itself (rootless) and opens both
/// namespaces for PID 1. Async-signal-safe: it shares PID 1's memory.
extern "C" fn helper_main(arg: *mut libc::c_void) -> c_int {
    // SAFETY: `arg` is the `HelperArgs` PID 1 passed, alive until we exit.
    let args = unsafe { &mut *(arg as *mut HelperArgs) };
    let fail = |args: &mut HelperArgs, op: &'static str| {
        args.failed_op = op;
        args.errno = Errno::last_raw();
        1
    };
    if args.map_self {
        // Denied already (inherited from the namespace above); a self-made gid_map needs it.
        let _ = write_file(c"/proc/self/setgroups", b"deny");
        if !write_file(c"/proc/self/uid_map", super::ROOT_ONLY_MAP.as_bytes()) {
            return fail(args, "write(/proc/self/uid_map)");
        }
        if !write_file(c"/proc/self/gid_map", super::ROOT_ONLY_MAP.as_bytes()) {
            return fail(args, "write(/proc/self/gid_map)");
        }
    }
    let open = |path: &std::ffi::CStr| {
        // SAFETY: open(2) of a NUL-terminated path.
        unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) }
    };
    args.user = open(c"/proc/self/ns/user");
    if args.user < 0 {
        return fail(args, "open(/proc/self/ns/user)");
    }
    args.network = open(c"/proc/self/ns/net");
    if args.network < 0 {
        return fail(args, "open(/proc/self/ns/net)");
    }
    0
}

/// `open` + `write` + `close`, async-signal-safe; whether all of `data` was written.
fn write_file(path: &std::ffi::CStr, data: &[u8]) -> bool {
    // SAFETY: open/write/close of a NUL-terminated path with a valid buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, data.as_ptr().cast(), data.len());
        libc::close(fd);
        written == data.len() as isize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confined_test_gets_a_user_namespace_that_owns_everything_else() {
        let confined = TestNamespaces {
            own_network: true,
            confined: true,
        };
        let flags = confined.flags();
        for flag in [
            libc::CLONE_NEWUSER,
            libc::CLONE_NEWNS,
            libc::CLONE_NEWNET,
            libc::CLONE_NEWUTS,
            libc::CLONE_NEWIPC,
            libc::CLONE_NEWCGROUP,
        ] {
            assert_ne!(flags & flag, 0, "{flag:#x}");
        }
        let privileged_on_host_net = TestNamespaces {
            own_network: false,
            confined: false,
        };
        assert_eq!(
            privileged_on_host_net.flags() & (libc::CLONE_NEWUSER | libc::CLONE_NEWNET),
            0
        );
    }
}
