//! A node's own view of the test's filesystem, built in the node's new mount namespace with the
//! sandbox's technique: a scratch tmpfs, an overlay, `pivot_root`.
//!
//! The node's root is an overlay over the layers of the test's root as they are when the
//! node starts, with a fresh tmpfs on top: the node reads everything the test has (its fixture,
//! its `copy` files, what it wrote so far) and its writes stay its own. The test's other mounts
//! come along read-only (`bind` mounts, the host's submounts for `rootfs = "host"`); `/dev` is
//! the test's; `/proc` is the test's (whose `/proc/sys/net` shows the reader's network, so the
//! node's); `/sys` is the node's (its own network devices); `/tmp`, `/run` and `/dev/shm` are
//! fresh; `/etc/hosts` is the node's own file.

use std::path::{Path, PathBuf};

use super::error::{Step, StepError};
use crate::sys::nodes as syscalls;
use crate::sys::{self, MsFlags};

/// Where the scratch tmpfs goes, shadowing the test's /tmp in the node's namespace only.
const SCRATCH: &str = "/tmp";
/// Mounts the node gets fresh, or from the test as they are, rather than read-only copies.
const OWN_MOUNTS: [&str; 6] = ["/proc", "/sys", "/dev", "/tmp", "/run", "/etc/hosts"];

/// Builds the node's root and makes it `/`, with `hosts` as its `/etc/hosts`.
pub(super) fn enter(hosts: &str) -> Result<(), StepError> {
    // Nothing mounted from here on may propagate to the test's mount namespace.
    sys::make_rprivate(Path::new("/")).step("make its mount tree private")?;
    // Read before the scratch tmpfs becomes one of them.
    let submounts = test_submounts()?;
    build_scratch(hosts)?;
    let scratch = Path::new(SCRATCH);
    let root = scratch.join("root");
    // Copy-on-write over the layers of the test's root (its writes so far included): reads
    // see the test's files, writes stay the node's.
    let lowers = test_layers()?;
    sys::mount_overlay(
        &lowers,
        &scratch.join("upper"),
        &scratch.join("work"),
        &root,
    )
    .step("mount its overlay root")?;
    for submount in &submounts {
        bind_read_only(submount, &root)?;
    }
    mount_own(&root, &scratch.join("hosts"))?;
    // The new root becomes `/`; the old one (the test's, with the scratch) is stacked on it
    // and detached at once.
    sys::chdir(&root).step("change into its root")?;
    sys::pivot_root(Path::new("."), Path::new(".")).step("pivot into its root")?;
    sys::detach(Path::new(".")).step("detach the test's root")?;
    sys::chdir(Path::new("/")).step("change into its root")
}

/// The layers of the test's root, topmost first, as the sandbox exposed them.
fn test_layers() -> Result<Vec<PathBuf>, StepError> {
    let dir = Path::new(crate::sandbox::LAYERS);
    let mut numbered: Vec<(usize, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| syscalls::io_error("read_dir", crate::sandbox::LAYERS, &e))
        .step("find the test's layers")?
        .filter_map(|e| {
            let e = e.ok()?;
            Some((e.file_name().to_str()?.parse().ok()?, e.path()))
        })
        .collect();
    numbered.sort();
    Ok(numbered.into_iter().map(|(_, p)| p).collect())
}

/// The scratch tmpfs: the overlay's mount point and writable layer, and the hosts file.
fn build_scratch(hosts: &str) -> Result<(), StepError> {
    let scratch = Path::new(SCRATCH);
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys::mount_tmpfs(scratch, flags, "mode=0755").step("mount its scratch tmpfs")?;
    for dir in ["root", "upper", "work"] {
        sys::mkdir(&scratch.join(dir), 0o755).step("create its scratch directories")?;
    }
    sys::write_file(&scratch.join("hosts"), hosts.as_bytes()).step("write its /etc/hosts")
}

/// Kernel filesystems, fresh temporary directories and /etc/hosts, at `root`.
fn mount_own(root: &Path, hosts: &Path) -> Result<(), StepError> {
    mount_proc(&root.join("proc"))?;
    // Its own network namespace: a sysfs made here shows its own devices.
    let sysfs = root.join("sys");
    sys::mount_target(&sysfs, true).step("create /sys")?;
    sys::mount_sysfs(&sysfs).step("mount /sys")?;
    let dev = root.join("dev");
    sys::mount_target(&dev, true).step("create /dev")?;
    sys::bind(Path::new("/dev"), &dev, true).step("mount /dev")?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    for (dir, mode) in [
        ("tmp", "mode=1777"),
        ("run", "mode=0755"),
        ("dev/shm", "mode=1777"),
    ] {
        let target = root.join(dir);
        sys::mount_target(&target, true).step("create /tmp, /run and /dev/shm")?;
        sys::mount_tmpfs(&target, flags, mode).step("mount /tmp, /run and /dev/shm")?;
    }
    // The test rewrites this file in place as nodes join: a bind mount of it, not a copy.
    let target = inside(root, Path::new("/etc/hosts"));
    sys::mount_target(&target, false).step("create /etc/hosts")?;
    sys::bind(hosts, &target, false).step("mount /etc/hosts")
}

/// The test's /proc, with its read-only parts: the test's PID namespace belongs to the host's
/// user namespace, so no fresh procfs can be made for it here. Its /proc/sys/net shows the
/// network namespace of whoever reads it: the node's, for the node.
fn mount_proc(proc: &Path) -> Result<(), StepError> {
    sys::mount_target(proc, true).step("create /proc")?;
    sys::bind(Path::new("/proc"), proc, true).step("mount /proc")
}

/// `path` under `root`, its last component's symlink followed (one hop) inside `root`, as the
/// node will see it: a fixture's `/etc/hosts -> /etc/static/hosts` lands in the node's root.
fn inside(root: &Path, path: &Path) -> PathBuf {
    let under_root = |p: &Path| root.join(p.strip_prefix("/").unwrap_or(p));
    let at = under_root(path);
    match std::fs::read_link(&at) {
        Ok(target) if target.is_absolute() => under_root(&target),
        Ok(target) => at.parent().map_or(at.clone(), |dir| dir.join(target)),
        Err(_) => at,
    }
}

/// One of the test's mounts, read-only, at the same place under `root`: the overlay shows
/// only the root filesystem itself, not what is mounted on it.
fn bind_read_only(submount: &Path, root: &Path) -> Result<(), StepError> {
    let target = root.join(submount.strip_prefix("/").unwrap_or(submount));
    sys::mount_target(&target, submount.is_dir()).step("create a mount point of the test's")?;
    sys::bind(submount, &target, true).step("bind one of the test's mounts")?;
    sys::set_readonly(&target, true, true).step("make one of the test's mounts read-only")
}

/// The mount points of the mounts directly on the test's root, in mount order, but for those
/// the node gets its own of.
fn test_submounts() -> Result<Vec<PathBuf>, StepError> {
    const MOUNTINFO: &str = "/proc/self/mountinfo";
    let text = std::fs::read_to_string(MOUNTINFO)
        .map_err(|e| syscalls::io_error("read", MOUNTINFO, &e))
        .step("read the test's mounts")?;
    // Below its own mounts, or hidden under a mount of the test's (a host's /run/netns
    // under the test's fresh /run): nothing the node would see.
    Ok(children_of_root(&text)
        .into_iter()
        .filter(|m| !OWN_MOUNTS.iter().any(|own| m.starts_with(own)))
        .filter(|m| m.exists())
        .collect())
}

/// From a mountinfo text: the mount points of the mounts whose parent is the visible root.
fn children_of_root(mountinfo: &str) -> Vec<PathBuf> {
    // id, parent id, major:minor, root, mount point, ...
    let mounts: Vec<(&str, &str, String)> = mountinfo
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let id = fields.next()?;
            let parent = fields.next()?;
            let point = fields.nth(2)?;
            Some((id, parent, sys::unescape_mountinfo(point)))
        })
        .collect();
    // The visible root is the last mount on `/` (one mounted over another comes later).
    let Some(root) = mounts.iter().rev().find(|(_, _, p)| p == "/").map(|m| m.0) else {
        return Vec::new();
    };
    mounts
        .iter()
        .filter(|(id, parent, point)| *parent == root && *id != root && point != "/")
        .map(|(_, _, point)| PathBuf::from(point))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
700 650 0:50 / / rw,relatime - overlay overlay rw,lowerdir=/x
701 700 0:51 / /proc rw - proc proc rw
702 700 0:52 / /dev rw - tmpfs tmpfs rw
703 702 0:53 / /dev/pts rw - devpts devpts rw
704 700 8:1 /srv/my\\040data /data\\040dir ro - ext4 /dev/sda1 ro
705 700 0:54 /hosts /etc/hosts rw - tmpfs tmpfs rw
";

    #[test]
    fn finds_the_mounts_directly_on_the_root() {
        let children = children_of_root(MOUNTINFO);
        let expected: Vec<PathBuf> = ["/proc", "/dev", "/data dir", "/etc/hosts"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(children, expected);
    }

    #[test]
    fn a_root_mounted_over_another_is_the_visible_one() {
        let text = "1 0 0:1 / / rw - ext4 a rw\n2 1 0:2 / / rw - overlay b rw\n\
                    3 2 0:3 / /proc rw - proc proc rw\n4 1 0:4 / /hidden rw - tmpfs t rw\n";
        assert_eq!(children_of_root(text), vec![PathBuf::from("/proc")]);
    }

    #[test]
    fn unescapes_octal_sequences() {
        assert_eq!(sys::unescape_mountinfo("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(sys::unescape_mountinfo("/plain\\"), "/plain\\");
    }
}
