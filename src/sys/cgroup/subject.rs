//! For the tests: a process tree started in a test's group, as the runner starts a test.
//!
//! The test process forks a keeper, which stays outside the group and makes a new PID
//! namespace; its child joins the group (writing "0" to each `cgroup.procs`) and, as PID 1 of
//! that namespace, plays a scenario. When PID 1 dies the kernel kills and reaps everything
//! else in the namespace, and the keeper reaps PID 1: no zombie is left on the host.

use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::group::TestCgroup;

/// What the process in the group does.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scenario {
    /// Ignores SIGTERM, starts one more process that does too, says ready, sleeps.
    Stubborn,
    /// Touches this many bytes of fresh memory, says ready if it survives, sleeps.
    Hog(usize),
    /// Forks (children sleep) until a fork fails, then says ready with the errno.
    ForkLoop,
}

/// The keeper process and the group it started a scenario in.
pub(super) struct Subject {
    pub group: Option<TestCgroup>,
    keeper: i32,
    ready: OwnedFd,
}

/// The keeper's exit code when it could not start PID 1.
const KEEPER_FAILED: i32 = 120;

impl Subject {
    pub(super) fn start(group: TestCgroup, scenario: Scenario) -> Subject {
        let (ready, ready_write) = crate::sys::pipe().unwrap();
        let mut keep: Vec<RawFd> = group.procs_files().iter().map(|f| f.as_raw_fd()).collect();
        keep.push(ready_write.as_raw_fd());
        keep.sort_unstable();
        // SAFETY: the child only makes async-signal-safe calls (no allocation) before _exit.
        let keeper = unsafe { libc::fork() };
        assert!(keeper >= 0, "fork failed");
        if keeper == 0 {
            // SAFETY: in the forked child of a multi-threaded process: raw system calls only.
            unsafe { keeper_main(&keep, &group, ready_write.as_raw_fd(), scenario) }
        }
        Subject {
            group: Some(group),
            keeper,
            ready,
        }
    }

    pub(super) fn group(&self) -> &TestCgroup {
        self.group.as_ref().unwrap()
    }

    /// The byte PID 1 sends when its scenario has got where it waits; `None` if it died first.
    pub(super) fn ready(&self) -> Option<u8> {
        let ready = crate::sys::poll_readable(&[self.ready.as_fd()], Duration::from_secs(20));
        assert!(ready.unwrap()[0], "the scenario did not get ready in 20s");
        let mut byte = 0u8;
        // SAFETY: reads one byte into a local from a descriptor we own.
        let n = unsafe { libc::read(self.ready.as_raw_fd(), (&raw mut byte).cast(), 1) };
        (n == 1).then_some(byte)
    }

    /// Waits for the keeper: PID 1's exit code, or 128 + the signal that killed it.
    pub(super) fn wait(&mut self) -> i32 {
        let mut status = 0;
        // SAFETY: waits for our own child into a local.
        let rc = unsafe { libc::waitpid(self.keeper, &mut status, 0) };
        assert_eq!(rc, self.keeper, "waitpid");
        self.keeper = 0;
        assert!(libc::WIFEXITED(status), "keeper status {status:#x}");
        let code = libc::WEXITSTATUS(status);
        assert_ne!(code, KEEPER_FAILED, "the keeper could not start PID 1");
        code
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        // Kill the group first, so PID 1 dies and the keeper can reap it and exit.
        if let Some(group) = &self.group {
            let _ = group.kill_all();
        }
        if self.keeper != 0 {
            let mut status = 0;
            // SAFETY: waits for our own child into a local.
            unsafe { libc::waitpid(self.keeper, &mut status, 0) };
        }
    }
}

/// The keeper: close what the test process had open, new PID namespace, fork PID 1, reap it.
///
/// # Safety
/// Runs in a freshly forked child: raw, async-signal-safe system calls only.
unsafe fn keeper_main(keep: &[RawFd], group: &TestCgroup, ready: RawFd, scenario: Scenario) -> ! {
    // SAFETY: raw system calls; the slices were made before fork and are not modified.
    unsafe {
        close_all_but(keep);
        if libc::unshare(libc::CLONE_NEWPID) != 0 {
            libc::_exit(KEEPER_FAILED);
        }
        let init = libc::fork();
        if init < 0 {
            libc::_exit(KEEPER_FAILED);
        }
        if init == 0 {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            // What the runner's child does after clone: "0" is the writer itself.
            for procs in group.procs_files() {
                if libc::write(procs.as_raw_fd(), b"0".as_ptr().cast(), 1) != 1 {
                    libc::_exit(KEEPER_FAILED);
                }
            }
            play(scenario, ready);
        }
        libc::close(ready);
        let mut status = 0;
        while libc::waitpid(init, &mut status, 0) < 0 {}
        let code = match libc::WIFEXITED(status) {
            true => libc::WEXITSTATUS(status),
            false => 128 + libc::WTERMSIG(status),
        };
        libc::_exit(code)
    }
}

/// PID 1 of the subject's namespace.
///
/// # Safety
/// Runs in a freshly forked child: raw, async-signal-safe system calls only.
unsafe fn play(scenario: Scenario, ready: RawFd) -> ! {
    // SAFETY: raw system calls on our own memory and descriptors.
    unsafe {
        match scenario {
            Scenario::Stubborn => {
                libc::signal(libc::SIGTERM, libc::SIG_IGN);
                if libc::fork() == 0 {
                    sleep_forever();
                }
                say(ready, 1);
            }
            Scenario::Hog(bytes) => {
                let prot = libc::PROT_READ | libc::PROT_WRITE;
                let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
                let memory = libc::mmap(std::ptr::null_mut(), bytes, prot, flags, -1, 0);
                if memory == libc::MAP_FAILED {
                    libc::_exit(2);
                }
                for page in (0..bytes).step_by(4096) {
                    std::ptr::write_volatile(memory.cast::<u8>().add(page), 1);
                }
                say(ready, 1);
            }
            Scenario::ForkLoop => loop {
                match libc::fork() {
                    0 => sleep_forever(),
                    pid if pid < 0 => {
                        say(ready, *libc::__errno_location() as u8);
                        break;
                    }
                    _ => {}
                }
            },
        }
        sleep_forever()
    }
}

/// Writes one byte to `fd`.
///
/// # Safety
/// Async-signal-safe: one system call.
unsafe fn say(fd: RawFd, byte: u8) {
    // SAFETY: writes one byte from a local.
    unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
}

fn sleep_forever() -> ! {
    loop {
        // SAFETY: pause has no preconditions.
        unsafe { libc::pause() };
    }
}

/// Closes every descriptor from 3 up except `keep` (sorted).
///
/// # Safety
/// Async-signal-safe: raw close_range calls only.
unsafe fn close_all_but(keep: &[RawFd]) {
    let mut from = 3u32;
    for &fd in keep {
        let fd = fd as u32;
        if fd > from {
            // SAFETY: closes descriptors this child does not use.
            unsafe { libc::syscall(libc::SYS_close_range, from, fd - 1, 0) };
        }
        from = from.max(fd + 1);
    }
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close_range, from, u32::MAX, 0) };
}
