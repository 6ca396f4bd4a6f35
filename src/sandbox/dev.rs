//! A minimal /dev: the usual character devices, a private devpts, /dev/shm and the fd links.

use std::path::{Path, PathBuf};

use super::enter::with_mountpoint;
use super::error::{SetupError, Step};
use crate::sys::{self, MsFlags};

/// The usual device nodes, with their numbers (linux/Documentation/admin-guide/devices.txt).
/// Made with `mknod` where PID 1 may (real root: fewer mounts to copy and tear down, twice
/// per test), else bind-mounted from the host (rootless).
const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Builds /dev from `scratch`, a directory of the scratch tmpfs, bound at /dev: the usual
/// device nodes (made, or bound from the host's `host_dev`) and `extra` (the `devices` key,
/// absolute paths under /dev).
pub(super) fn populate(
    scratch: &Path,
    host_dev: &Path,
    extra: &[PathBuf],
) -> Result<(), SetupError> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    let dev = Path::new("/dev");
    with_mountpoint(dev, |p| sys::bind_with_flags(scratch, p, flags)).step("mount /dev")?;
    for (name, major, minor) in DEVICES {
        let target = dev.join(name);
        match sys::make_char_device(&target, 0o666, major, minor) {
            Err(e) if e.errno == nix::errno::Errno::EPERM => {
                sys::bind_target(&target).step("create a device node in /dev")?;
                sys::bind(&host_dev.join(name), &target, false)
                    .step("bind a device node into /dev")?;
            }
            other => other.step("create a device node in /dev")?,
        }
    }
    for (name, target) in LINKS {
        sys::symlink(target, &dev.join(name)).step("create the links in /dev")?;
    }
    let pts = dev.join("pts");
    sys::mkdir(&pts, 0o755).step("create /dev/pts")?;
    sys::mount_devpts(&pts).step("mount /dev/pts")?;
    // A directory of /dev's tmpfs, everyone's to write, as its own tmpfs would be.
    let shm = dev.join("shm");
    sys::mkdir(&shm, 0o1777).step("create /dev/shm")?;
    sys::chmod(&shm, 0o1777).step("create /dev/shm")?;
    for device in extra {
        bind_device(dev, host_dev, device)?;
    }
    Ok(())
}

/// Devices a `devices` entry may name that the host has no node for until their module is
/// loaded (a fresh VM, a minimal distribution): path under /dev, number, mode, module. Opening
/// a node made with these numbers loads the module, as it does for Docker's `--device`.
/// Rootless, there is no mknod: the last field is what to do then.
const ON_DEMAND: [(&str, u32, u32, u32, &str); 2] = [
    (
        "net/tun",
        10,
        200,
        0o666,
        "find a `devices` entry on the host (load its module: `sudo modprobe tun`)",
    ),
    (
        "fuse",
        10,
        229,
        0o666,
        "find a `devices` entry on the host (load its module: `sudo modprobe fuse`)",
    ),
];

/// One `devices` entry, `/dev/net/tun` say: the host's node at the same place in our /dev, or,
/// when the host has none yet, a node of our own for a device its kernel loads on demand.
fn bind_device(dev: &Path, host_dev: &Path, device: &Path) -> Result<(), SetupError> {
    let relative = device.strip_prefix("/dev").unwrap_or(device);
    let source = host_dev.join(relative);
    let target = dev.join(relative);
    let on_demand = ON_DEMAND.iter().find(|d| Path::new(d.0) == relative);
    if let Some(parent) = target.parent() {
        sys::mkdir_all(parent).step("create a directory for a `devices` entry")?;
    }
    if !source.exists() {
        let missing = sys::SysError::at("stat", device, nix::errno::Errno::ENOENT);
        let Some(&(_, major, minor, mode, rootless)) = on_demand else {
            return Err(missing)
                .step("find a `devices` entry on the host (load its kernel module?)");
        };
        return match sys::make_char_device(&target, mode, major, minor) {
            Err(e) if e.errno == nix::errno::Errno::EPERM => Err(missing).step(rootless),
            other => other.step("create a `devices` entry the host has no node for yet"),
        };
    }
    sys::bind_target(&target).step("create a `devices` entry")?;
    sys::bind(&source, &target, false).step("bind a `devices` entry into /dev")
}
