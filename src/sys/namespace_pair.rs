//! A test's user namespace and the network namespace it owns, made together by a short-lived
//! helper process and held open by descriptors once it is gone.
//!
//! Under real root the maker writes the identity map (`0 0 4294967295`) for the helper while
//! the helper waits, stopped, in the new namespace: a map other than "myself" needs a writer in
//! the namespace above, with `CAP_SETUID` and `CAP_SETGID` there. Rootless, the helper maps
//! root to its own id itself, the one map a process may write for itself.
//!
//! A zygote makes the pair for its next test ahead ([`make_ahead`]), while the runner waits for
//! the current one: the namespaces' creation (a network namespace is one of the dearest
//! steps of a test) is then off the test's path. The test's PID 1 finds it at fixed
//! descriptors ([`adopt`]); a PID 1 started by exec makes its own.

use std::ffi::c_int;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Mutex;

use super::error::{Errno, SysError, SysResult};

/// Who maps the new user namespace's ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdMap {
    /// Every id, one to one ([`super::IDENTITY_MAP`]), written by the maker: real root.
    Identity,
    /// Root to the maker's own id ([`super::ROOT_ONLY_MAP`] inside a rootless namespace),
    /// written by the helper itself.
    RootAsSelf,
}

/// A user namespace and a network namespace it owns.
#[derive(Debug)]
pub(crate) struct NamespacePair {
    pub user: OwnedFd,
    pub network: OwnedFd,
}

/// The pair a zygote made for the test it forked, found by the test's PID 1.
static ADOPTED: Mutex<Option<NamespacePair>> = Mutex::new(None);

/// Makes a pair for a later test: in a zygote, running as real root.
pub(crate) fn make_ahead() -> SysResult<NamespacePair> {
    NamespacePair::make(IdMap::Identity)
}

/// Takes the pair installed at `user` and `network` (a zygote's, see [`make_ahead`]) as this
/// process's, for [`take_adopted`].
///
/// # Safety
/// Both descriptors must be open and owned by nobody else.
pub(crate) unsafe fn adopt(user: c_int, network: c_int) {
    // SAFETY: the caller's contract.
    let pair = unsafe {
        NamespacePair {
            user: OwnedFd::from_raw_fd(user),
            network: OwnedFd::from_raw_fd(network),
        }
    };
    *ADOPTED.lock().unwrap_or_else(|e| e.into_inner()) = Some(pair);
}

/// The pair [`adopt`]ed, if any.
pub(super) fn take_adopted() -> Option<NamespacePair> {
    ADOPTED.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// What the helper is given and leaves behind, in memory it shares with its maker.
#[repr(C)]
struct HelperArgs {
    map: IdMap,
    /// The maker's pid, as the helper sees its parent while the maker lives.
    maker: libc::pid_t,
    user: c_int,
    network: c_int,
    /// Under root, the helper's `/proc/self`, for its maker to write its maps: a pid would
    /// need translating (the helper may be in a PID namespace the maker's /proc does not show).
    proc_dir: c_int,
    failed_op: &'static str,
    errno: c_int,
}

impl NamespacePair {
    /// Makes the pair through a helper: a child sharing this process's memory and descriptor
    /// table, which opens both namespaces and exits. The caller must be single-threaded or
    /// hold no lock the helper could need (it only makes raw system calls).
    pub(super) fn make(map: IdMap) -> SysResult<NamespacePair> {
        let mut args = HelperArgs {
            map,
            // SAFETY: getpid has no preconditions.
            maker: unsafe { libc::getpid() },
            user: -1,
            network: -1,
            proc_dir: -1,
            failed_op: "",
            errno: 0,
        };
        // Not zeroed: a stack needs no initial contents, and this is made once per test.
        let mut stack: Box<[std::mem::MaybeUninit<u8>]> = Box::new_uninit_slice(64 * 1024);
        // SAFETY: one past the end of the buffer, which the stack grows down from.
        let top = unsafe { stack.as_mut_ptr().add(stack.len()) };
        let top = (top as usize & !15) as *mut libc::c_void;
        let flags = libc::CLONE_NEWUSER
            | libc::CLONE_NEWNET
            | libc::CLONE_VM
            | libc::CLONE_FILES
            | libc::SIGCHLD;
        // SAFETY: `helper_main` makes only raw system calls and returns; the stack and `args`
        // outlive it: this function reaps the helper before it returns.
        let pid = unsafe {
            libc::clone(
                helper_main,
                top,
                flags,
                &mut args as *mut HelperArgs as *mut libc::c_void,
            )
        };
        if pid < 0 {
            return Err(SysError::new(
                "clone(CLONE_NEWUSER|CLONE_NEWNET)",
                Errno::last(),
            ));
        }
        let args_ptr: *const HelperArgs = &args;
        let mapped = match map {
            IdMap::Identity => map_stopped_helper(pid, args_ptr),
            IdMap::RootAsSelf => Ok(()),
        };
        reap(pid);
        drop(stack);
        // The helper wrote these behind the compiler's back: read them again.
        // SAFETY: `args` is alive and no longer written (the helper is reaped).
        let args = unsafe { std::ptr::read_volatile(args_ptr) };
        // SAFETY: descriptors the helper opened in the table it shared with us; nothing else
        // owns them.
        let own = |fd: c_int| (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let (user, network) = (own(args.user), own(args.network));
        drop(own(args.proc_dir));
        mapped?;
        match (user, network, args.errno) {
            (Some(user), Some(network), 0) => Ok(NamespacePair { user, network }),
            (_, _, errno) => Err(SysError::new(args.failed_op, Errno::from_raw(errno))),
        }
    }
}

/// Waits for the helper to stop itself in its new namespace, writes its identity map from
/// here (the namespace above) and kills it; or, if it failed first, leaves it to be reaped.
fn map_stopped_helper(pid: libc::pid_t, args: *const HelperArgs) -> SysResult<()> {
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid status pointer.
    let waited = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED | libc::__WALL) };
    if waited != pid || !libc::WIFSTOPPED(status) {
        // It exited after a failure it recorded; `reap` finds it gone already.
        return Ok(());
    }
    // Written by the helper before it stopped; a reference would let the compiler read it
    // before the wait.
    // SAFETY: `args` points to the maker's live `HelperArgs`; the helper is stopped.
    let proc_dir = unsafe { std::ptr::read_volatile(&raw const (*args).proc_dir) };
    let mapped = write_identity_maps(proc_dir);
    // SAFETY: kill of our own stopped child; its work is done (the descriptors are open).
    unsafe { libc::kill(pid, libc::SIGKILL) };
    mapped
}

/// The identity map into the uid and gid maps of the process whose `/proc` directory is
/// `proc_dir`, opened by us (the kernel checks the opener's privileges over the namespace above).
fn write_identity_maps(proc_dir: c_int) -> SysResult<()> {
    for file in [c"uid_map", c"gid_map"] {
        // SAFETY: openat of a NUL-terminated name in a directory descriptor of ours.
        let fd = unsafe { libc::openat(proc_dir, file.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
        let path = format!("/proc/<helper>/{}", file.to_string_lossy());
        if fd < 0 {
            return Err(SysError::at("open", path, Errno::last()));
        }
        // SAFETY: a descriptor just opened, owned here.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let map = super::IDENTITY_MAP.as_bytes();
        // SAFETY: write of a valid buffer to an open descriptor.
        let written = unsafe { libc::write(fd.as_raw_fd(), map.as_ptr().cast(), map.len()) };
        if written != map.len() as isize {
            return Err(SysError::at("write", path, Errno::last()));
        }
    }
    Ok(())
}

/// Reaps the helper, whatever state it is in.
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: waitpid on our own child with a valid status pointer; ECHILD (reaped already)
    // is fine.
    while unsafe { libc::waitpid(pid, &mut status, libc::__WALL) } < 0
        && Errno::last() == Errno::EINTR
    {}
}

/// The helper: in its new user and network namespaces, maps itself (rootless) and opens both
/// namespaces for its maker, then (under root) stops until the maker has mapped it. Raw system
/// calls only: it shares the maker's memory, thread pointer included (glibc's `raise` would
/// signal the maker).
extern "C" fn helper_main(arg: *mut libc::c_void) -> c_int {
    // SAFETY: `arg` is the `HelperArgs` the maker passed, alive until we are reaped.
    let args = unsafe { &mut *(arg as *mut HelperArgs) };
    let fail = |args: &mut HelperArgs, op: &'static str| {
        args.failed_op = op;
        args.errno = Errno::last_raw();
        1
    };
    // A maker that dies (a zygote killed at the end of a run) takes the helper along, even a
    // stopped one; one that died already is the reason to stop now.
    // SAFETY: prctl and getppid are raw system calls.
    unsafe {
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0
            || libc::syscall(libc::SYS_getppid) as libc::pid_t != args.maker
        {
            return fail(args, "prctl(PR_SET_PDEATHSIG)");
        }
    }
    if args.map == IdMap::RootAsSelf {
        // Denied already (inherited from the namespace above); a self-made gid_map needs it.
        let _ = write_file(c"/proc/self/setgroups", b"deny");
        if !write_file(c"/proc/self/uid_map", super::ROOT_ONLY_MAP.as_bytes()) {
            return fail(args, "write(/proc/self/uid_map)");
        }
        if !write_file(c"/proc/self/gid_map", super::ROOT_ONLY_MAP.as_bytes()) {
            return fail(args, "write(/proc/self/gid_map)");
        }
    }
    let open = |path: &std::ffi::CStr| {
        // SAFETY: open(2) of a NUL-terminated path.
        unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) }
    };
    args.user = open(c"/proc/self/ns/user");
    if args.user < 0 {
        return fail(args, "open(/proc/self/ns/user)");
    }
    args.network = open(c"/proc/self/ns/net");
    if args.network < 0 {
        return fail(args, "open(/proc/self/ns/net)");
    }
    if args.map == IdMap::Identity {
        args.proc_dir = open(c"/proc/self");
        if args.proc_dir < 0 {
            return fail(args, "open(/proc/self)");
        }
        // SAFETY: raw getpid and kill: stop here until the maker has written our map.
        unsafe {
            libc::kill(
                libc::syscall(libc::SYS_getpid) as libc::pid_t,
                libc::SIGSTOP,
            )
        };
    }
    0
}

/// `open` + `write` + `close`, async-signal-safe; whether all of `data` was written.
fn write_file(path: &std::ffi::CStr, data: &[u8]) -> bool {
    // SAFETY: open/write/close of a NUL-terminated path with a valid buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let written = libc::write(fd, data.as_ptr().cast(), data.len());
        libc::close(fd);
        written == data.len() as isize
    }
}
