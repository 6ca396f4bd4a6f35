//! A fresh /proc for the test's PID namespace and a /sys for its network namespace.

use std::path::Path;

use super::enter::with_mountpoint;
use super::error::{SetupError, Step};
use crate::sys;

/// Parts of /proc that reach the host's kernel, not just this test's namespaces (sysctls,
/// magic SysRq, interrupt routing, buses): read-only, as Docker and bubblewrap have them.
const PROC_READ_ONLY: [&str; 4] = ["sys", "sysrq-trigger", "irq", "bus"];
/// Sysctls of the test's own network namespace: writable again, so a test can configure its
/// network (`net.ipv4.ip_forward`, say) without touching the host's.
const PROC_NET_SYSCTLS: &str = "/proc/sys/net";

/// A fresh /proc, its host-wide settings read-only; with `sysfs`, a /sys of the network PID 1
/// is in now. Under real root a test with a network of its own needs none (its own comes
/// later, see [`mount_own_sysfs`]); in a user namespace the kernel mounts that one only where a
/// sysfs is visible already, and the host's is gone by then.
pub(super) fn mount(sysfs: bool) -> Result<(), SetupError> {
    with_mountpoint(Path::new("/proc"), sys::mount_proc).step("mount /proc")?;
    for name in PROC_READ_ONLY {
        let path = Path::new("/proc").join(name);
        match sys::bind(&path, &path, false) {
            // Not every kernel has every one of them.
            Err(e) if e.errno == nix::errno::Errno::ENOENT => continue,
            other => other.step("protect the host's kernel settings in /proc")?,
        }
        sys::set_readonly(&path, true, false).step("make /proc/sys read-only")?;
    }
    let net = Path::new(PROC_NET_SYSCTLS);
    sys::bind(net, net, false).step("mount /proc/sys/net")?;
    sys::set_readonly(net, false, false).step("make /proc/sys/net writable")?;
    match sysfs {
        true => with_mountpoint(Path::new("/sys"), sys::mount_sysfs).step("mount /sys"),
        false => Ok(()),
    }
}

/// A read-only /proc, whole, at `dir/proc`, for the caller to cover (mount over `dir`).
///
/// In a user namespace the kernel lets a test mount a fresh procfs (for a PID namespace of its
/// own, say) only where a procfs is already "fully visible", with the new one no more
/// permissive. Ours at /proc is not (read-only binds cover /proc/sys and the rest), so a
/// fresh one would be refused; a fresh *writable* one would be worse: with the identity map
/// root inside is the host's root to the sysctl files, and `kernel.core_pattern` would be the
/// test's to write. This hidden, read-only, uncovered instance lets `mount -t proc -o ro`
/// work and nothing more: a fresh procfs is read-only, and locked so.
pub(super) fn mount_spare_proc(dir: &Path) -> Result<(), SetupError> {
    let target = dir.join("proc");
    sys::mkdir(&target, 0o555).step("create the spare /proc")?;
    sys::mount_proc_readonly(&target).step("mount the spare /proc")
}

/// A sysfs at /sys showing the network namespace PID 1 is in, the test's own. Read-only: the
/// kernel lets a user namespace mount sysfs (`ip netns exec` does) only where one is fully
/// visible and no more permissive, and root inside must not write the host's /sys/kernel.
pub(super) fn mount_own_sysfs() -> Result<(), SetupError> {
    with_mountpoint(Path::new("/sys"), sys::mount_sysfs).step("mount /sys for the test's network")
}
