//! The setup checklist, after bubblewrap: private mounts; a scratch tmpfs becomes the root for
//! a moment, with the host's root below it at /oldroot, and the test's root is mounted at
//! /newroot from paths under /oldroot. The second pivot makes /newroot the root and parks the
//! scratch (host root inside) at the new root's /tmp, so every mount target from then on
//! resolves inside the new root, symlinks included: a fixture's `/etc/hosts -> /etc/static/hosts`
//! lands in the fixture. Last, the parked scratch is detached and /tmp gets its fresh tmpfs.
//!
//! [`build`] runs before the test's own namespaces exist, so that everything it mounts is
//! locked in them; [`finish`] runs inside them: what belongs to the test's own network and
//! UTS namespaces.

use std::path::{Path, PathBuf};

use super::error::{SetupError, Step};
use super::network;
use super::{dev, host_root, kernel_fs};
use crate::plan::{Bind, BindKind, Network, Plan, Root};
use crate::sys::{self, DetachedTree, MsFlags};

/// Where the scratch tmpfs goes before the first pivot (shadowing /tmp in our namespace only).
const SCRATCH: &str = "/tmp";
/// Where the scratch is parked after the second pivot: the new root's /tmp.
const PARKED: &str = "/tmp";
/// Where the layers of the test's root are, read-only, `0` the topmost (see [`expose_layers`]).
/// On a path: a network node's overlay must find its lowers in its own mount namespace, which
/// a descriptor opened in the test's cannot give (overlayfs refuses layers of another one).
pub(crate) const LAYERS: &str = "/run/isolated/layers";
/// Directories of the scratch tmpfs that become the test's /dev, /run, and the /run below it
/// that hides a spare procfs.
const SCRATCH_DEV: &str = "dev";
const SCRATCH_RUN: &str = "run";
const SCRATCH_SPARE: &str = "spare";
/// Mounts of the host that `rootfs = "host"` must not keep below its fresh replacements.
const HOST_SUBMOUNTS: [&str; 5] = ["proc", "sys", "dev", "tmp", "run"];

/// Builds the test's root filesystem and makes it `/`. `rootless`: PID 1 is in a user
/// namespace of its own already (see [`kernel_fs::mount`]).
pub(crate) fn build(plan: &Plan, rootless: bool) -> Result<(), SetupError> {
    // Nothing mounted from here on may propagate to the host's mount namespace.
    sys::make_rprivate(Path::new("/")).step("make the mount tree private")?;
    build_scratch(plan)?;
    // The scratch tmpfs becomes the root for a moment; the host's root stays at /oldroot.
    sys::pivot_root(Path::new(SCRATCH), &Path::new(SCRATCH).join("oldroot"))
        .step("pivot into the scratch tmpfs")?;
    sys::chdir(Path::new("/")).step("change into the scratch root")?;

    let root = mount_root(&plan.root)?;
    // The new root becomes `/`; the scratch, with the host's root inside, waits at /tmp.
    sys::mkdir(Path::new("/newroot/tmp"), 0o1777).step("create /tmp")?;
    sys::pivot_root(Path::new("/newroot"), Path::new("/newroot/tmp"))
        .step("pivot into the new root")?;
    sys::chdir(Path::new("/")).step("change into the new root")?;

    kernel_fs::mount(plan.network == Network::Host || rootless)?;
    let host_dev = Path::new(PARKED).join("oldroot/dev");
    dev::populate(&parked(SCRATCH_DEV), &host_dev, &plan.devices)?;
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    let run = Path::new("/run");
    // A hidden, uncovered procfs below /run (see `mount_spare_proc`), then /run over it.
    let bind_run = |source: &str| sys::bind_with_flags(&parked(source), run, flags);
    with_mountpoint(run, |_| bind_run(SCRATCH_SPARE)).step("mount /run")?;
    kernel_fs::mount_spare_proc(run)?;
    bind_run(SCRATCH_RUN).step("mount /run")?;
    expose_layers(&root, Path::new(LAYERS))?;
    for name in ["hosts", "resolv.conf"] {
        install_etc_file(name)?;
    }
    // Copies of what is bound in, taken while the host's root is still reachable...
    let binds: Vec<_> = plan
        .binds
        .iter()
        .enumerate()
        .map(|(i, bind)| copy_bind_source(bind, i).map(|tree| (bind, tree)))
        .collect::<Result<_, _>>()?;
    // Nothing of the host is needed any more: detach the scratch and the host's root with it.
    sys::detach(Path::new(PARKED)).step("detach the host's root")?;
    sys::mount_tmpfs(Path::new("/tmp"), flags, "mode=1777").step("mount /tmp")?;
    // ...and attached once every fresh filesystem is in place, so a target under /tmp stays.
    for (bind, tree) in binds {
        attach_bind(bind, tree)?;
    }
    sys::chdir(&plan.workdir).step("change into the test crate's directory")
}

/// A /sys that shows the test's own network namespace, mounted once PID 1 is in it (and, for
/// a confined test, before its user namespace locks the mounts: see `sys/unshare.rs`).
pub(crate) fn mount_own_sysfs(plan: &Plan) -> Result<(), SetupError> {
    match plan.network {
        Network::Host => Ok(()),
        _ => kernel_fs::mount_own_sysfs(),
    }
}

/// A path in the parked scratch tmpfs.
fn parked(name: &str) -> PathBuf {
    Path::new(PARKED).join(name)
}

/// Inside the test's own namespaces: its hostname, its network.
pub(crate) fn finish(plan: &Plan) -> Result<(), SetupError> {
    sys::sethostname(&plan.hostname).step("set the hostname")?;
    network::configure(&plan.network)
}

/// The scratch tmpfs: mount points for both roots, the overlay's writable layer, /etc/hosts,
/// and what becomes the test's /dev and /run (directories of one tmpfs, bound in: a
/// filesystem of their own each would cost a superblock to make and to tear down, per test).
fn build_scratch(plan: &Plan) -> Result<(), SetupError> {
    let scratch = Path::new(SCRATCH);
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    sys::mount_tmpfs(scratch, flags, "mode=0755").step("mount the scratch tmpfs")?;
    for dir in [
        "newroot",
        "oldroot",
        "upper",
        "work",
        SCRATCH_DEV,
        SCRATCH_RUN,
    ] {
        sys::mkdir(&scratch.join(dir), 0o755).step("create scratch directories")?;
    }
    sys::mkdir(&scratch.join(SCRATCH_SPARE), 0o755).step("create scratch directories")?;
    sys::write_file(&scratch.join("hosts"), plan.hosts.as_bytes()).step("write /etc/hosts")?;
    sys::write_file(&scratch.join("resolv.conf"), plan.resolv_conf.as_bytes())
        .step("write /etc/resolv.conf")
}

/// Mounts the test's root at /newroot (in the scratch root, the host's root at /oldroot).
fn mount_root(root: &Root) -> Result<Root, SetupError> {
    let newroot = Path::new("/newroot");
    match root {
        Root::Overlay { lowers } => {
            // Copy-on-write: the fixture stays untouched, writes land in the scratch tmpfs.
            let lowers: Vec<_> = lowers.iter().map(|l| host_path("/oldroot", l)).collect();
            sys::mount_overlay(&lowers, Path::new("/upper"), Path::new("/work"), newroot)
                .step("mount the overlay root filesystem")?;
            Ok(root.clone())
        }
        Root::Host => match host_root::mount(newroot)? {
            true => Ok(Root::Host),
            // Rootless, the host's root has locked submounts, and overlayfs takes no such
            // lower layer: the host's root read-only, then.
            false => mount_host_read_only(newroot).map(|()| Root::HostReadOnly),
        },
        Root::HostReadOnly => mount_host_read_only(newroot).map(|()| Root::HostReadOnly),
    }
}

/// The host's whole mount tree at `newroot`, read-only, without its kernel filesystems.
fn mount_host_read_only(newroot: &Path) -> Result<(), SetupError> {
    // The host's whole mount tree, read-only at every level...
    sys::bind(Path::new("/oldroot"), newroot, true).step("bind the host's root")?;
    sys::set_readonly(newroot, true, true).step("make the host's root read-only")?;
    // ...but not the host's /proc, /dev, /tmp, …: fresh ones replace them, and the host's
    // must not stay reachable below (by unmounting the fresh one, say).
    for dir in HOST_SUBMOUNTS {
        match sys::detach(&newroot.join(dir)) {
            Err(e) if e.errno != nix::errno::Errno::EINVAL => {
                return Err(e).step("detach the host's kernel filesystems")
            }
            _ => {}
        }
    }
    Ok(())
}

/// The layers of the test's root, read-only at `dir/0`, `/1`, … (topmost first), for the
/// network nodes a test starts: a node's overlay shares them as its lowers instead of stacking
/// on the test's overlay (the kernel refuses a lower with locked mounts on it, and limits
/// stacking to two). For an overlay root they are the test's writable layer and the fixture's;
/// for the host's root, its root filesystem alone.
fn expose_layers(root: &Root, dir: &Path) -> Result<(), SetupError> {
    let parked = |p: &str| Path::new(PARKED).join(p);
    let sources: Vec<PathBuf> = match root {
        Root::Overlay { lowers } => std::iter::once(parked("upper"))
            .chain(
                lowers
                    .iter()
                    .map(|l| host_path(&format!("{PARKED}/oldroot"), l)),
            )
            .collect(),
        Root::Host => vec![
            parked(host_root::ROOT_UPPER.trim_start_matches('/')),
            parked("oldroot"),
        ],
        Root::HostReadOnly => vec![parked("oldroot")],
    };
    for (i, source) in sources.iter().enumerate() {
        let target = dir.join(i.to_string());
        sys::mkdir_all(&target).step("create the layers' mount points")?;
        // Rootless, the host's root has locked submounts, which only a recursive bind takes
        // along (a network node then cannot use it as a lower: overlayfs refuses that too).
        let recursive = match sys::bind(source, &target, false) {
            Err(e) if e.errno == nix::errno::Errno::EINVAL => {
                sys::bind(source, &target, true).step("expose a layer of the root")?;
                true
            }
            other => other.step("expose a layer of the root").map(|()| false)?,
        };
        sys::set_readonly(&target, true, recursive).step("make a layer read-only")?;
    }
    Ok(())
}

/// A host path as reached through the host's root mounted at `host_root`.
fn host_path(host_root: &str, path: &Path) -> PathBuf {
    Path::new(host_root).join(path.strip_prefix("/").unwrap_or(path))
}

/// A read-only copy of a bind's source (its symlinks resolved by the caller, on the host), to
/// be attached after the host's root is gone.
fn copy_bind_source(bind: &Bind, index: usize) -> Result<DetachedTree, SetupError> {
    let source = host_path(&format!("{PARKED}/oldroot"), &bind.source);
    let step = match bind.kind {
        BindKind::Requested => "mount a `bind` source",
        BindKind::CrateDir => "mount the test crate's directory (`crate_dir = false` turns it off)",
        BindKind::Executable => "mount the test's executable",
    };
    if bind.kind == BindKind::CrateDir {
        if let Some(tree) = crate_dir_overlay(&source, index) {
            return Ok(tree);
        }
    }
    DetachedTree::read_only_copy(&source).step(step)
}

/// The crate's directory through a read-only overlay rather than a bind: its files read the
/// same, but a unix socket a host program listens on in the checkout (a dev server's, an
/// agent's) cannot be connected to through it, as through the host root's overlays. `None`
/// where the kernel takes no such lower layer (rootless, a lower with locked mounts): a bind.
fn crate_dir_overlay(source: &Path, index: usize) -> Option<DetachedTree> {
    let stage = Path::new(PARKED).join(format!("crate-{index}"));
    let empty = Path::new(PARKED).join("empty");
    sys::mkdir_all(&stage).ok()?;
    sys::mkdir_all(&empty).ok()?;
    sys::mount_overlay_read_only(&[source.to_path_buf(), empty], &stage).ok()?;
    DetachedTree::read_only_copy(&stage).ok()
}

/// The copy at the bind's target, which is created in the new root when missing.
fn attach_bind(bind: &Bind, tree: DetachedTree) -> Result<(), SetupError> {
    let is_dir = tree.is_dir();
    let step = match bind.kind {
        BindKind::Requested => "create a `bind` target",
        BindKind::CrateDir => "create the test crate's directory",
        BindKind::Executable => "create the test's executable's path",
    };
    sys::mount_target(&bind.target, is_dir).step(step)?;
    tree.attach(&bind.target).step(step)
}

/// Our `/etc/NAME` (hosts, resolv.conf), from the parked scratch, over the root's: in any
/// rootfs, even a read-only one. Where the root has a symlink there (`resolv.conf ->
/// /run/systemd/resolve/stub-resolv.conf`), the file goes where the link points, inside the
/// new root.
fn install_etc_file(name: &str) -> Result<(), SetupError> {
    let source = Path::new(PARKED).join(name);
    let target = sys::follow_links(&Path::new("/etc").join(name));
    match sys::mount_target(&target, false) {
        // Rootless, on a fixture a run as root unpacked: its files are root's, not ours.
        Err(e) if e.errno == nix::errno::Errno::EACCES => Err(e).step(
            "create a file in /etc (the fixture's files belong to another user, as when a run \
             as root unpacked it: give this user's runs a cache of their own, \
             ISOLATED_CACHE_DIR=$HOME/.cache/isolated)",
        )?,
        other => other.step("create a file in /etc")?,
    }
    sys::bind(&source, &target, false).step("mount a file over /etc")
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
