//! When a test's environment is kept: `ISOLATED_KEEP`, `ISOLATED_KEEP_FOR`, `keep = true`.

use std::time::Duration;

use crate::registry::TestDef;

/// `failed` (a failed test's environment is kept) or `all`.
pub(crate) const KEEP_VAR: &str = "ISOLATED_KEEP";
/// How long kept environments outlive the run, like a `timeout`: `10m`, `1h`.
pub(crate) const KEEP_FOR_VAR: &str = "ISOLATED_KEEP_FOR";

/// Which of a test's environments to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    /// Only if the test fails (`ISOLATED_KEEP=failed`, `keep = true`).
    Failed,
    /// Whatever the verdict (`ISOLATED_KEEP=all`).
    All,
}

impl Keep {
    /// What this run keeps of `test`, if anything. `ISOLATED_KEEP` with another value is an
    /// error, said once by [`Keep::check_env`].
    pub(crate) fn of(test: &TestDef) -> Option<Keep> {
        // Read once per run, not per test.
        static RUN: std::sync::OnceLock<Option<Keep>> = std::sync::OnceLock::new();
        let run = *RUN.get_or_init(|| match std::env::var(KEEP_VAR).as_deref() {
            Ok("all") => Some(Keep::All),
            Ok("failed") => Some(Keep::Failed),
            _ => None,
        });
        match (run, test.keep) {
            (Some(keep), _) => Some(keep),
            (None, true) => Some(Keep::Failed),
            (None, false) => None,
        }
    }

    /// Whether a test with this verdict stays.
    pub(crate) fn keeps(self, failed: bool) -> bool {
        self == Keep::All || failed
    }

    /// The run's `ISOLATED_KEEP` and `ISOLATED_KEEP_FOR`, checked once: the error says what
    /// they accept.
    pub(crate) fn check_env() -> Result<(), String> {
        match std::env::var(KEEP_VAR).as_deref() {
            Ok("failed" | "all" | "" | "0") | Err(_) => {}
            Ok(other) => {
                return Err(format!(
                    "{KEEP_VAR}={other}: expected `failed` (keep the environment of a failed \
                     test) or `all`"
                ))
            }
        }
        keep_for().map(|_| ())
    }
}

/// `ISOLATED_KEEP_FOR`: how long kept environments outlive the run; `None`, they end with it.
pub(crate) fn keep_for() -> Result<Option<Duration>, String> {
    match std::env::var(KEEP_FOR_VAR) {
        Ok(text) if !text.is_empty() => crate::adhoc::duration::parse_millis(&text)
            .map(|ms| Some(Duration::from_millis(ms)))
            .map_err(|e| format!("{KEEP_FOR_VAR}: {}", e.replace("timeout", "duration"))),
        _ => Ok(None),
    }
}
