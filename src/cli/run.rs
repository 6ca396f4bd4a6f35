//! `isolated run [KEY=VALUE...] [-- CMD...]`: a fresh environment with exactly the keys an
//! `#[isolated(...)]` takes, a shell (or CMD) in it, and nothing left when it exits.

use crate::adhoc::Spec;

/// Runs CMD (a shell) in a fresh environment; its exit code.
pub(super) fn run(args: &[String]) -> Result<i32, String> {
    let (keys, command) = super::split_at_dashes(args);
    let dir = std::env::current_dir()
        .map_err(|e| format!("the current directory: {e}"))?
        .to_string_lossy()
        .into_owned();
    let spec = Spec::parse(keys, &dir)?;
    let started = crate::runner::adhoc::start(&spec)
        .map_err(|e| format!("failed to start the environment: {e}"))?;
    let code = super::enter::enter(&started.record, command, spec.timeout());
    // The environment ends here, whatever the command did.
    drop(started);
    code
}
