//! Starting one test's environment and waiting for it.

use std::os::fd::AsRawFd;
use std::time::Duration;

use super::collect::{collect, Finished};
use super::context::RunContext;
use super::host_side;
use super::limits::{self, Confinement};
use super::privileges::Privileges;
use super::veth;
use super::{environment, verdict};
use crate::child::{HANDSHAKE_FD, REPORT_FD};
use crate::harness::Outcome;
use crate::plan::Network;
use crate::registry::{Net, TestDef};
use crate::sys::{self, FdMap, Namespaces, Spawn, UserMapping};
use crate::zygote::Kind;

/// Runs one test in a fresh environment and turns what happened into libtest's result.
pub(super) fn run_test(context: &RunContext, test: &'static TestDef) -> Outcome {
    run_or_refuse(context, test).unwrap_or_else(|reason| Outcome::Failed {
        output: String::new(),
        reason,
    })
}

/// The test's outcome, or why it could not be started at all.
fn run_or_refuse(context: &RunContext, test: &'static TestDef) -> Result<Outcome, String> {
    let privileges = context.privileges()?;
    if let (Privileges::Rootless(_), Net::Veth) = (privileges, test.net) {
        return Err(
            "net = \"veth\" needs root: it puts an interface on the host (this run is \
                    rootless): run with `sudo -E cargo test`"
                .into(),
        );
    }
    let root = context.root_for(test)?;
    // Held until the test has ended: no other test gets this link meanwhile.
    let lease = match test.net {
        Net::Veth => Some(veth::lease()?),
        _ => None,
    };
    let network = Network::new(test.net, lease.as_ref().map(|l| l.index));
    let handoff = Handoff {
        root: root.encode(),
        network,
        user: privileges.rootless(),
    };
    let confinement = Confinement::new(&context.cgroups, &test.limits, context.physical_memory)
        .map_err(|e| format!("failed to set up the test's resource limits: {e}"))?;
    let finished = launch(context, test, &handoff, &confinement).map_err(|e| {
        format!(
            "failed to start the test environment: {e}{}",
            spawn_hint(&e)
        )
    })?;
    drop(lease);
    let (resolved, breaches) = confinement.end(&context.cgroups, !test.privileged);
    Ok(verdict::judge(
        test,
        finished,
        !context.nocapture,
        |reason| limits::explain(reason, &test.limits, &resolved, breaches),
    ))
}

/// What a test's PID 1 gets from the runner besides the test's name.
struct Handoff<'a> {
    root: String,
    network: Network,
    /// Rootless: the user namespace's mapping.
    user: Option<&'a UserMapping>,
}

fn launch(
    context: &RunContext,
    test: &TestDef,
    handoff: &Handoff,
    confinement: &Confinement,
) -> sys::SysResult<Finished> {
    let devnull = context.devnull()?;
    let (report_read, report_write) = sys::pipe()?;
    // Only the host's end of a veth pair needs the runner while PID 1 builds the sandbox.
    let veth = matches!(handoff.network, Network::Veth(_));
    let handshake = veth.then(sys::socketpair).transpose()?;
    let output = if context.nocapture {
        None
    } else {
        Some(sys::pipe()?)
    };

    let mut fds = vec![
        FdMap {
            source: devnull.as_raw_fd(),
            target: 0,
        },
        FdMap {
            source: report_write.as_raw_fd(),
            target: REPORT_FD,
        },
    ];
    if let Some((_, theirs)) = &handshake {
        fds.push(FdMap {
            source: theirs.as_raw_fd(),
            target: HANDSHAKE_FD,
        });
    }
    // Captured, the test writes to our pipe; under --nocapture to our own stdout and stderr,
    // named explicitly because a zygote's own 1 and 2 are not ours.
    let (stdout, stderr) = match &output {
        Some((_, write)) => (write.as_raw_fd(), write.as_raw_fd()),
        None => (libc::STDOUT_FILENO, libc::STDERR_FILENO),
    };
    fds.push(FdMap {
        source: stdout,
        target: 1,
    });
    fds.push(FdMap {
        source: stderr,
        target: 2,
    });
    let full_name = test.full_name();
    let argv = [context.exe.clone(), c"--isolated-child".into()];
    let net = handoff.network.encode();
    let crate_dir = context
        .relocation
        .path(std::path::Path::new(test.manifest_dir));
    let envp = environment::for_test(test, &full_name, &handoff.root, &net, &crate_dir);
    let spawn = Spawn {
        exe: &context.exe,
        argv: &argv,
        envp: &envp,
        fds: &fds,
        namespaces: Namespaces::for_sandbox(handoff.user.is_some()),
        user: handoff.user,
        cgroup_procs: &confinement.procs(),
        // Under root, a zygote makes the test's user and network namespaces ahead.
        namespace_pair: !test.privileged && test.net != Net::Host && handoff.user.is_none(),
    };
    let zygote =
        context.zygotes.then(
            || match crate::child::privileges::shares_the_zygote_filter(test) {
                true => Kind::Filtered,
                false => Kind::Unfiltered,
            },
        );
    let child = super::start::start(&spawn, zygote)?;

    // Only the child may hold the write ends now, so EOF means it is gone.
    drop(report_write);
    let timeout = Duration::from_millis(test.timeout_ms);
    if let (Some((ours, theirs)), Network::Veth(veth)) = (handshake, &handoff.network) {
        drop(theirs);
        host_side::make_veth(&child, ours, veth, timeout)?;
    }
    let output_read = output.map(|(read, _write)| read);
    collect(child, report_read, output_read, timeout, || {
        let _ = confinement.kill_all();
    })
}

/// The fix, when starting an environment fails for a reason of the machine's.
fn spawn_hint(error: &sys::SysError) -> &'static str {
    use nix::errno::Errno;
    match (error.op, error.errno) {
        (op, Errno::EPERM) if op.starts_with("clone") => {
            "\nthe kernel refused to create namespaces although this runs as root: a seccomp \
             filter or security module (AppArmor, SELinux) of this container or CI runner \
             forbids it; allow it (docker: --security-opt seccomp=unconfined, or --privileged), \
             or run the tests where namespaces are allowed"
        }
        (op, Errno::ENOSPC) if op.starts_with("clone") => {
            "\ntoo many namespaces: raise the limits in /proc/sys/user/max_*_namespaces"
        }
        (op, Errno::EINVAL) if op.starts_with("clone") => {
            "\nthis kernel lacks a namespace type or CLONE_PIDFD: isolated needs Linux 5.3 or newer \
             with PID, mount, UTS, IPC and network namespaces enabled"
        }
        _ => "",
    }
}
