//! PID 2: runs the test function, judges it like libtest would, and sends the verdict.

use std::fs::File;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;

use crate::registry::{ShouldPanic, TestDef};
use crate::report::{Message, Verdict};
use crate::sys;

/// Runs the test function. The name is the marker std's short backtraces stop at, as libtest
/// names its own: a panic's `RUST_BACKTRACE=1` backtrace shows the test's frames, not ours.
#[inline(never)]
fn __rust_begin_short_backtrace<T, F: FnOnce() -> T>(f: F) -> T {
    let result = f();
    // Keeps this frame from being a tail call, so that it is on the stack.
    std::hint::black_box(());
    result
}

/// The last panic's message and location, recorded by the hook.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

pub(super) fn run(test: &TestDef, mut report: File) -> ! {
    record_panics();
    let body = std::process::id();
    let result = panic::catch_unwind(AssertUnwindSafe(|| __rust_begin_short_backtrace(test.body)));
    if std::process::id() != body {
        // A copy the test forked returned from the test function: only the body reports.
        sys::exit_now(0)
    }
    // The message of the panic that unwound the body, with the location its hook saw.
    let location = LAST_PANIC
        .lock()
        .ok()
        .and_then(|p| p.clone())
        .map(|(_, l)| l);
    let panicked = result
        .as_ref()
        .err()
        .map(|payload| (payload_text(payload.as_ref()), location.unwrap_or_default()));
    let verdict = judge(
        test.should_panic,
        result.is_err(),
        result.unwrap_or(Ok(())),
        panicked,
    );
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let _ = Message::Verdict(verdict).send(&mut report);
    sys::exit_now(0)
}

/// Keeps the default hook's output (it is part of the captured output) and remembers the
/// message for the verdict.
fn record_panics() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let message = payload_text(info.payload());
        let location = info.location().map(|l| l.to_string()).unwrap_or_default();
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some((message, location));
        }
        default(info);
    }));
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// libtest's rules: a panic fails unless `#[should_panic]`, whose `expected` text must be a
/// substring of the message; an `Err` return fails.
fn judge(
    should_panic: ShouldPanic,
    did_panic: bool,
    returned: Result<(), String>,
    panic: Option<(String, String)>,
) -> Verdict {
    let (message, location) = panic.unwrap_or_default();
    match (should_panic, did_panic) {
        (ShouldPanic::No, false) => match returned {
            Ok(()) => Verdict::Passed,
            Err(error) => Verdict::Returned { error },
        },
        (ShouldPanic::No, true) => Verdict::Panicked { message, location },
        (_, false) => Verdict::DidNotPanic,
        (ShouldPanic::Yes, true) => Verdict::Passed,
        (ShouldPanic::WithMessage(expected), true) if message.contains(expected) => Verdict::Passed,
        (ShouldPanic::WithMessage(expected), true) => Verdict::WrongPanic {
            message,
            location,
            expected: expected.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boom() -> Option<(String, String)> {
        Some(("boom here".into(), "a.rs:1:1".into()))
    }

    #[test]
    fn judges_like_libtest() {
        assert_eq!(judge(ShouldPanic::No, false, Ok(()), None), Verdict::Passed);
        assert_eq!(
            judge(ShouldPanic::No, false, Err("Error: x".into()), None),
            Verdict::Returned {
                error: "Error: x".into()
            }
        );
        assert!(matches!(
            judge(ShouldPanic::No, true, Ok(()), boom()),
            Verdict::Panicked { .. }
        ));
        assert_eq!(
            judge(ShouldPanic::Yes, false, Ok(()), None),
            Verdict::DidNotPanic
        );
        assert_eq!(
            judge(ShouldPanic::Yes, true, Ok(()), boom()),
            Verdict::Passed
        );
        assert_eq!(
            judge(ShouldPanic::WithMessage("boom"), true, Ok(()), boom()),
            Verdict::Passed
        );
        assert!(matches!(
            judge(ShouldPanic::WithMessage("bang"), true, Ok(()), boom()),
            Verdict::WrongPanic { .. }
        ));
    }
}
