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

pub(super) fn mount() -> Result<(), SetupError> {
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
    with_mountpoint(Path::new("/sys"), sys::mount_sysfs).step("mount /sys")
}
