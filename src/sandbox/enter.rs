//! The setup checklist, in bubblewrap's order: private mounts, a scratch tmpfs as a temporary
//! root with the host's root under `/oldroot`, the new root assembled at `/newroot` from paths
//! under `/oldroot` (so nothing the scratch tmpfs covers is lost), then a second pivot into it.

use std::path::Path;

use super::dev;
use super::error::{SetupError, Step};
use crate::plan::{Plan, Root};
use crate::sys::{self, MsFlags};

const SCRATCH: &str = "/tmp";
const NEWROOT: &str = "/newroot";
const OLDROOT: &str = "/oldroot";

/// Builds the test's root filesystem and identity, then makes the new root `/`.
pub(crate) fn enter(plan: &Plan) -> Result<(), SetupError> {
    // Nothing mounted from here on may propagate to the host's mount namespace.
    sys::make_rprivate(Path::new("/")).step("make the mount tree private")?;
    // A scratch tmpfs, seen only by this mount namespace, to assemble the new root in.
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys::mount_tmpfs(Path::new(SCRATCH), flags, "mode=0755").step("mount the scratch tmpfs")?;
    for dir in ["newroot", "oldroot", "upper", "work"] {
        sys::mkdir(&Path::new(SCRATCH).join(dir), 0o755).step("create scratch directories")?;
    }
    // Make the scratch tmpfs the root for a moment; the host's root stays reachable at /oldroot.
    sys::pivot_root(Path::new(SCRATCH), &Path::new(SCRATCH).join("oldroot"))
        .step("pivot into the scratch tmpfs")?;
    sys::chdir(Path::new("/")).step("change into the scratch root")?;

    mount_root(&plan.root)?;
    mount_kernel_filesystems()?;
    dev::populate(&Path::new(NEWROOT).join("dev"), Path::new(OLDROOT))?;
    mount_writable_scratch()?;
    install_hosts_file(&plan.hosts)?;

    // The host's root is no longer needed: detach it so no host path stays reachable.
    sys::detach(Path::new(OLDROOT)).step("detach the host's root")?;
    // Make /newroot the root: pivot it onto itself, then detach the scratch tmpfs below it.
    sys::chdir(Path::new(NEWROOT)).step("change into the new root")?;
    sys::pivot_root(Path::new("."), Path::new(".")).step("pivot into the new root")?;
    sys::detach(Path::new(".")).step("detach the scratch tmpfs")?;
    sys::chdir(Path::new("/")).step("change into /")?;

    sys::sethostname(&plan.hostname).step("set the hostname")?;
    // Loopback only: tests can bind any port without meeting each other or the host.
    sys::loopback_up().step("bring the loopback interface up")?;
    Ok(())
}

fn mount_root(root: &Root) -> Result<(), SetupError> {
    let newroot = Path::new(NEWROOT);
    match root {
        Root::Overlay { lower } => {
            // Copy-on-write: the fixture stays untouched, writes land in the scratch tmpfs.
            let lower = Path::new(OLDROOT).join(lower.strip_prefix("/").unwrap_or(lower));
            sys::mount_overlay(&lower, Path::new("/upper"), Path::new("/work"), newroot)
                .step("mount the overlay root filesystem")
        }
        Root::HostReadOnly => {
            // The host's whole mount tree, read-only at every level.
            sys::bind(Path::new(OLDROOT), newroot, true).step("bind the host's root")?;
            sys::remount_readonly_recursive(newroot).step("make the host's root read-only")
        }
    }
}

/// A fresh /proc for the new PID namespace and a /sys for the new network namespace.
fn mount_kernel_filesystems() -> Result<(), SetupError> {
    let proc = Path::new(NEWROOT).join("proc");
    with_mountpoint(&proc, sys::mount_proc).step("mount /proc")?;
    let sys_dir = Path::new(NEWROOT).join("sys");
    with_mountpoint(&sys_dir, sys::mount_sysfs).step("mount /sys")
}

/// Fresh, empty /tmp and /run for every test.
fn mount_writable_scratch() -> Result<(), SetupError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let tmp = Path::new(NEWROOT).join("tmp");
    with_mountpoint(&tmp, |p| sys::mount_tmpfs(p, flags, "mode=1777")).step("mount /tmp")?;
    let run = Path::new(NEWROOT).join("run");
    with_mountpoint(&run, |p| sys::mount_tmpfs(p, flags, "mode=0755")).step("mount /run")
}

/// So `localhost` and the test's hostname resolve in any rootfs, even a read-only one.
fn install_hosts_file(contents: &str) -> Result<(), SetupError> {
    let source = Path::new("/hosts");
    sys::write_file(source, contents.as_bytes()).step("write /etc/hosts")?;
    let etc = Path::new(NEWROOT).join("etc");
    sys::mkdir(&etc, 0o755).step("create /etc")?;
    let target = etc.join("hosts");
    sys::bind_target(&target).step("create /etc/hosts")?;
    sys::bind(source, &target, false).step("mount /etc/hosts")
}

/// Runs `mount`; if the mountpoint directory is missing (a minimal fixture), creates it and
/// tries again. The common case costs one syscall.
pub(super) fn with_mountpoint(
    target: &Path,
    mount: impl Fn(&Path) -> sys::SysResult<()>,
) -> sys::SysResult<()> {
    match mount(target) {
        Err(e) if e.errno == nix::errno::Errno::ENOENT => {
            sys::mkdir(target, 0o755)?;
            mount(target)
        }
        other => other,
    }
}
