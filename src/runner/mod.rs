//! The parent side: lists and filters tests with libtest's command line, starts each one in its
//! own environment, collects its report and output, and prints libtest's output.

pub(crate) mod adhoc;
mod collect;
mod context;
mod environment;
mod hint;
mod host_side;
mod keep;
mod launch;
pub(crate) mod limits;
mod memo;
mod privileges;
mod relocation;
mod start;
mod suite;
mod verdict;
mod veth;

use std::sync::Arc;

use crate::harness::{self, Trial};
use crate::registry::{self, Ignore};
use context::RunContext;

/// A call of the set-up function: its value, boxed.
pub type SetUp = fn() -> Box<dyn std::any::Any>;

/// The host-side set-up of a suite, from `main!(setup = ..., teardown = ...)`: run in the
/// runner, on the host, never in a test's environment.
#[derive(Default)]
pub struct Suite {
    /// The set-up function's name (for messages) and a call of it, whose value is held until
    /// every test has ended, then dropped.
    pub setup: Option<(&'static str, SetUp)>,
    /// Called last, after the set-up's value is dropped.
    pub teardown: Option<(&'static str, fn())>,
}

/// The test binary's `main`: either this process is one test's environment (and runs it), or it
/// is the runner.
pub fn main(manifest_dir: &'static str) -> ! {
    main_with(manifest_dir, Suite::default())
}

/// [`main`], with the suite's host-side set-up and teardown.
pub fn main_with(manifest_dir: &'static str, suite: Suite) -> ! {
    // First, while single-threaded: a re-executed child never comes back from here.
    crate::child::run_if_child();
    // Relative path variables mean the directory the run started in, wherever it goes next.
    crate::fixtures::absolutize_env();
    // `--isolated enter ID`, and the rest of the `isolated` command.
    crate::cli::run_if_asked();
    // `--isolated-doctor`: what this machine supports, before the harness sees the flag.
    crate::doctor::run_if_asked();
    let args = harness::arguments_or_exit();
    if let Err(e) = crate::kept::Keep::check_env() {
        eprintln!("error: {e}");
        std::process::exit(101)
    }
    let context = Arc::new(RunContext::new(manifest_dir, args.nocapture));
    let tests = registry::all();
    let trials = tests
        .iter()
        .copied()
        .map(|test| trial(&context, test))
        .collect();
    // The set-up's value (a server's handle, say) lives until every test has ended; set up
    // only if a test runs, and torn down only if set up.
    let mut set_up: Option<Option<Box<dyn std::any::Any>>> = None;
    let conclusion = harness::run(&args, trials, &mut |running| {
        name_the_privileged(&tests, running);
        set_up = Some(suite::set_up(&suite)?);
        Ok(())
    });
    start::stop_zygotes();
    keep::end_of_run(&context.cgroups);
    let torn_down = match set_up {
        Some(value) => suite::tear_down(&suite, value),
        None => Ok(()),
    };
    if let Ok(cgroups) = &context.cgroups {
        cgroups.remove_parents();
    }
    match torn_down {
        Ok(()) => std::process::exit(conclusion.exit_code()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(101)
        }
    }
}

fn trial(context: &Arc<RunContext>, test: &'static registry::TestDef) -> Trial {
    let context = Arc::clone(context);
    let trial = Trial::test(test.full_name(), move || launch::run_test(&context, test))
        .should_panic(test.should_panic != registry::ShouldPanic::No);
    match test.ignore {
        Ignore::No => trial,
        Ignore::Yes => trial.ignored(None),
        Ignore::WithReason(reason) => trial.ignored(Some(reason)),
    }
}

/// `privileged = true` tests act on the host's kernel: say which of those about to run do,
/// on stderr (stdout is libtest's, which nextest parses), before they start.
fn name_the_privileged(tests: &[&'static registry::TestDef], running: &[&str]) {
    let privileged: Vec<_> = tests
        .iter()
        .filter(|t| t.privileged)
        .map(|t| t.full_name())
        .filter(|name| running.contains(&name.as_str()))
        .collect();
    if !privileged.is_empty() {
        eprintln!(
            "isolated: {} privileged test(s) run with the host's kernel, outside a user \
             namespace: {}",
            privileged.len(),
            privileged.join(", ")
        );
    }
}
