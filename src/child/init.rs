//! PID 1 of the test's namespaces: builds the sandbox, starts the body as PID 2, reaps every
//! orphan, and reports how the body ended. When it exits, the kernel kills whatever is left.

use std::fs::File;
use std::os::fd::FromRawFd;
use std::path::PathBuf;

use super::{body, REPORT_FD};
use crate::plan::{Plan, Root};
use crate::registry::{self, TestDef};
use crate::report::{Ended, Message};
use crate::sandbox;
use crate::sys::{self, ChildStatus, Forked};

pub(super) fn run(name: &str, root: PathBuf) -> ! {
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
    let Some(test) = registry::find(name) else {
        fail(
            &mut report,
            "find the test",
            format!("no test named `{name}` in this binary"),
        )
    };
    let mut plan = Plan::new(test, Root::decode(&root.to_string_lossy()));
    // While the host's paths are still the ones we see: resolve bind sources' symlinks.
    for bind in &mut plan.binds {
        match std::fs::canonicalize(&bind.source) {
            Ok(path) => bind.source = path,
            Err(e) => fail(
                &mut report,
                "find a `bind` source",
                format!("{}: {e}", bind.source.display()),
            ),
        }
    }
    if let Err(e) = sandbox::enter(&plan) {
        fail(&mut report, e.step, e.source.to_string())
    }
    start_body(test, report)
}

fn start_body(test: &'static TestDef, mut report: File) -> ! {
    // SAFETY: this process is single-threaded: it was just exec'd and started no thread.
    match unsafe { sys::fork() } {
        Ok(Forked::Child) => body::run(test, report),
        Ok(Forked::Parent(pid)) => supervise(pid, report),
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
