#![doc = include_str!("../README.md")]

mod adhoc;
mod child;
mod cli;
mod doctor;
pub(crate) mod fixtures;
mod harness;
mod json;
mod kept;
pub mod net;
mod plan;
mod registry;
mod report;
mod runner;
mod sandbox;
mod sys;
mod zygote;

pub use doctor::{doctor, Check, Report, Status};
/// Registers a function as a test that runs in its own container: fresh PID, mount, UTS,
/// IPC, network and cgroup namespaces inside a user namespace of its own, a copy-on-write
/// root, a fresh `/proc`, `/dev`, `/tmp` and `/run`.
///
/// Put it on a free function (no `self`, no parameters, no generics) returning `()` or
/// `Result<(), E: Debug>`, or an `async fn` doing so (see `runtime`), in a test target with
/// `harness = false` that ends with [`main!()`](crate::main). `#[should_panic]` and `#[ignore]`
/// go below it.
///
/// ```no_run
/// use isolated::isolated;
///
/// #[isolated(rootfs = "alpine", hostname = "box", timeout = "10s", memory = "256M")]
/// fn writes_etc() {
///     std::fs::write("/etc/motd", "only this test sees it").unwrap();
/// }
///
/// isolated::main!();
/// ```
///
/// # Keys
///
/// Every key is optional; a mistake is a compile error at its token.
///
/// - `rootfs = "NAME"`: the root filesystem. `"host"` (the default) is the host's
///   filesystems, each copy-on-write; `"host-ro"` the host's, read-only; any other name is a
///   fixture: `fixtures/NAME/` or `fixtures/NAME.tar[.gz|.xz|.zst]` in the crate, a container
///   image, a pinned remote tarball, or the built-in `"alpine"`.
/// - `hostname = "box"`: the test's hostname (letters, digits, `-`, `.`). Default
///   `"isolated"`.
/// - `timeout = "10s"`: `ms`, `s`, `m` or `h` after a whole number; the test is killed after
///   it. Default `"60s"`.
/// - `env = ["KEY=value"]`: variables added to the clean environment (`PATH`, `HOME`,
///   `TERM`, `HOSTNAME`). Default none.
/// - `net = "loopback"`: `"loopback"` (the default: a network of its own with `lo` up),
///   `"none"` (`lo` down), `"host"` (the host's network) or `"veth"` (a veth pair to the host;
///   addresses in [`net`]).
/// - `memory = "256M"`, `"1G"` or `"none"`: memory for all the test's processes. Default half
///   the RAM, at most 4G.
/// - `pids = 64` or `"none"`: processes and threads at once. Default 1024.
/// - `cpu = 0.5`: CPUs' worth of time. Default no limit.
/// - `caps = ["+SYS_TIME", "-NET_RAW"]`: capabilities added to or dropped from the default
///   set (over the test's own namespaces). Default none.
/// - `privileged = true`: the host's kernel: no user namespace of its own, no syscall
///   filter, every capability of the host's root (less what `caps` drops). For tests that
///   mount block devices, load BPF, write kernel sysctls. Default `false`.
/// - `devices = ["/dev/net/tun"]`: host device nodes bound into the test's `/dev` (as root,
///   `/dev/net/tun` and `/dev/fuse` are made where the host has no node yet). Default none.
/// - `crate_dir = false`: the test crate's directory is not put at its own path (it is by
///   default, read-only in a fixture root, and the test starts in it, as under `cargo test`).
/// - `copy = ["tests/data/app.toml:/etc/app.toml"]`: host files or directories (relative to
///   the crate) copied into a fixture root, programs with the libraries they need. Default
///   none.
/// - `bins = ["mytool"]` or `["mytool:/opt/bin/mytool"]`: binaries of this package, at
///   `/usr/local/bin/NAME` by default. Default none.
/// - `bind = ["/var/cache/apt:/var/cache/apt"]`: host paths mounted read-only. Default none.
/// - `keep = true`: if the test fails, its environment stays, running, and the failure ends
///   with the command that enters it (as `ISOLATED_KEEP=failed` does for every test). Default
///   `false`.
/// - `runtime = "tokio"`: what runs an `async fn` test, in its environment: `"tokio"` (the
///   current-thread runtime, the default with the `tokio` feature), `"tokio-multi"`, or a path
///   to a function that takes the future and returns its output (`smol::block_on`).
///
/// The README (the crate's front page) says more about each, and what every test gets.
pub use isolated_macros::isolated;

/// Support for the code `#[isolated]` and `main!()` generate. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::child::run_if_child;
    pub use crate::cli::main as cli_main;
    pub use crate::registry::{
        Ignore, IntoVerdict, Limit, Limits, Mapping, Net, ShouldPanic, TestDef,
    };
    pub use crate::runner::{main, main_with, Suite};
    pub use inventory;

    /// Runs an `async fn` test on tokio's current-thread runtime, made in the test's own
    /// environment, with its I/O and time drivers.
    #[cfg(feature = "tokio")]
    pub fn tokio_current_thread<F: std::future::Future>(test: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("failed to start the test's tokio runtime")
            .block_on(test)
    }

    /// Runs an `async fn` test on tokio's multi-thread runtime (`runtime = "tokio-multi"`).
    #[cfg(feature = "tokio")]
    pub fn tokio_multi_thread<F: std::future::Future>(test: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("failed to start the test's tokio runtime")
            .block_on(test)
    }
}

/// The test binary's `main`: runs the `#[isolated]` tests with libtest's command line.
///
/// Use it once, at the top level of a test target that has `harness = false`.
///
/// `main!(setup = path::to::start)` runs `start()` once in the runner, on the host, before
/// the first test (not at all for `--list`, or when no test is selected), and holds the value
/// it returns until every test has ended: drop it to stop what it started (a guard's `Drop`
/// is the teardown). `teardown = path::to::stop` names a function called after that. A panic
/// in either fails the run. Neither ever runs inside a test's environment. nextest runs each
/// test in a process of its own, so there they run once per test.
///
/// ```no_run
/// struct Server(std::thread::JoinHandle<()>);
///
/// fn start_server() -> Server {
///     let listener = std::net::TcpListener::bind("0.0.0.0:7878").unwrap();
///     Server(std::thread::spawn(move || for _ in listener.incoming() {}))
/// }
///
/// #[isolated::isolated(net = "veth")]
/// fn reaches_the_host_service() {
///     let host = isolated::net::host_addr().unwrap();
///     std::net::TcpStream::connect((host, 7878)).unwrap();
/// }
///
/// isolated::main!(setup = start_server);
/// ```
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::__private::main(env!("CARGO_MANIFEST_DIR"))
        }
    };
    (setup = $setup:path $(, teardown = $teardown:path)? $(,)?) => {
        fn main() {
            $crate::__private::main_with(
                env!("CARGO_MANIFEST_DIR"),
                $crate::__private::Suite {
                    setup: ::core::option::Option::Some((
                        ::core::stringify!($setup),
                        || -> ::std::boxed::Box<dyn ::core::any::Any> {
                            ::std::boxed::Box::new($setup())
                        },
                    )),
                    teardown: $crate::main!(@teardown $($teardown)?),
                },
            )
        }
    };
    (teardown = $teardown:path $(,)?) => {
        fn main() {
            $crate::__private::main_with(
                env!("CARGO_MANIFEST_DIR"),
                $crate::__private::Suite {
                    setup: ::core::option::Option::None,
                    teardown: $crate::main!(@teardown $teardown),
                },
            )
        }
    };
    (@teardown) => { ::core::option::Option::None };
    (@teardown $teardown:path) => {
        ::core::option::Option::Some((::core::stringify!($teardown), $teardown as fn()))
    };
}
