//! The zygote's side: a loop that forks one test environment per request.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::wire::{Reply, Request};
use super::{Kind, SOCKET_FD};
use crate::child::REPORT_FD;
use crate::report::Message;
use crate::sys::{self, ChildSetup, FdMap, NamespacePair, Namespaces, Sibling};

/// Where a test's PID 1 finds the user and network namespaces the zygote made for it.
const PAIR_FDS: (RawFd, RawFd) = (5, 6);

/// The largest request: an environment of this size fits.
const MAX_REQUEST: usize = 256 * 1024;

/// Serves the runner's requests until it closes the socket; never returns.
pub(crate) fn serve(kind: Kind) -> ! {
    // SAFETY: the runner installed the socket at SOCKET_FD for this process alone.
    let socket = unsafe { OwnedFd::from_raw_fd(SOCKET_FD) };
    if kind == Kind::Filtered {
        // Once here rather than in every test (the runner sends only tests it fits).
        crate::child::syscall_filter::install_in_zygote();
    }
    let mut buf = vec![0u8; MAX_REQUEST];
    // The namespaces of the next test that needs a pair, made while the runner waits for the
    // current one.
    let mut ahead: Option<NamespacePair> = None;
    loop {
        let (len, fds) = match sys::recv_with_fds(socket.as_fd(), &mut buf) {
            Ok(Some(message)) => message,
            // EOF: the runner thread is done with us.
            Ok(None) => sys::exit_now(0),
            Err(e) => {
                eprintln!("isolated: zygote: {e}");
                sys::exit_now(1)
            }
        };
        let request = match Request::decode(&buf[..len]) {
            Ok(request) => request,
            Err(e) => {
                eprintln!("isolated: zygote: a garbled request: {e}");
                sys::exit_now(1)
            }
        };
        // Made now if there is none ahead; on a failure, the test's PID 1 makes its own and
        // says what went wrong.
        let pair = match request.pair {
            true => ahead
                .take()
                .or_else(|| sys::make_namespace_pair_ahead().ok()),
            false => None,
        };
        let (reply, pidfd) = fork_one(&request, fds, pair.as_ref());
        // The test has its own copies now.
        drop(pair);
        let attached: Vec<RawFd> = pidfd.iter().map(|fd| fd.as_raw_fd()).collect();
        if sys::send_with_fds(socket.as_fd(), &reply.encode(), &attached).is_err() {
            sys::exit_now(1)
        }
        if request.pair && ahead.is_none() {
            ahead = sys::make_namespace_pair_ahead().ok();
        }
    }
}

/// Forks the test environment `request` asks for, handing it `pair` at [`PAIR_FDS`]; in the
/// zygote, returns the reply.
fn fork_one(
    request: &Request,
    fds: Vec<OwnedFd>,
    pair: Option<&NamespacePair>,
) -> (Reply, Option<OwnedFd>) {
    let failed = |op: &str, errno: i32| {
        (
            Reply::Failed {
                op: op.to_string(),
                errno,
            },
            None,
        )
    };
    if fds.len() < request.targets.len() || request.targets.len() > sys::MAX_FDS {
        return failed("receive the test's descriptors", libc::EBADMSG);
    }
    let (mapped, cgroups) = fds.split_at(request.targets.len());
    let mut maps: Vec<FdMap> = mapped
        .iter()
        .zip(&request.targets)
        .map(|(fd, &target)| FdMap {
            source: fd.as_raw_fd(),
            target,
        })
        .collect();
    if let Some(pair) = pair {
        let (user, network) = PAIR_FDS;
        maps.push(FdMap {
            source: pair.user.as_raw_fd(),
            target: user,
        });
        maps.push(FdMap {
            source: pair.network.as_raw_fd(),
            target: network,
        });
    }
    let cgroup_procs: Vec<RawFd> = cgroups.iter().map(|fd| fd.as_raw_fd()).collect();
    // SAFETY: the zygote is single-threaded (an exec'd process that started no thread), and
    // neither it nor the child relies on the cached thread id (see `clone_sibling`).
    match unsafe { sys::clone_sibling(Namespaces::from_bits(request.namespaces)) } {
        Ok(Sibling::Caller { pid, pidfd }) => (Reply::Started { pid }, Some(pidfd)),
        Ok(Sibling::Child) => become_the_test(request, &maps, &cgroup_procs, pair.is_some()),
        Err(e) => failed(e.op, e.errno as i32),
    }
}

/// The new process: set up like an exec'd one, then run the test's PID 1.
fn become_the_test(request: &Request, fds: &[FdMap], cgroup_procs: &[RawFd], pair: bool) -> ! {
    let (uid_map, gid_map) = match &request.user {
        Some((uid, gid)) => (uid.as_ptr(), gid.as_ptr()),
        None => (std::ptr::null(), std::ptr::null()),
    };
    let setup = ChildSetup {
        uid_map,
        gid_map,
        cgroup_procs: cgroup_procs.as_ptr(),
        ncgroup_procs: cgroup_procs.len(),
        fds: fds.as_ptr(),
        nfds: fds.len(),
        close_from: sys::close_from(fds),
    };
    // SAFETY: every pointer is into `request`, `fds` or `cgroup_procs`, alive until we exit.
    if let Err(op) = unsafe { setup.apply() } {
        let error = std::io::Error::last_os_error();
        report_failure(fds, op, error);
    }
    if pair {
        let (user, network) = PAIR_FDS;
        // SAFETY: `apply` installed the pair at these descriptors, for this process alone.
        unsafe { sys::adopt_namespace_pair(user, network) };
    }
    replace_environment(&request.envp);
    // `/proc/self/environ` as after an exec with it. Only looks: on a kernel without
    // checkpoint/restore it keeps showing the zygote's.
    let _ = crate::sys::show_environment(&request.envp);
    crate::child::run_if_child();
    // The request had no test in it.
    sys::exit_now(127)
}

/// Tells the runner, on the report pipe, that the new process could not be set up.
fn report_failure(fds: &[FdMap], op: &str, error: std::io::Error) -> ! {
    // Until descriptors moved, the report pipe is at its source; after, at its target.
    let report = fds.iter().find(|m| m.target == REPORT_FD);
    let fd = match (op, report) {
        (
            "prctl(PR_SET_PDEATHSIG)" | "write(/proc/self/uid_map)" | "write(cgroup.procs)",
            Some(m),
        ) => m.source,
        (_, Some(_)) => REPORT_FD,
        (_, None) => sys::exit_now(127),
    };
    let message = Message::SetupFailed {
        step: "start the test environment".to_string(),
        error: format!("{op}: {error}"),
    };
    // SAFETY: `fd` is the report pipe, open in this process; `ManuallyDrop` leaves it open.
    let mut file = std::mem::ManuallyDrop::new(unsafe { File::from_raw_fd(fd) });
    let _ = message.send(&mut *file);
    sys::exit_now(1)
}

/// Makes `envp` this process's whole environment, as an exec with it would have.
fn replace_environment(envp: &[CString]) {
    for (key, _) in std::env::vars_os() {
        std::env::remove_var(key);
    }
    for var in envp {
        let var: &CStr = var;
        let bytes = var.to_bytes();
        let (key, value) = match bytes.iter().position(|&b| b == b'=') {
            Some(at) => (&bytes[..at], &bytes[at + 1..]),
            None => (bytes, &[][..]),
        };
        use std::os::unix::ffi::OsStrExt;
        if !key.is_empty() {
            std::env::set_var(
                std::ffi::OsStr::from_bytes(key),
                std::ffi::OsStr::from_bytes(value),
            );
        }
    }
}
