//! Zygotes: small, single-threaded copies of the test binary that fork test environments.
//!
//! Exec'ing the test binary for every test costs more than the whole sandbox: the kernel's
//! exec, the dynamic loader's relocations, the page faults of a fresh address space, the Rust
//! runtime's start. A zygote pays that once. Each runner thread starts one (an exec of the
//! test binary like a test's PID 1, so it is small and single-threaded whatever the runner
//! did before), and sends it one request per test over a `SOCK_SEQPACKET` socket: the
//! namespaces, the descriptors (stdin, the report pipe, the output pipe, the handshake socket,
//! the `cgroup.procs` files) and the environment. The zygote forks a child with
//! `clone3(CLONE_PARENT | CLONE_PIDFD | CLONE_NEW*)` and sends the pidfd back: the runner
//! thread is the child's parent, exactly as if it had started it itself, so waiting, killing,
//! timeouts and the parent-death signal are the same on both paths. The child resets its
//! environment to the test's and goes on as a re-executed one would, into
//! [`run_if_child`](crate::child::run_if_child).
//!
//! What a child shares with its zygote and its siblings: the address-space layout (ASLR is
//! per exec) and the stack canary. The zygote creates no hash map and reads no randomness, so
//! each child seeds its own. A zygote exits when its runner thread closes the socket, and
//! with the thread (`PR_SET_PDEATHSIG`).
//!
//! `ISOLATED_ZYGOTE=0` starts every test by exec instead; so does a C library other than
//! glibc, whose cached thread id a raw `clone3` leaves stale (glibc's `raise` and `abort` ask
//! the kernel).

mod client;
mod serve;
mod wire;

pub(crate) use client::Zygote;
pub(crate) use serve::serve;

/// Set in a zygote's environment: [`run_if_child`](crate::child::run_if_child) serves
/// requests on [`SOCKET_FD`] instead of running a test. Its value is a [`Kind`]'s.
pub(crate) const ZYGOTE_VAR: &str = "__ISOLATED_ZYGOTE";

/// Which tests a zygote forks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Tests with the default syscall filter, which the zygote installs once in itself and
    /// every test it forks inherits (see `child/syscall_filter.rs`).
    Filtered,
    /// `privileged` tests, and those whose `caps` let a filtered call through: no filter
    /// (they install their own, if any).
    Unfiltered,
}

impl Kind {
    /// The value of [`ZYGOTE_VAR`].
    fn value(self) -> &'static str {
        match self {
            Kind::Filtered => "filtered",
            Kind::Unfiltered => "unfiltered",
        }
    }

    /// The kind a [`ZYGOTE_VAR`] value names.
    pub(crate) fn of(value: &std::ffi::OsStr) -> Kind {
        match value.to_str() {
            Some("filtered") => Kind::Filtered,
            _ => Kind::Unfiltered,
        }
    }
}
/// The zygote's end of the runner's socket.
pub(crate) const SOCKET_FD: i32 = 3;
/// Set to `0`, starts every test with an exec of its own instead of from a zygote.
pub(crate) const SWITCH_VAR: &str = "ISOLATED_ZYGOTE";

/// Whether tests start from zygotes in this run.
pub(crate) fn enabled() -> bool {
    cfg!(target_env = "gnu") && std::env::var_os(SWITCH_VAR).is_none_or(|v| v != "0")
}
