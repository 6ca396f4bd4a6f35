//! Another process's namespaces, opened and joined: how `isolated enter` steps into a kept
//! test's environment.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::error::{Errno, SysError, SysResult};

/// `NS_GET_USERNS` (linux/nsfs.h): the user namespace that owns a namespace.
const NS_GET_USERNS: libc::c_ulong = 0xb701;

/// One namespace of a process: its descriptor, the `CLONE_NEW*` kind, and its name in
/// `/proc/PID/ns/`.
struct Namespace {
    fd: OwnedFd,
    kind: libc::c_int,
    name: &'static str,
}

/// The namespaces of a running process, held open.
pub(crate) struct ProcessNamespaces {
    pid: Namespace,
    user: Namespace,
    /// Mount, network, UTS, IPC and cgroup, in the order they are joined.
    rest: Vec<Namespace>,
}

impl ProcessNamespaces {
    /// Opens the namespaces of process `pid`.
    pub(crate) fn of(pid: i32) -> SysResult<ProcessNamespaces> {
        let open = |name: &'static str, kind| {
            let path = format!("/proc/{pid}/ns/{name}");
            let fd = nix::fcntl::open(
                path.as_str(),
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
                nix::sys::stat::Mode::empty(),
            )
            .map_err(|errno| SysError::at("open", path, errno))?;
            Ok(Namespace { fd, kind, name })
        };
        Ok(ProcessNamespaces {
            pid: open("pid", libc::CLONE_NEWPID)?,
            user: open("user", libc::CLONE_NEWUSER)?,
            rest: vec![
                open("mnt", libc::CLONE_NEWNS)?,
                open("net", libc::CLONE_NEWNET)?,
                open("uts", libc::CLONE_NEWUTS)?,
                open("ipc", libc::CLONE_NEWIPC)?,
                open("cgroup", libc::CLONE_NEWCGROUP)?,
            ],
        })
    }

    /// Joins them all (those this process is not in already): its children start in the PID
    /// namespace. The PID namespace first, from the user namespace that owns it (the runner's
    /// own, rootless); then the user namespace that owns the rest, and the rest. The caller
    /// must be single-threaded (a user namespace demands it).
    pub(crate) fn join(&self) -> SysResult<()> {
        let owner = owner_of(&self.pid)?;
        join_unless_in(&owner)?;
        join_unless_in(&self.pid)?;
        join_unless_in(&self.user)?;
        for namespace in &self.rest {
            join_unless_in(namespace)?;
        }
        Ok(())
    }
}

/// The user namespace that owns `namespace`.
fn owner_of(namespace: &Namespace) -> SysResult<Namespace> {
    // SAFETY: an ioctl on a namespace descriptor, taking no argument.
    let fd = unsafe { libc::ioctl(namespace.fd.as_raw_fd(), NS_GET_USERNS) };
    if fd < 0 {
        return Err(SysError::new("ioctl(NS_GET_USERNS)", Errno::last()));
    }
    Ok(Namespace {
        // SAFETY: the ioctl returned a new descriptor nothing else owns.
        fd: unsafe { OwnedFd::from_raw_fd(fd) },
        kind: libc::CLONE_NEWUSER,
        name: "user",
    })
}

/// `setns` into `namespace`, unless this process is in it already (joining one's own user
/// namespace is an error).
fn join_unless_in(namespace: &Namespace) -> SysResult<()> {
    let ours = Path::new("/proc/self/ns").join(namespace.name);
    let id = |m: std::fs::Metadata| (m.dev(), m.ino());
    let current = std::fs::metadata(&ours).map(id).ok();
    let target = std::fs::File::from(namespace.fd.try_clone().map_err(|e| {
        SysError::new(
            "dup",
            Errno::from_raw(e.raw_os_error().unwrap_or(libc::EBADF)),
        )
    })?)
    .metadata()
    .map(id)
    .ok();
    if current.is_some() && current == target {
        return Ok(());
    }
    // SAFETY: setns with an open namespace descriptor and its kind.
    match unsafe { libc::setns(namespace.fd.as_raw_fd(), namespace.kind) } {
        0 => Ok(()),
        _ => Err(SysError::at(
            "setns",
            format!("{} namespace", namespace.name),
            Errno::last(),
        )),
    }
}
