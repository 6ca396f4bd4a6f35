//! PID 1 of the test's namespaces: builds the sandbox, starts the body as PID 2, reaps every
//! orphan, and reports how the body ended. When it exits, the kernel kills whatever is left.

use std::fs::File;
use std::os::fd::FromRawFd;

use super::{body, HANDSHAKE_FD, HOST_SIDE_DONE, NAMESPACES_READY, REPORT_FD};
use crate::kept::Snapshot;
use crate::net::{ADDR_VAR, HOST_ADDR_VAR, PREFIX_VAR};
use crate::plan::{HostPaths, Network, Plan, Root, Veth};
use crate::registry::{self, TestDef};
use crate::report::{Ended, Message};
use crate::sandbox;
use crate::sys::{self, ChildStatus, Forked, TestNamespaces};

/// What the runner told this process, through its environment.
pub(super) struct Handoff {
    /// `<position in the registry>:<the test's full name>`.
    pub name: String,
    /// [`Root::encode`]d.
    pub root: String,
    /// [`Network::encode`]d.
    pub net: String,
    /// The test crate's directory now; empty: where it was compiled.
    pub crate_dir: String,
    /// The environment may be kept after the body has ended.
    pub keep: bool,
}

pub(super) fn run(handoff: Handoff) -> ! {
    // The runner installed the report pipe at REPORT_FD. Move it out of the way, close-on-exec,
    // so the programs a test starts neither inherit it nor find it at a low number.
    let mut report = match sys::move_fd_out_of_the_way(REPORT_FD) {
        Ok(fd) => File::from(fd),
        // SAFETY: the runner installed the report pipe at REPORT_FD; nothing else owns it.
        Err(e) => fail(
            &mut unsafe { File::from_raw_fd(REPORT_FD) },
            "move the report pipe",
            e.to_string(),
        ),
    };
    // A session of its own: no controlling terminal, so no test can reach the runner's.
    if let Err(e) = sys::setsid() {
        fail(&mut report, "start a new session", e.to_string())
    }
    let found = match handoff.name.split_once(':') {
        // `isolated run`'s test, made of the keys the runner passed.
        _ if std::env::var_os(crate::adhoc::ADHOC_VAR).is_some() => crate::adhoc::from_env(),
        Some((position, name)) => match position.parse() {
            Ok(position) => registry::find_at(position, name),
            Err(_) => registry::find(&handoff.name),
        },
        None => registry::find(&handoff.name),
    };
    let Some(test) = found else {
        fail(
            &mut report,
            "find the test",
            format!("no test named `{}` in this binary", handoff.name),
        )
    };
    let plan = match plan(test, &handoff) {
        Ok(plan) => plan,
        Err((step, error)) => fail(&mut report, step, error),
    };
    // `net = "veth"`: the runner makes the host's end once the namespaces exist; a test
    // that may be kept is told there, once its body has ended, whether to stay.
    let veth = matches!(&plan.network, Network::Veth(_));
    let control = match veth || handoff.keep {
        true => match sys::move_fd_out_of_the_way(HANDSHAKE_FD) {
            Ok(fd) => Some(fd),
            Err(e) => fail(&mut report, "receive the runner's socket", e.to_string()),
        },
        false => None,
    };
    // The test's own namespaces, owned by its own user namespace: what the build mounts is
    // locked once PID 1 is in them, and what the test administers is its own.
    let namespaces = TestNamespaces {
        own_network: plan.network != Network::Host,
        confined: !plan.privileged,
    };
    let rootless = sys::in_rootless_namespace();
    let namespaces = match namespaces.prepare(rootless) {
        Ok(prepared) => prepared,
        Err(e) => fail(
            &mut report,
            "create the test's namespaces",
            with_user_namespace_fix(e),
        ),
    };
    if let Err(e) = sandbox::build(&plan, rootless) {
        fail(&mut report, e.step, e.source.to_string())
    }
    if let Err(e) = namespaces.join_network() {
        fail(&mut report, "create the test's namespaces", e.to_string())
    }
    if let Err(e) = sandbox::mount_own_sysfs(&plan) {
        fail(&mut report, e.step, e.source.to_string())
    }
    if let Err(e) = namespaces.lock() {
        fail(&mut report, "create the test's namespaces", e.to_string())
    }
    if let (true, Some(control)) = (veth, &control) {
        if let Err(e) = host_side(control) {
            fail(&mut report, "wait for the runner's side", e)
        }
    }
    if let Err(e) = sandbox::finish(&plan) {
        fail(&mut report, e.step, e.source.to_string())
    }
    if let Network::Veth(veth) = &plan.network {
        veth_environment(veth);
    }
    // Init and body alike: only the capabilities a test needs, none that reach the host.
    if let Err(e) = super::privileges::restrict(test) {
        fail(
            &mut report,
            super::privileges::PrivilegeError::STEP,
            e.to_string(),
        )
    }
    // What a kept environment's description reads, opened while the paths are ours.
    let keeper = match (handoff.keep, control) {
        (true, Some(control)) => Some((control, Snapshot::prepare(writable_layer(&plan.root)))),
        _ => None,
    };
    start_body(test, report, keeper)
}

/// Where the sandbox shows the root's writable layer, if it has one (see `sandbox::LAYERS`).
fn writable_layer(root: &Root) -> Option<&'static std::path::Path> {
    static TOP: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let top = TOP.get_or_init(|| std::path::Path::new(sandbox::LAYERS).join("0"));
    match root {
        Root::Overlay { .. } | Root::Host => Some(top.as_path()),
        Root::HostReadOnly => None,
    }
}

/// The plan for `test`, with what must be read from the host before the sandbox hides it:
/// bind sources (symlinks resolved on the host), where this executable is, and, for
/// `net = "host"`, its resolv.conf.
fn plan(test: &TestDef, handoff: &Handoff) -> Result<Plan, (&'static str, String)> {
    let network = Network::decode(test.net, &handoff.net);
    let host_resolv = match network {
        Network::Host => std::fs::read_to_string("/etc/resolv.conf").ok(),
        _ => None,
    };
    let root = Root::decode(&handoff.root);
    let paths = host_paths(test, handoff)?;
    let mut plan = Plan::new(test, root, network, host_resolv.as_deref(), &paths);
    for bind in &mut plan.binds {
        bind.source = std::fs::canonicalize(&bind.source).map_err(|e| {
            (
                "find a `bind` source",
                format!("{}: {e}", bind.source.display()),
            )
        })?;
    }
    Ok(plan)
}

fn host_paths(test: &TestDef, handoff: &Handoff) -> Result<HostPaths, (&'static str, String)> {
    let compiled = std::path::PathBuf::from(test.manifest_dir);
    let crate_dir = match handoff.crate_dir.as_str() {
        "" => compiled.clone(),
        moved => moved.into(),
    };
    let executable = std::fs::read_link("/proc/self/exe")
        .map_err(|e| ("find the test's executable", format!("/proc/self/exe: {e}")))?;
    Ok(HostPaths {
        compiled_crate_dir: (compiled != crate_dir).then_some(compiled),
        crate_dir,
        executable,
    })
}

/// Tells the runner the namespaces exist and waits while it makes the host's end of the veth
/// pair.
fn host_side(handshake: &std::os::fd::OwnedFd) -> Result<(), String> {
    let mut socket = File::from(handshake.try_clone().map_err(|e| format!("dup: {e}"))?);
    use std::io::{Read, Write};
    socket
        .write_all(NAMESPACES_READY)
        .map_err(|e| format!("send: {e}"))?;
    let mut answer = [0u8; 16];
    let n = socket
        .read(&mut answer)
        .map_err(|e| format!("receive: {e}"))?;
    if &answer[..n] == HOST_SIDE_DONE {
        Ok(())
    } else {
        Err("the runner gave up".to_string())
    }
}

/// A failure to make the test's user namespace, with the machine's reason and its fix when
/// one is known (`user.max_user_namespaces = 0`, say).
fn with_user_namespace_fix(e: sys::SysError) -> String {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    match sys::user_namespaces_blocked(&read) {
        Some((reason, fix)) => format!("{e}: {reason}; {fix}"),
        None => e.to_string(),
    }
}

/// What `isolated::net` reads in the body.
fn veth_environment(veth: &Veth) {
    std::env::set_var(ADDR_VAR, veth.addr.to_string());
    std::env::set_var(HOST_ADDR_VAR, veth.host_addr.to_string());
    std::env::set_var(PREFIX_VAR, veth.prefix_len.to_string());
}

fn start_body(
    test: &'static TestDef,
    mut report: File,
    keeper: Option<(std::os::fd::OwnedFd, Snapshot)>,
) -> ! {
    // SAFETY: this process is single-threaded: it was just exec'd and started no thread.
    match unsafe { sys::fork() } {
        Ok(Forked::Child) => {
            // The runner's socket and the keeper's views are PID 1's alone.
            drop(keeper);
            body::run(test, report)
        }
        Ok(Forked::Parent(pid)) => match keeper {
            Some((control, snapshot)) => super::keeper::supervise(pid, report, control, snapshot),
            None => supervise(pid, report),
        },
        Err(e) => fail(&mut report, "start the test body", e.to_string()),
    }
}

/// Reaps every child until the body has ended, then reports its status and exits.
fn supervise(body: i32, mut report: File) -> ! {
    loop {
        match sys::wait_any() {
            Ok(Some((pid, status))) if pid == body => {
                let ended = match status {
                    ChildStatus::Exited(code) => Ended::Exited(code),
                    ChildStatus::Signaled(sig) => Ended::Signaled(sig),
                };
                let _ = Message::BodyEnded(ended).send(&mut report);
                sys::exit_now(0)
            }
            Ok(Some(_orphan)) => continue,
            Ok(None) => sys::exit_now(0),
            Err(e) => fail(&mut report, "wait for the test body", e.to_string()),
        }
    }
}

fn fail(report: &mut File, step: &str, error: String) -> ! {
    let message = Message::SetupFailed {
        step: step.to_string(),
        error,
    };
    let _ = message.send(report);
    sys::exit_now(1)
}
