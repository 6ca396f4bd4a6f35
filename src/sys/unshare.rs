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
//! process ([`NamespacePair`], made ahead by a zygote where it can): PID 1 joins the network namespace while it still holds the
//! host's mount namespace and mounts its `/sys` there, so that this `/sys` is locked like the
//! rest. `ip netns exec` (and `ip -n`) unmounts `/sys` to mount one for the namespace it
//! enters, read-write; a locked `/sys` makes it fall back to a read-only one, which the
//! kernel allows. A writable sysfs is not allowed: root inside is the host's root to its
//! files (`/sys/kernel/mm`, `/sys/module/*/parameters`).
use std::ffi::c_int;
use std::os::fd::AsFd;

use super::error::{Errno, SysError, SysResult};
use super::namespace_pair::{self, IdMap, NamespacePair};

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
            true => Some(match namespace_pair::take_adopted() {
                Some(pair) => pair,
                None => make_own_pair(map_self)?,
            }),
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
    made: Option<NamespacePair>,
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

/// The pair, made by PID 1 itself: it was started by exec, not by a zygote that made one.
fn make_own_pair(map_self: bool) -> SysResult<NamespacePair> {
    let pair = NamespacePair::make(match map_self {
        true => IdMap::RootAsSelf,
        false => IdMap::Identity,
    })?;
    // The helper took PID 2: give it back, so the test's body is PID 2 as always. Needs a
    // writable /proc/sys (not in every container): else the body is PID 3.
    let _ = std::fs::write("/proc/sys/kernel/ns_last_pid", "1");
    Ok(pair)
}

/// Root of this process's (new) user namespace, mapped to its own id in the one above.
fn map_own_root() -> SysResult<()> {
    // Denied already, inherited from the namespace above; a self-made gid_map needs it.
    let _ = std::fs::write("/proc/self/setgroups", "deny");
    super::write_id_maps_of("self", super::ROOT_ONLY_MAP)
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
