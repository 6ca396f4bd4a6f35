//! The namespaces a test runs in, made by its PID 1 once the sandbox is built.
//!
//! Made after the mounts, in one `unshare`, so that:
//! - the new user namespace owns the new mount namespace, and the kernel locks every mount
//!   copied into it: the test cannot unmount what the harness mounted (to see what lies
//!   below) nor clear a read-only flag the harness set;
//! - the same user namespace owns the new network, UTS, IPC and cgroup namespaces, so the
//!   test's capabilities administer those (its links, firewall, `/proc/sys/net`, hostname)
//!   and nothing of the host's.

use std::ffi::c_int;

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

    /// `unshare(2)` into them. The caller must be single-threaded (a user namespace demands it).
    /// With `map_self`, also maps root of the new user namespace to this process's own id
    /// (the only map a process may write for itself); else the runner writes the map.
    pub(crate) fn enter(self, map_self: bool) -> SysResult<()> {
        // SAFETY: unshare takes flags only; the process is single-threaded (caller's duty).
        if unsafe { libc::unshare(self.flags()) } != 0 {
            return Err(SysError::new(self.op(), Errno::last()));
        }
        if self.confined && map_self {
            // Denied already, inherited from the namespace above; a self-made gid_map needs it.
            let _ = std::fs::write("/proc/self/setgroups", "deny");
            super::write_id_maps_of("self", super::ROOT_ONLY_MAP)?;
        }
        Ok(())
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
