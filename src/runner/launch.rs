//! Starting one test's environment and waiting for it.

use std::os::fd::AsRawFd;
use std::time::Duration;

use libtest_mimic::Failed;

use super::collect::{collect, Finished};
use super::context::RunContext;
use super::{environment, verdict};
use crate::child::REPORT_FD;
use crate::fixtures::Rootfs;
use crate::registry::TestDef;
use crate::sys::{self, FdMap, Namespaces};

/// Runs one test in a fresh environment and turns what happened into libtest's result.
pub(super) fn run_test(context: &RunContext, test: &'static TestDef) -> Result<(), Failed> {
    context.privileges()?;
    let root = match context.rootfs(test.rootfs)? {
        Rootfs::Host => String::new(),
        Rootfs::Tree(path) => path.to_string_lossy().into_owned(),
    };
    let finished = launch(context, test, &root).map_err(|e| {
        let mut message = format!("failed to start the test environment: {e}");
        if e.errno == nix::errno::Errno::EPERM {
            message
                .push_str("\nisolated needs root to create namespaces: run `sudo -E cargo test`");
        }
        message
    })?;
    verdict::judge(test, finished)
}

fn launch(context: &RunContext, test: &TestDef, root: &str) -> sys::SysResult<Finished> {
    let devnull = context
        .devnull
        .as_ref()
        .map_err(|_| sys::SysError::at("open", "/dev/null", nix::errno::Errno::ENOENT))?;
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
