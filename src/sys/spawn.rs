//! Starting a child in new namespaces without forking the (large, multi-threaded) runner.
//!
//! `clone(CLONE_VM | CLONE_VFORK | CLONE_NEW*)` runs the child on a small stack of its own in
//! the parent's memory until it execs, like `posix_spawn` does: the cost stays flat however
//! much memory the runner has touched, where a `fork()` copies its page tables.

use std::ffi::{c_int, c_void, CStr, CString};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};

use super::error::{Context, Errno, SysError, SysResult};
use super::process::ChildStatus;

/// The namespaces a test's PID 1 starts in: the ones it builds the sandbox in.
///
/// The test's own user, mount, network, UTS, IPC and cgroup namespaces come later, from
/// PID 1 itself once the sandbox is built (see [`TestNamespaces`](super::TestNamespaces)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Namespaces(c_int);

impl Namespaces {
    /// New mount and PID namespaces; and when running rootless, a user namespace, where it
    /// gives PID 1 the privileges to build the sandbox, with a network namespace it owns (a
    /// sysfs can only be mounted by an owner of the network namespace it shows).
    pub(crate) fn for_sandbox(own_user: bool) -> Namespaces {
        let mut flags = libc::CLONE_NEWNS | libc::CLONE_NEWPID;
        if own_user {
            flags |= libc::CLONE_NEWUSER | libc::CLONE_NEWNET;
        }
        Namespaces(flags)
    }

    /// No new namespace: a plain child process.
    pub(crate) fn none() -> Namespaces {
        Namespaces(0)
    }

    /// The `CLONE_NEW*` flags.
    pub(crate) fn bits(self) -> c_int {
        self.0
    }

    /// The namespaces of these `CLONE_NEW*` flags (as [`bits`](Self::bits) gave them).
    pub(crate) fn from_bits(bits: c_int) -> Namespaces {
        Namespaces(bits & NAMESPACE_FLAGS)
    }
}

/// Every flag [`Namespaces`] may hold.
const NAMESPACE_FLAGS: c_int = libc::CLONE_NEWNS
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWCGROUP;

/// Rootless: root inside the new user namespace is this user outside. Written by the child
/// itself right after clone, while it still has every capability in its new namespace (an
/// exec with an unmapped uid would drop them).
#[derive(Debug, Clone)]
pub(crate) struct UserMapping {
    uid_map: CString,
    gid_map: CString,
}

impl UserMapping {
    /// Maps uid and gid 0 inside to the calling process's effective uid and gid outside.
    pub(crate) fn root_as_me() -> UserMapping {
        let line = |id: u32| CString::new(format!("0 {id} 1\n")).expect("no NUL in digits");
        UserMapping {
            uid_map: line(nix::unistd::geteuid().as_raw()),
            gid_map: line(nix::unistd::getegid().as_raw()),
        }
    }

    /// The uid map's and the gid map's text.
    pub(crate) fn maps(&self) -> (&CStr, &CStr) {
        (&self.uid_map, &self.gid_map)
    }
}

/// Everything about starting one child.
pub(crate) struct Spawn<'a> {
    pub exe: &'a CStr,
    pub argv: &'a [CString],
    pub envp: &'a [CString],
    pub fds: &'a [FdMap],
    pub namespaces: Namespaces,
    pub user: Option<&'a UserMapping>,
    /// Open `cgroup.procs` files: the child writes "0" to each before it execs, so it runs
    /// nothing outside its cgroups.
    pub cgroup_procs: &'a [RawFd],
    /// The test makes a user and network namespace pair: a zygote hands over one it made
    /// ahead (an exec'd child makes its own).
    pub namespace_pair: bool,
}

/// "Make `source` the child's file descriptor `target`".
#[derive(Debug, Clone, Copy)]
pub(crate) struct FdMap {
    pub source: RawFd,
    pub target: RawFd,
}

/// A running child, held through a pidfd so its pid can never be confused with a reused one.
///
/// Dropping a child that was not waited for kills and reaps it: whatever path the runner takes,
/// no test environment outlives the code that started it.
#[derive(Debug)]
pub(crate) struct Child {
    pidfd: OwnedFd,
    pid: libc::pid_t,
    reaped: bool,
}

impl Child {
    /// The child behind `pidfd`, which this process must be the parent of (to reap it).
    pub(crate) fn adopt(pidfd: OwnedFd, pid: libc::pid_t) -> Child {
        Child {
            pidfd,
            pid,
            reaped: false,
        }
    }

    /// The pid, in the runner's PID namespace: valid until the child is reaped.
    pub(crate) fn pid(&self) -> libc::pid_t {
        self.pid
    }

    /// The pidfd: becomes readable when the child exits.
    pub(crate) fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Lets the child go on without us: not killed, not waited for (it is reaped by whoever
    /// inherits it when this process exits).
    pub(crate) fn release(mut self) {
        self.reaped = true;
    }

    /// Sends SIGKILL. As PID 1 of its namespace, its death takes every process in it along.
    pub(crate) fn kill(&self) -> SysResult<()> {
        // SAFETY: pidfd_send_signal with a valid pidfd, a signal number and no siginfo.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_pidfd_send_signal,
                self.pidfd.as_raw_fd(),
                libc::SIGKILL,
                std::ptr::null::<libc::siginfo_t>(),
                0,
            )
        };
        match rc {
            0 => Ok(()),
            _ if Errno::last() == Errno::ESRCH => Ok(()),
            _ => Err(SysError::new("pidfd_send_signal(SIGKILL)", Errno::last())),
        }
    }

    /// Reaps the child; blocks until it has exited.
    pub(crate) fn wait(&mut self) -> SysResult<ChildStatus> {
        loop {
            match waitid(Id::PIDFd(self.pidfd.as_fd()), WaitPidFlag::WEXITED) {
                Ok(WaitStatus::Exited(_, code)) => {
                    self.reaped = true;
                    return Ok(ChildStatus::Exited(code));
                }
                Ok(WaitStatus::Signaled(_, sig, _)) => {
                    self.reaped = true;
                    return Ok(ChildStatus::Signaled(sig as i32));
                }
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(errno) => return Err(SysError::new("waitid(P_PIDFD)", errno)),
            }
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.kill();
            let _ = self.wait();
        }
    }
}

/// What the cloned child needs; lives on the parent's stack, shared through CLONE_VM.
struct ChildArgs {
    exe: *const libc::c_char,
    argv: *const *const libc::c_char,
    envp: *const *const libc::c_char,
    fds: *const FdMap,
    nfds: usize,
    /// Every descriptor from this one up is closed before exec.
    close_from: libc::c_uint,
    /// Rootless: the uid and gid maps to write, or null.
    uid_map: *const libc::c_char,
    gid_map: *const libc::c_char,
    cgroup_procs: *const RawFd,
    ncgroup_procs: usize,
    /// Written by the child when a step fails before exec.
    failed_op: &'static str,
    failed_errno: c_int,
}

const CHILD_STACK: usize = 64 * 1024;
/// Targets of [`FdMap`] must be below this; sources are moved above it first.
const FIRST_UNMAPPED_FD: libc::c_uint = 16;
/// Room for this many [`FdMap`]s.
pub(crate) const MAX_FDS: usize = 8;

/// Starts the program in new namespaces, with its fds installed, in its cgroups, and killed if
/// the calling thread dies (PR_SET_PDEATHSIG).
pub(crate) fn spawn_in_namespaces(spawn: &Spawn<'_>) -> SysResult<Child> {
    let Spawn {
        exe,
        argv,
        envp,
        fds,
        namespaces,
        user,
        cgroup_procs,
        namespace_pair: _,
    } = *spawn;
    assert!(
        fds.len() <= MAX_FDS,
        "at most {MAX_FDS} descriptors can be mapped"
    );
    assert!(fds
        .iter()
        .all(|m| (m.target as libc::c_uint) < FIRST_UNMAPPED_FD));
    let argv_ptrs = null_terminated(argv);
    let envp_ptrs = null_terminated(envp);
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down: hand clone the (16-byte aligned) top.
    let top = (stack.as_mut_ptr() as usize + CHILD_STACK) & !15;

    let mut args = ChildArgs {
        exe: exe.as_ptr(),
        argv: argv_ptrs.as_ptr(),
        envp: envp_ptrs.as_ptr(),
        fds: fds.as_ptr(),
        nfds: fds.len(),
        close_from: close_from(fds),
        uid_map: user.map_or(std::ptr::null(), |u| u.uid_map.as_ptr()),
        gid_map: user.map_or(std::ptr::null(), |u| u.gid_map.as_ptr()),
        cgroup_procs: cgroup_procs.as_ptr(),
        ncgroup_procs: cgroup_procs.len(),
        failed_op: "",
        failed_errno: 0,
    };
    let mut pidfd: c_int = -1;
    let flags =
        namespaces.0 | libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD | libc::SIGCHLD;

    // Block every signal so no handler of ours can run on the child's borrowed stack. They stay
    // blocked across the exec (which resets handlers); the test's PID 1 unblocks them.
    let parent_mask = block_all_signals();
    // SAFETY: `child_main` only makes async-signal-safe calls and exec/_exit; the stack is ours
    // and outlives the child's use of it (CLONE_VFORK suspends us until exec or exit); `args`
    // and the pointer arrays stay alive and unmoved for the same reason.
    let pid = unsafe {
        libc::clone(
            child_main,
            top as *mut c_void,
            flags,
            &mut args as *mut ChildArgs as *mut c_void,
            &mut pidfd as *mut c_int,
        )
    };
    let clone_errno = Errno::last();
    restore_signals(&parent_mask);
    drop(stack);

    if pid < 0 {
        return Err(SysError::new(
            "clone(CLONE_NEWNS|CLONE_NEWPID|…)",
            clone_errno,
        ));
    }
    // SAFETY: with CLONE_PIDFD the kernel stored a new pidfd that nothing else owns.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    let mut child = Child {
        pidfd,
        pid,
        reaped: false,
    };
    if args.failed_errno != 0 {
        let _ = child.wait();
        let errno = Errno::from_raw(args.failed_errno);
        return Err(match args.failed_op {
            "execve" => SysError::at("execve", exe.to_string_lossy().into_owned(), errno),
            op => SysError::new(op, errno),
        });
    }
    Ok(child)
}

fn null_terminated(strings: &[CString]) -> Vec<*const libc::c_char> {
    strings
        .iter()
        .map(|s| s.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect()
}

/// Blocks every signal in the calling thread; returns the mask to restore.
fn block_all_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data; both are initialised by the calls below before use.
    let (mut all, mut old): (libc::sigset_t, libc::sigset_t) = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to valid, writable sigset_t values.
    unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
    }
    old
}

fn restore_signals(old: &libc::sigset_t) {
    // SAFETY: `old` is the mask pthread_sigmask returned earlier.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

/// The child side: runs in the parent's memory, so it only makes raw, async-signal-safe calls.
extern "C" fn child_main(arg: *mut c_void) -> c_int {
    // SAFETY: `arg` is the `ChildArgs` the parent passed to clone and keeps alive meanwhile.
    let args = unsafe { &mut *(arg as *mut ChildArgs) };
    let setup = ChildSetup {
        uid_map: args.uid_map,
        gid_map: args.gid_map,
        cgroup_procs: args.cgroup_procs,
        ncgroup_procs: args.ncgroup_procs,
        fds: args.fds,
        nfds: args.nfds,
        close_from: args.close_from,
    };
    // SAFETY: the pointers are the parent's live arrays and strings (see `spawn_in_namespaces`).
    if let Err(op) = unsafe { setup.apply() } {
        return fail(args, op);
    }
    // SAFETY: exe, argv and envp are valid NUL-terminated strings and arrays.
    unsafe { libc::execve(args.exe, args.argv, args.envp) };
    fail(args, "execve")
}

/// What a new test environment's first process does before it becomes the test's PID 1, in
/// both ways of starting one (an exec here, a fork of a zygote): die with its parent, enter
/// its user namespace's id maps (rootless), join its cgroups, take its descriptors.
pub(crate) struct ChildSetup {
    /// Rootless: the uid and gid maps to write, or null.
    pub uid_map: *const libc::c_char,
    pub gid_map: *const libc::c_char,
    pub cgroup_procs: *const RawFd,
    pub ncgroup_procs: usize,
    pub fds: *const FdMap,
    pub nfds: usize,
    /// Every descriptor from this one up is closed.
    pub close_from: libc::c_uint,
}

impl ChildSetup {
    /// Applies the setup to the calling process; on failure, the step that failed (errno set).
    ///
    /// # Safety
    /// Every pointer must be valid for its count (the strings NUL-terminated, or null); only
    /// async-signal-safe calls are made, so this may run in a vfork-like child.
    pub(crate) unsafe fn apply(&self) -> Result<(), &'static str> {
        // SAFETY: async-signal-safe system calls on valid arguments (the caller's contract).
        unsafe {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                return Err("prctl(PR_SET_PDEATHSIG)");
            }
            if !self.uid_map.is_null() {
                // In this order: an unprivileged gid_map needs setgroups denied first.
                for (path, text) in [
                    (c"/proc/self/setgroups".as_ptr(), c"deny".as_ptr()),
                    (c"/proc/self/gid_map".as_ptr(), self.gid_map),
                    (c"/proc/self/uid_map".as_ptr(), self.uid_map),
                ] {
                    if !write_file(path, text) {
                        return Err("write(/proc/self/uid_map)");
                    }
                }
            }
            for &procs in std::slice::from_raw_parts(self.cgroup_procs, self.ncgroup_procs) {
                if libc::write(procs, b"0".as_ptr().cast(), 1) != 1 {
                    return Err("write(cgroup.procs)");
                }
            }
            let fds = std::slice::from_raw_parts(self.fds, self.nfds);
            // First move every source out of the target range, so no dup2 clobbers a later
            // source.
            let mut moved = [0 as RawFd; MAX_FDS];
            for (i, map) in fds.iter().enumerate().take(moved.len()) {
                moved[i] = libc::fcntl(map.source, libc::F_DUPFD, FIRST_UNMAPPED_FD as c_int);
                if moved[i] < 0 {
                    return Err("fcntl(F_DUPFD)");
                }
            }
            for (i, map) in fds.iter().enumerate().take(moved.len()) {
                if libc::dup2(moved[i], map.target) < 0 {
                    return Err("dup2");
                }
                libc::close(moved[i]);
            }
            // Nothing else of the runner's leaks in (cargo's jobserver pipes, say).
            // close_range is Linux 5.9+; without it, the runner's own descriptors are
            // close-on-exec anyway.
            libc::syscall(libc::SYS_close_range, self.close_from, libc::c_uint::MAX, 0);
        }
        Ok(())
    }
}

/// The lowest descriptor [`ChildSetup::apply`] closes from: one above the highest target.
pub(crate) fn close_from(fds: &[FdMap]) -> libc::c_uint {
    fds.iter()
        .map(|m| m.target as libc::c_uint + 1)
        .max()
        .unwrap_or(3)
}

/// open + write + close of a NUL-terminated string; async-signal-safe.
///
/// # Safety
/// `path` and `text` must be valid NUL-terminated strings.
unsafe fn write_file(path: *const libc::c_char, text: *const libc::c_char) -> bool {
    // SAFETY: both are valid C strings (the caller's contract); raw syscalls only.
    unsafe {
        let fd = libc::open(path, libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return false;
        }
        let len = libc::strlen(text);
        let written = libc::write(fd, text.cast(), len);
        libc::close(fd);
        written == len as isize
    }
}

/// Records the failed step for the parent and exits the child.
fn fail(args: &mut ChildArgs, op: &'static str) -> c_int {
    args.failed_op = op;
    args.failed_errno = Errno::last_raw();
    // SAFETY: _exit is async-signal-safe and never returns.
    unsafe { libc::_exit(127) }
}

/// Opens the calling thread's network namespace (`/proc/thread-self/ns/net`), close-on-exec.
pub(crate) fn open_netns() -> SysResult<OwnedFd> {
    nix::fcntl::open(
        "/proc/thread-self/ns/net",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .op_at("open", "/proc/thread-self/ns/net")
}

/// Opens the network namespace of the process `pid` (`/proc/PID/ns/net`), close-on-exec.
pub(crate) fn open_netns_of(pid: libc::pid_t) -> SysResult<OwnedFd> {
    let path = format!("/proc/{pid}/ns/net");
    nix::fcntl::open(
        path.as_str(),
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .op_at("open", path)
}

/// Opens `/dev/null` read-write, close-on-exec.
pub(crate) fn open_devnull() -> SysResult<OwnedFd> {
    nix::fcntl::open(
        "/dev/null",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .op_at("open", "/dev/null")
}
