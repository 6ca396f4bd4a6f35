//! `rootfs = "host"`: the host's real filesystems, each as an overlay with a writable layer of
//! the test's own, so a test can install packages and start daemons that write `/var` and
//! `/etc` while nothing reaches the host.
//!
//! Built in the scratch root, with the host's root at `/oldroot`: every mount of the host's
//! tree but the kernel's (`proc`, `sysfs`, cgroups, …) and those under `/proc`, `/sys`,
//! `/dev`, `/tmp` and `/run` (the test gets fresh ones) becomes an overlay at the same place
//! under `/newroot`, its lower layer that mount alone, its upper and work directories in the
//! scratch tmpfs. A mount the kernel refuses as a lower layer (an overlay already stacked two
//! deep, some FUSE filesystems) or that is a single file (Docker's `/etc/hosts`) is bound
//! read-only instead.

use std::path::{Path, PathBuf};

use super::error::{SetupError, Step};
use crate::sys;

/// Where the host's root is while the test's is built.
const HOST: &str = "/oldroot";
/// The host's mounts the test gets fresh instead.
const FRESH: [&str; 5] = ["/proc", "/sys", "/dev", "/tmp", "/run"];
/// Kernel filesystems: nothing to copy on write.
const KERNEL_FS: [&str; 19] = [
    "proc",
    "sysfs",
    "devtmpfs",
    "devpts",
    "cgroup",
    "cgroup2",
    "securityfs",
    "debugfs",
    "tracefs",
    "bpf",
    "mqueue",
    "hugetlbfs",
    "fusectl",
    "configfs",
    "pstore",
    "efivarfs",
    "autofs",
    "binfmt_misc",
    "nsfs",
];

/// The upper layer of the overlay at the host's `/`, for the network nodes' layers.
pub(super) const ROOT_UPPER: &str = "/upper/0";

/// Mounts the copy-on-write view of the host at `newroot` (see the module docs). `false`, with
/// nothing mounted, when the kernel refuses the host's root as a lower layer (rootless: its
/// submounts are locked); the caller then falls back to the read-only host root.
pub(super) fn mount(newroot: &Path) -> Result<bool, SetupError> {
    // The host's /proc, still at its place under the host's root: ours, as PID 1 sees it.
    let path = "/oldroot/proc/self/mountinfo";
    let mountinfo = std::fs::read_to_string(path)
        .map_err(|e| sys::SysError::at("read", path, errno(&e)))
        .step("read the host's mounts")?;
    for (i, place) in places(&mountinfo).iter().enumerate() {
        let lower = host_path(place);
        let target = under(newroot, place);
        if !lower.is_dir() {
            bind_read_only(&lower, &target)?;
            continue;
        }
        let upper = PathBuf::from(format!("/upper/{i}"));
        let work = PathBuf::from(format!("/work/{i}"));
        for dir in [&upper, &work] {
            sys::mkdir(dir, 0o755).step("create an overlay's layers for the host")?;
        }
        match sys::mount_overlay(std::slice::from_ref(&lower), &upper, &work, &target) {
            Ok(()) => {}
            Err(e) if i == 0 && e.errno == nix::errno::Errno::EINVAL => return Ok(false),
            Err(e) if i == 0 => return Err(e).step("mount the host's root copy-on-write"),
            Err(_) => bind_read_only(&lower, &target)?,
        }
    }
    Ok(true)
}

/// The host's mount points to copy on write, `/` first, parents before children, each once.
fn places(mountinfo: &str) -> Vec<String> {
    let mut places: Vec<String> = Vec::new();
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        let (Some(point), Some(fstype)) = (fields.get(4), fields.get(dash + 1)) else {
            continue;
        };
        let point = sys::unescape_mountinfo(point);
        let Some(place) = inside_host(&point) else {
            continue;
        };
        let fresh = FRESH
            .iter()
            .any(|f| place == *f || place.starts_with(&format!("{f}/")));
        if fresh || KERNEL_FS.contains(fstype) || places.contains(&place) {
            continue;
        }
        places.push(place);
    }
    // Stable: of two mounts at the same depth, the host's order stays.
    places.sort_by_key(|p| p.matches('/').count() - usize::from(p == "/"));
    places
}

/// `/oldroot/var` → `/var`, `/oldroot` → `/`; `None` outside the host's root.
fn inside_host(point: &str) -> Option<String> {
    match point.strip_prefix(HOST)? {
        "" => Some("/".to_string()),
        rest if rest.starts_with('/') => Some(rest.to_string()),
        _ => None,
    }
}

fn host_path(place: &str) -> PathBuf {
    under(Path::new(HOST), place)
}

fn under(root: &Path, place: &str) -> PathBuf {
    root.join(place.trim_start_matches('/'))
}

/// One host mount, read-only, where no overlay can be: a file, or a refused lower layer.
fn bind_read_only(source: &Path, target: &Path) -> Result<(), SetupError> {
    sys::mount_target(target, source.is_dir()).step("create a mount point for the host")?;
    sys::bind(source, target, false).step("bind a host filesystem read-only")?;
    sys::set_readonly(target, true, false).step("make a host filesystem read-only")
}

fn errno(e: &std::io::Error) -> nix::errno::Errno {
    nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::places;

    #[test]
    fn real_filesystems_parents_first_without_the_kernels_or_the_fresh_ones() {
        let mountinfo = "\
22 1 0:21 / /oldroot rw - ext4 /dev/vda rw
23 22 0:22 / /oldroot/proc rw - proc proc rw
24 22 0:23 / /oldroot/home/me/data rw - xfs /dev/vdc rw
25 22 0:24 / /oldroot/home rw - ext4 /dev/vdb rw
26 22 0:25 / /oldroot/run/user/1000 rw - tmpfs tmpfs rw
27 22 0:26 / /oldroot/sys/fs/cgroup rw - cgroup2 cgroup2 rw
28 22 0:27 / /oldroot/snap/core/1 ro - squashfs /dev/loop0 ro
29 22 0:28 / /oldroot/with\\040space rw - ext4 /dev/vdd rw
30 22 0:29 / /oldroot/home rw - ext4 /dev/vde rw
31 1 0:30 / /newroot rw - tmpfs tmpfs rw
32 22 0:31 / /oldroot/boot/efi rw - vfat /dev/vda1 rw";
        assert_eq!(
            places(mountinfo),
            [
                "/",
                "/home",
                "/with space",
                "/boot/efi",
                "/home/me/data",
                "/snap/core/1"
            ]
        );
    }
}
