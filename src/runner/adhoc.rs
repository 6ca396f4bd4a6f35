//! `isolated run`'s environment: the one test its keys make, started like any other and kept
//! (whatever its body, which does nothing), for the command to run in.

use super::context::RunContext;
use super::{keep, launch};
use crate::adhoc::Spec;
use crate::harness::Outcome;
use crate::kept::Record;

/// The environment, kept: ended on drop.
pub(crate) struct Started {
    context: RunContext,
    pub record: Record,
}

impl Drop for Started {
    fn drop(&mut self) {
        keep::end_all(&self.context.cgroups);
        super::start::stop_zygotes();
        if let Ok(cgroups) = &self.context.cgroups {
            cgroups.remove_parents();
        }
    }
}

/// Starts the environment `spec` describes and keeps it. Call it while this process is
/// single-threaded: it sets the keeping variables.
pub(crate) fn start(spec: &Spec) -> Result<Started, String> {
    // Kept whatever happens, and ended with this process.
    std::env::set_var(crate::kept::KEEP_VAR, "all");
    std::env::remove_var(crate::kept::KEEP_FOR_VAR);
    let test = spec.test();
    let mut context = RunContext::new(test.manifest_dir, true);
    context.adhoc = Some(spec.clone());
    let outcome = launch::run_test(&context, test);
    match keep::take_only() {
        Some(record) => Ok(Started { context, record }),
        None => Err(match outcome {
            Outcome::Failed { reason, output } => format!("{output}{reason}"),
            Outcome::Passed { .. } => "the environment was not kept".to_string(),
        }),
    }
}
