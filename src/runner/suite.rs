//! A suite's host-side set-up and teardown (`isolated::main!(setup = ..., teardown = ...)`):
//! run once in the runner, on the host, before the first test and after the last. Never in a
//! test's environment: the environments are started from zygotes and execs of the test binary,
//! which go to the test at the top of `main` before anything here runs.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::Suite;

/// Runs the set-up, if any; its value, held until [`tear_down`]. A panic is the error.
pub(super) fn set_up(suite: &Suite) -> Result<Option<Box<dyn Any>>, String> {
    let Some((name, setup)) = suite.setup else {
        return Ok(None);
    };
    catch_unwind(setup)
        .map(Some)
        .map_err(|panic| format!("the suite's set-up `{name}` panicked: {}", text(&*panic)))
}

/// Drops the set-up's value, then runs the teardown, if any. A panic in either is the error.
pub(super) fn tear_down(suite: &Suite, set_up: Option<Box<dyn Any>>) -> Result<(), String> {
    let name = suite.setup.map_or("", |(name, _)| name);
    catch_unwind(AssertUnwindSafe(|| drop(set_up))).map_err(|panic| {
        format!(
            "dropping the value of the suite's set-up `{name}` panicked: {}",
            text(&*panic)
        )
    })?;
    let Some((name, teardown)) = suite.teardown else {
        return Ok(());
    };
    catch_unwind(teardown)
        .map_err(|panic| format!("the suite's teardown `{name}` panicked: {}", text(&*panic)))
}

fn text(panic: &(dyn Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "Box<dyn Any>".to_string(),
    }
}
