//! Turning what a test environment left behind into libtest's pass or fail, with a message
//! that says what happened.

use std::time::Duration;

use super::collect::Finished;
use crate::harness::Outcome;
use crate::registry::TestDef;
use crate::report::{Ended, Message, Verdict};
use crate::sys::{signal_name, ChildStatus};

/// How a failure to build the sandbox begins.
const SETUP_FAILED: &str = "failed to set up the sandbox";

/// Pass, or fail with a reason; either way with the captured output.
/// `captured`: the output was collected (else it went out live, `--nocapture`).
pub(super) fn judge(
    test: &TestDef,
    finished: Finished,
    captured: bool,
    explain: impl FnOnce(String) -> String,
) -> Outcome {
    let output = String::from_utf8_lossy(&finished.output).into_owned();
    let Some(mut reason) = reason(test, &finished) else {
        return Outcome::Passed { output };
    };
    // The hint looks at what the test printed as well as at the reason; not at a sandbox that
    // failed to be built (the test was not confined yet).
    let hint = match reason.starts_with(SETUP_FAILED) {
        true => None,
        false => super::hint::withheld(test, &format!("{output}\n{reason}")),
    };
    // libtest says nothing after a panic's own lines: neither do we, but for what only we
    // know (a limit the test ran into, a hint).
    if told_by_the_panic_hook(&finished, captured.then_some(output.as_str())) {
        reason.clear();
    }
    let mut reason = explain(reason);
    if let Some(hint) = hint {
        if !reason.is_empty() {
            reason.push('\n');
        }
        reason.push_str(&hint);
    }
    Outcome::Failed { output, reason }
}

/// Whether the test failed by panicking and its output already holds the panic hook's
/// `panicked at LOCATION:` and message (and the backtrace, if asked for): the captured
/// `output`, or, `None`, what went out live.
fn told_by_the_panic_hook(finished: &Finished, output: Option<&str>) -> bool {
    let Ok(messages) = &finished.messages else {
        return false;
    };
    finished.timed_out.is_none()
        && messages.iter().any(|m| match m {
            Message::Verdict(Verdict::Panicked { message, location }) => {
                output.is_none_or(|o| o.contains(&format!("panicked at {location}:\n{message}")))
            }
            _ => false,
        })
}

/// Why the test failed, or `None` if it passed.
fn reason(test: &TestDef, finished: &Finished) -> Option<String> {
    if let Some(after) = finished.timed_out {
        return Some(format!("timed out after {}", format_duration(after)));
    }
    let messages = match &finished.messages {
        Ok(messages) => messages,
        Err(e) => return Some(format!("the test's report was garbled: {e}")),
    };
    if let Some((step, error)) = setup_failure(messages) {
        return Some(format!("{SETUP_FAILED}: failed to {step}: {error}"));
    }
    let mut verdicts = messages.iter().filter_map(|m| match m {
        Message::Verdict(v) => Some(v),
        _ => None,
    });
    let verdict = verdicts.next();
    if verdicts.next().is_some() {
        return Some("the test reported more than one result".to_string());
    }
    let ended = messages.iter().find_map(|m| match m {
        Message::BodyEnded(e) => Some(*e),
        _ => None,
    });
    match (verdict, ended) {
        (Some(Verdict::Passed), Some(Ended::Exited(0))) => None,
        (Some(verdict), _) if *verdict != Verdict::Passed => Some(describe(test, verdict)),
        (_, Some(Ended::Signaled(sig))) => Some(format!("killed by {}", signal_name(sig))),
        (Some(_), Some(Ended::Exited(code))) => {
            Some(format!("reported success, then exited with code {code}"))
        }
        (None, Some(Ended::Exited(code))) => Some(format!(
            "exited with code {code} without reporting a result"
        )),
        (_, None) => Some(format!(
            "the test environment ended unexpectedly ({}) before the test finished",
            describe_status(finished.init)
        )),
    }
}

fn setup_failure(messages: &[Message]) -> Option<(&str, &str)> {
    messages.iter().find_map(|m| match m {
        Message::SetupFailed { step, error } => Some((step.as_str(), error.as_str())),
        _ => None,
    })
}

fn describe(test: &TestDef, verdict: &Verdict) -> String {
    match verdict {
        Verdict::Passed => String::new(),
        Verdict::Panicked { message, location } => {
            format!("test panicked at {location}: {message}")
        }
        Verdict::Returned { error } => format!("test returned an error: {error}"),
        Verdict::DidNotPanic => match test.should_panic {
            crate::registry::ShouldPanic::WithMessage(expected) => format!(
                "test did not panic as expected (expected a panic containing {expected:?})"
            ),
            _ => "test did not panic as expected".to_string(),
        },
        Verdict::WrongPanic { message, location, expected } => format!(
            "panic did not contain expected string\n      panic message: {message:?} (at {location})\n \
             expected substring: {expected:?}"
        ),
    }
}

fn describe_status(status: Option<ChildStatus>) -> String {
    match status {
        Some(ChildStatus::Exited(code)) => format!("exit code {code}"),
        Some(ChildStatus::Signaled(sig)) => format!("killed by {}", signal_name(sig)),
        None => "still running".to_string(),
    }
}

/// `500ms`, `10s`, `2m`, `1.5s`: the way the attribute writes durations.
pub(super) fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_attribute() {
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(format_duration(Duration::from_secs(10)), "10s");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
    }
}
