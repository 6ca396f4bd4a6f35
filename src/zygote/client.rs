//! The runner's side: starting a zygote, asking it for test environments.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};

use super::wire::{Reply, Request};
use super::{Kind, SOCKET_FD, ZYGOTE_VAR};
use crate::sys::{self, Child, Errno, FdMap, Namespaces, Spawn, SysError, SysResult};

/// A running zygote: dropping it closes its socket (it exits) and reaps it.
#[derive(Debug)]
pub(crate) struct Zygote {
    // In this order: the zygote sees EOF before `Child`'s drop kills and reaps it.
    socket: OwnedFd,
    _process: Child,
}

impl Zygote {
    /// Starts a zygote of `kind`: `exe` again, with the runner's environment, stderr and no
    /// stdout.
    pub(crate) fn start(exe: &CStr, argv: &[CString], kind: Kind) -> SysResult<Zygote> {
        let (ours, theirs) = sys::socketpair()?;
        let devnull = sys::open_devnull()?;
        let fds = [
            FdMap {
                source: devnull.as_raw_fd(),
                target: 0,
            },
            // Its stdout is nextest's and libtest's: it writes nothing but errors, to stderr.
            FdMap {
                source: 2,
                target: 1,
            },
            FdMap {
                source: 2,
                target: 2,
            },
            FdMap {
                source: theirs.as_raw_fd(),
                target: SOCKET_FD,
            },
        ];
        let mut envp: Vec<CString> = std::env::vars_os()
            .filter_map(|(k, v)| {
                use std::os::unix::ffi::OsStrExt;
                let mut var = k.as_bytes().to_vec();
                var.push(b'=');
                var.extend_from_slice(v.as_bytes());
                CString::new(var).ok()
            })
            .collect();
        envp.push(CString::new(format!("{ZYGOTE_VAR}={}", kind.value())).expect("no NUL"));
        let process = sys::spawn_in_namespaces(&Spawn {
            exe,
            argv,
            envp: &envp,
            fds: &fds,
            namespaces: Namespaces::none(),
            user: None,
            cgroup_procs: &[],
            namespace_pair: false,
        })?;
        Ok(Zygote {
            socket: ours,
            _process: process,
        })
    }

    /// Has the zygote start what `spawn` describes (its `exe` and `argv` are the zygote's).
    /// An error with `EPIPE` or `ECONNRESET` means the zygote is gone: start another.
    pub(crate) fn spawn(&self, spawn: &Spawn<'_>) -> SysResult<Child> {
        let request = Request {
            namespaces: spawn.namespaces.bits(),
            user: spawn.user.map(|u| {
                let (uid, gid) = u.maps();
                (uid.to_owned(), gid.to_owned())
            }),
            targets: spawn.fds.iter().map(|m| m.target).collect(),
            envp: spawn.envp.to_vec(),
            pair: spawn.namespace_pair,
        };
        let attached: Vec<RawFd> = spawn
            .fds
            .iter()
            .map(|m| m.source)
            .chain(spawn.cgroup_procs.iter().copied())
            .collect();
        sys::send_with_fds(self.socket.as_fd(), &request.encode(), &attached)?;
        let mut buf = [0u8; 512];
        let Some((len, mut fds)) = sys::recv_with_fds(self.socket.as_fd(), &mut buf)? else {
            return Err(SysError::new(
                "recvmsg(zygote): the zygote is gone",
                Errno::ECONNRESET,
            ));
        };
        let reply = Reply::decode(&buf[..len])
            .map_err(|_| SysError::new("recvmsg(zygote): a garbled reply", Errno::EBADMSG))?;
        match (reply, fds.pop()) {
            (Reply::Started { pid }, Some(pidfd)) if fds.is_empty() => Ok(Child::adopt(pidfd, pid)),
            (Reply::Started { .. }, _) => Err(SysError::new(
                "recvmsg(zygote): a reply without its pidfd",
                Errno::EBADMSG,
            )),
            (Reply::Failed { op, errno }, _) => {
                Err(SysError::new(static_op(&op), Errno::from_raw(errno)))
            }
        }
    }
}

/// The zygote's failed call, as the `'static` name [`SysError`] holds.
fn static_op(op: &str) -> &'static str {
    if op.starts_with("clone3") {
        "clone3(CLONE_PARENT|CLONE_PIDFD|CLONE_NEW…)"
    } else {
        "zygote: receive the test's descriptors"
    }
}
