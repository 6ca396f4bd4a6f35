//! The parent side: lists and filters tests with libtest's command line, starts each one in its
//! own environment, collects its report and output, and prints libtest's output.

mod collect;
mod context;
mod environment;
mod hint;
mod host_side;
mod launch;
mod limits;
mod memo;
mod privileges;
mod relocation;
mod start;
mod verdict;
mod veth;

use std::sync::Arc;

use crate::harness::{self, Trial};
use crate::registry::{self, Ignore};
use context::RunContext;

/// The test binary's `main`: either this process is one test's environment (and runs it), or it
/// is the runner.
pub fn main(manifest_dir: &'static str) -> ! {
    // First, while single-threaded: a re-executed child never comes back from here.
    crate::child::run_if_child();
    // Relative path variables mean the directory the run started in, wherever it goes next.
    crate::fixtures::absolutize_env();
    // `--isolated-doctor`: what this machine supports, before the harness sees the flag.
    crate::doctor::run_if_asked();
    let args = harness::arguments_or_exit();
    let context = Arc::new(RunContext::new(manifest_dir, args.nocapture));
    let tests = registry::all();
    name_the_privileged(&tests);
    let trials = tests
        .into_iter()
        .map(|test| trial(&context, test))
        .collect();
    let conclusion = harness::run(&args, trials);
    start::stop_zygotes();
    if let Ok(cgroups) = &context.cgroups {
        cgroups.remove_parents();
    }
    std::process::exit(conclusion.exit_code())
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

/// `privileged = true` tests act on the host's kernel: say which, on stderr (stdout is
/// libtest's, which nextest parses), before they run or are listed.
fn name_the_privileged(tests: &[&'static registry::TestDef]) {
    let privileged: Vec<_> = tests
        .iter()
        .filter(|t| t.privileged)
        .map(|t| t.full_name())
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
