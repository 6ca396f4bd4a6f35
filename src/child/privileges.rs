//! What root inside a test may still do: the capabilities a system test needs, without the
//! ones that reach the host's kernel.
//!
//! Applied by PID 1 once the sandbox is built, just before it forks the body, so the init and
//! the body hold the same set: a test that ptraces its init gains nothing. After the fork the
//! init only waits, writes to the report pipe and exits, which need no capability.
//!
//! Kept by default — Docker's default set, plus what a system test does in namespaces of its
//! own ([`KEPT`]):
//! - Docker's: `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `SETUID`, `SETGID`,
//!   `SETPCAP`, `SETFCAP`, `NET_BIND_SERVICE`, `NET_RAW`, `SYS_CHROOT`, `MKNOD`, `AUDIT_WRITE`;
//! - `SYS_ADMIN`: mount, make namespaces, set the hostname (all in the test's own namespaces);
//! - `NET_ADMIN`, `NET_BROADCAST`: configure the test's own network namespace (links, routes,
//!   qdiscs, `/proc/sys/net`). With `net = "host"` that namespace is the host's, so `NET_ADMIN`
//!   is dropped there unless `caps` adds it;
//! - `IPC_LOCK`, `IPC_OWNER`: `mlock`, System V IPC, in the test's own IPC namespace;
//! - `SYS_PTRACE`: `strace`/`gdb` on the test's own processes (its PID namespace shows no
//!   other);
//! - `SYS_RESOURCE`: raise hard rlimits (`ulimit -n 65536`); host-wide limits stay read-only
//!   in `/proc/sys`;
//! - `LEASE`: file leases.
//!
//! Dropped by default, because they act on the host's kernel whatever the namespaces:
//! `SYS_MODULE` (load kernel code), `SYS_RAWIO` (I/O ports, `/dev/mem`), `SYS_TIME` (the one
//! clock), `SYS_BOOT` (reboot, kexec), `SYSLOG` (the kernel log), `SYS_PACCT`, `AUDIT_CONTROL`,
//! `AUDIT_READ`, `MAC_ADMIN`, `MAC_OVERRIDE` (the LSM policy), `WAKE_ALARM`, `BLOCK_SUSPEND`
//! (power management), `SYS_TTY_CONFIG`, `BPF`, `PERFMON` (kernel-wide tracing and programs),
//! `SYS_NICE` (real-time priorities can starve the host's CPUs), `DAC_READ_SEARCH`
//! (`open_by_handle_at` opens host files by handle, around the mount namespace), `LINUX_IMMUTABLE`
//! and `CHECKPOINT_RESTORE` (nothing a test needs), and any capability newer than this list.
//!
//! `caps = ["+SYS_TIME", "-NET_RAW"]` adds to or drops from that default. The bounding set is
//! cut to the result, ambient capabilities are cleared, the inheritable set emptied, and
//! `no_new_privs` set: neither a setuid binary nor file capabilities can bring a dropped
//! capability back.
//!
//! All of this acts inside the test's own user namespace (see `sys/unshare.rs`): a capability
//! there is a capability over the test's namespaces only, so `SYS_ADMIN` mounts in the test's
//! mount namespace and nowhere else, and a host-wide capability that `caps` adds does nothing
//! the kernel checks in the initial namespace (setting the clock, loading a module) unless the
//! test is also `privileged`. Then the seccomp filter of [`syscall_filter`] is installed
//! (not with `privileged = true`), for the calls that reach the host's kernel whatever the
//! namespaces.

use super::syscall_filter;
use crate::registry::{Net, TestDef};
use crate::sys::{self, CapSet, Caps, FilterError, SysError};

/// The capabilities a test keeps when its `caps` key is empty (see the module docs).
pub(crate) const KEPT: [&str; 22] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETUID",
    "SETGID",
    "SETPCAP",
    "SETFCAP",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SYS_CHROOT",
    "MKNOD",
    "AUDIT_WRITE",
    "SYS_ADMIN",
    "NET_ADMIN",
    "NET_BROADCAST",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_PTRACE",
    "SYS_RESOURCE",
    "LEASE",
];

/// Cutting the process's capabilities down failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PrivilegeError {
    #[error("{cap}: {source}")]
    Bounding { cap: String, source: SysError },
    #[error(
        "{cap}: `caps` adds it, but the runner does not hold it itself; run the tests as root \
         with every capability (not in a container that dropped it), or remove `+{name}`"
    )]
    NotHeld { cap: String, name: &'static str },
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error(transparent)]
    Call(#[from] SysError),
}

impl PrivilegeError {
    /// The setup step, as `failed to …` reads it.
    pub(crate) const STEP: &'static str = "drop capabilities";
}

/// Cuts this process's capabilities to what `test` may hold; its children inherit the result.
pub(crate) fn restrict(test: &TestDef) -> Result<(), PrivilegeError> {
    let wanted = wanted_by(test);
    let held = sys::capget()?;
    if let Some(name) = added(test.caps).find(|&name| !held.permitted.contains(number(name))) {
        let cap = sys::cap_name(number(name));
        return Err(PrivilegeError::NotHeld { cap, name });
    }
    let keep = wanted.intersect(held.permitted);
    // Ambient capabilities would survive an exec of an unprivileged program.
    sys::clear_ambient()?;
    // The bounding set first: dropping from it needs SETPCAP, which `caps` may remove below.
    for cap in (0..64).filter(|&cap| !keep.contains(cap)) {
        match sys::bounding_drop(cap) {
            Ok(()) => {}
            // Past the kernel's last capability: nothing more to drop.
            Err(e) if e.errno == nix::errno::Errno::EINVAL => break,
            Err(source) => {
                let cap = sys::cap_name(cap);
                return Err(PrivilegeError::Bounding { cap, source });
            }
        }
    }
    // Root's exec grants the bounding set again, capped by no_new_privs to what it held.
    sys::capset(Caps {
        effective: keep,
        permitted: keep,
        inheritable: CapSet::default(),
    })?;
    // Setuid binaries and file capabilities cannot bring anything back.
    sys::set_no_new_privs()?;
    if !test.privileged {
        let blocked = syscall_filter::blocked_for(keep);
        // From a zygote, the filter it installed once is this one already (see
        // `shares_the_zygote_filter`); a filter added on top could only refuse more.
        if !syscall_filter::inherited(&blocked) {
            sys::install(&sys::compile(&blocked)?)?;
        }
    }
    Ok(())
}

/// Whether `test` may start from a filtered zygote, which holds the filter of a test whose
/// `caps` re-allow no call (see [`syscall_filter::install_in_zygote`]). A filter is never
/// lifted: a `privileged` test, or one whose `caps` let a call through, starts from an
/// unfiltered zygote and installs its own filter, if any.
pub(crate) fn shares_the_zygote_filter(test: &TestDef) -> bool {
    !test.privileged
        && syscall_filter::blocked_for(wanted(test.caps, test.net)) == syscall_filter::shared()
}

/// What `test` holds: the default set, or with `privileged = true` every capability (it is
/// the host's root: mounting block devices, `acct`, BPF, perf), changed by its `caps`.
pub(crate) fn wanted_by(test: &TestDef) -> CapSet {
    match test.privileged {
        true => changed(CapSet(u64::MAX), test.caps),
        false => wanted(test.caps, test.net),
    }
}

/// The default set for `net`, changed by the `caps` entries (`+NAME`, `-NAME`) in order.
pub(crate) fn wanted(caps: &[&str], net: Net) -> CapSet {
    let mut set = KEPT
        .iter()
        .fold(CapSet::default(), |set, name| set.with(number(name)));
    if net == Net::Host {
        // The host's own network: its links, routes and firewall.
        set = set.without(number("NET_ADMIN"));
    }
    changed(set, caps)
}

/// `set` with the `caps` entries applied in order.
fn changed(set: CapSet, caps: &[&str]) -> CapSet {
    caps.iter().fold(set, |set, entry| match entry.split_at(1) {
        ("+", name) => set.with(number(name)),
        (_, name) => set.without(number(name)),
    })
}

fn added<'a>(caps: &'a [&'static str]) -> impl Iterator<Item = &'static str> + 'a {
    caps.iter().filter_map(|entry| entry.strip_prefix('+'))
}

/// The number of a capability the macro already checked (or of [`KEPT`]).
fn number(name: &str) -> u32 {
    sys::cap_number(name).unwrap_or_else(|| unreachable!("unknown capability {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_keeps_what_system_tests_use_and_drops_the_host_wide_ones() {
        let set = wanted(&[], Net::Loopback);
        for kept in [
            "SYS_ADMIN",
            "NET_ADMIN",
            "NET_BIND_SERVICE",
            "MKNOD",
            "SYS_PTRACE",
        ] {
            assert!(set.contains(number(kept)), "{kept}");
        }
        for dropped in [
            "SYS_MODULE",
            "SYS_RAWIO",
            "SYS_TIME",
            "SYS_BOOT",
            "SYSLOG",
            "DAC_READ_SEARCH",
            "BPF",
            "PERFMON",
            "SYS_NICE",
        ] {
            assert!(!set.contains(number(dropped)), "{dropped}");
        }
        assert_eq!(set.0.count_ones() as usize, KEPT.len());
    }

    #[test]
    fn caps_entries_add_and_drop_in_order() {
        let set = wanted(&["+SYS_TIME", "-NET_RAW"], Net::Loopback);
        assert!(set.contains(number("SYS_TIME")));
        assert!(!set.contains(number("NET_RAW")));
        let set = wanted(&["-SYS_TIME", "+SYS_TIME"], Net::Loopback);
        assert!(set.contains(number("SYS_TIME")));
    }

    #[test]
    fn the_hosts_network_is_not_the_tests_to_administer() {
        assert!(!wanted(&[], Net::Host).contains(number("NET_ADMIN")));
        assert!(wanted(&["+NET_ADMIN"], Net::Host).contains(number("NET_ADMIN")));
        assert!(wanted(&[], Net::Veth).contains(number("NET_ADMIN")));
    }

    #[test]
    fn errors_name_the_capability_and_the_call() {
        let e = PrivilegeError::Bounding {
            cap: sys::cap_name(25),
            source: SysError::new("prctl(PR_CAPBSET_DROP)", nix::errno::Errno::EPERM),
        };
        assert_eq!(
            e.to_string(),
            "CAP_SYS_TIME: prctl(PR_CAPBSET_DROP) => EPERM: Operation not permitted"
        );
    }
}
