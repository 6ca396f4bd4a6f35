//! Starting one test's environment and waiting for it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use super::collect::{collect, Collected, Until};
use super::context::RunContext;
use super::host_side;
use super::limits::{self, Confinement};
use super::privileges::Privileges;
use super::veth;
use super::{environment, verdict};
use crate::child::{HANDSHAKE_FD, REPORT_FD};
use crate::harness::Outcome;
use crate::kept::Keep;
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
        keep: Keep::of(test),
    };
    let confinement = Confinement::new(&context.cgroups, &test.limits, context.physical_memory)
        .map_err(|e| format!("failed to set up the test's resource limits: {e}"))?;
    let started = |e: sys::SysError| {
        format!(
            "failed to start the test environment: {e}{}",
            spawn_hint(&e)
        )
    };
    let (collected, control) = launch(context, test, &handoff, &confinement).map_err(started)?;
    let finished = match (collected, control, handoff.keep) {
        (Collected::Ended(finished), _, _) => finished,
        (Collected::Paused(paused), Some(control), Some(keep)) => {
            let outcome = {
                let (resolved, breaches) = confinement.so_far();
                verdict::judge(test, paused.so_far(), !context.nocapture, |reason| {
                    limits::explain(reason, &test.limits, &resolved, breaches)
                })
            };
            if keep.keeps(matches!(outcome, Outcome::Failed { .. })) {
                let kept = super::keep::Environment {
                    paused,
                    control,
                    confinement,
                    lease,
                };
                return Ok(super::keep::keep(context, test, kept, outcome));
            }
            super::keep::let_go(&control);
            paused.finish().map_err(started)?
        }
        (Collected::Paused(paused), _, _) => paused.finish().map_err(started)?,
    };
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
    /// Whether the environment may be kept after the verdict.
    keep: Option<Keep>,
}

/// Starts the environment and waits for it; the runner's end of the control socket, for a
/// test whose environment may be kept.
fn launch(
    context: &RunContext,
    test: &TestDef,
    handoff: &Handoff,
    confinement: &Confinement,
) -> sys::SysResult<(Collected, Option<OwnedFd>)> {
    let devnull = context.devnull()?;
    let (report_read, report_write) = sys::pipe()?;
    // A socket to PID 1: the host's end of a veth pair needs the runner while PID 1 builds
    // the sandbox, and a test that may be kept waits, once its body has ended, to be told.
    let veth = matches!(handoff.network, Network::Veth(_));
    let handshake = (veth || handoff.keep.is_some())
        .then(sys::socketpair)
        .transpose()?;
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
    let net = handoff.network.encode();
    let crate_dir = context
        .relocation
        .path(std::path::Path::new(test.manifest_dir));
    let mut envp = environment::for_test(test, &full_name, &handoff.root, &net, &crate_dir);
    if handoff.keep.is_some() {
        let var = format!("{}=1", crate::child::KEEP_VAR);
        envp.push(std::ffi::CString::new(var).expect("no NUL in a literal"));
    }
    if let Some(spec) = &context.adhoc {
        let var = format!("{}={}", crate::adhoc::ADHOC_VAR, spec.encode());
        envp.push(std::ffi::CString::new(var).map_err(|_| {
            sys::SysError::new("isolated run: a NUL in a key", nix::errno::Errno::EINVAL)
        })?);
    }
    let spawn = Spawn {
        exe: &context.exe,
        argv: &context.argv,
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
    let control = handshake.map(|(ours, _theirs)| ours);
    if let (Some(control), Network::Veth(veth)) = (&control, &handoff.network) {
        host_side::make_veth(&child, control, veth, timeout)?;
    }
    let output_read = output.map(|(read, _write)| read);
    let until = match handoff.keep {
        Some(_) => Until::BodyEnded,
        None => Until::Exit,
    };
    let collected = collect(
        child,
        report_read,
        output_read,
        timeout,
        || {
            let _ = confinement.kill_all();
        },
        until,
    )?;
    Ok((collected, control))
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
