//! Starting one test's environment and waiting for it.

use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Duration;

use libtest_mimic::Failed;

use super::collect::{collect, Finished};
use super::context::RunContext;
use super::{environment, verdict};
use crate::child::REPORT_FD;
use crate::registry::TestDef;
use crate::sys::{self, FdMap, Namespaces};

/// Runs one test in a fresh environment and turns what happened into libtest's result.
pub(super) fn run_test(context: &RunContext, test: &'static TestDef) -> Result<(), Failed> {
    context.privileges()?;
    let root = context.root_for(test)?.encode();
    let devnull = context.devnull.as_ref().map_err(Clone::clone)?;
    let finished = launch(context, devnull, test, &root).map_err(|e| {
        format!(
            "failed to start the test environment: {e}{}",
            spawn_hint(&e)
        )
    })?;
    verdict::judge(test, finished)
}

fn launch(
    context: &RunContext,
    devnull: &OwnedFd,
    test: &TestDef,
    root: &str,
) -> sys::SysResult<Finished> {
    let (report_read, report_write) = sys::pipe()?;
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
    if let Some((_, write)) = &output {
        fds.push(FdMap {
            source: write.as_raw_fd(),
            target: 1,
        });
        fds.push(FdMap {
            source: write.as_raw_fd(),
            target: 2,
        });
    }
    let full_name = test.full_name();
    let argv = [context.exe.clone(), c"--isolated-child".into()];
    let envp = environment::for_test(test, &full_name, root);
    let child = sys::spawn_in_namespaces(&context.exe, &argv, &envp, &fds, Namespaces::TEST)?;

    // Only the child may hold the write ends now, so EOF means it is gone.
    drop(report_write);
    let output_read = output.map(|(read, _write)| read);
    let timeout = Duration::from_millis(test.timeout_ms);
    collect(child, report_read, output_read, timeout)
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
