//! The re-executed side: one test, one plan, no libtest.
//!
//! The runner starts this binary again as PID 1 of fresh namespaces, with the test's name in
//! [`TEST_VAR`]. `main!()` calls [`run_if_child`] before anything else, so the process is still
//! single-threaded when it builds the sandbox and forks the body.

mod body;
mod init;
pub(crate) mod keeper;
pub(crate) mod privileges;
pub(crate) mod syscall_filter;

/// Names the test this process must run. Removed from the environment before the body starts.
pub(crate) const TEST_VAR: &str = "__ISOLATED_TEST";
/// The prepared fixture tree to use as the overlay's lower layer; empty for the host's root.
pub(crate) const ROOT_VAR: &str = "__ISOLATED_ROOT";
/// With `net = "veth"`: the index of the link the runner leased for this test.
pub(crate) const NET_VAR: &str = "__ISOLATED_NET";
/// The test crate's directory on the host now (where it was compiled, unless the run moved it).
pub(crate) const CRATE_VAR: &str = "__ISOLATED_CRATE";
/// `1`: the environment may be kept; PID 1 waits to be told once the body has ended (see
/// `keeper.rs`).
pub(crate) const KEEP_VAR: &str = "__ISOLATED_KEEP";
/// The file descriptor the report pipe is installed at in the child.
pub(crate) const REPORT_FD: i32 = 3;
/// A socket to the runner, with `net = "veth"` or an environment that may be kept: PID 1 says
/// when the test's namespaces exist, and the runner answers once it has made the veth pair's
/// host end; PID 1 of a test that may be kept is told there whether to stay.
pub(crate) const HANDSHAKE_FD: i32 = 4;
/// PID 1 to the runner: the test's namespaces exist.
pub(crate) const NAMESPACES_READY: &[u8] = b"namespaces";
/// The runner to PID 1: the host's side is done, go on.
pub(crate) const HOST_SIDE_DONE: &[u8] = b"go";

/// If this process was started by the runner to run one test, runs it and never returns.
pub fn run_if_child() {
    if let Some(kind) = std::env::var_os(crate::zygote::ZYGOTE_VAR) {
        crate::zygote::serve(crate::zygote::Kind::of(&kind))
    }
    let Some(name) = std::env::var_os(TEST_VAR) else {
        return;
    };
    // The runner kept every signal blocked across the exec; a test starts with none blocked.
    crate::sys::unblock_all_signals();
    // Named after the test binary in `ps`, not after /proc/self/exe, the path it ran by.
    if let Some(path) = std::env::args_os().next() {
        crate::sys::set_process_name(&path);
    }
    let handoff = init::Handoff {
        name: name.to_string_lossy().into_owned(),
        root: take_var(ROOT_VAR),
        net: take_var(NET_VAR),
        crate_dir: take_var(CRATE_VAR),
        keep: take_var(KEEP_VAR) == "1",
    };
    std::env::remove_var(TEST_VAR);
    init::run(handoff)
}

/// The value of a marker variable, removed so the test never sees it.
fn take_var(name: &str) -> String {
    let value = std::env::var_os(name).unwrap_or_default();
    std::env::remove_var(name);
    value.to_string_lossy().into_owned()
}
