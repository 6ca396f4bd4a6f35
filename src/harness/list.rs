//! `--list`: the selected tests, one per line, as libtest prints them (`name: test`).

use std::io::{self, Write};

use super::args::Format;
use super::json::escape;
use super::select::Selected;

/// Prints the list to `out` (and the log, if there is one).
pub(super) fn print(
    format: Format,
    tests: &[Selected],
    out: &mut dyn Write,
    log: &mut Option<Box<dyn Write>>,
) -> io::Result<()> {
    if let Some(log) = log {
        for test in tests {
            writeln!(log, "test {}", test.trial.name())?;
        }
    }
    match format {
        Format::Json => json(tests, out)?,
        Format::Terse | Format::Pretty => {
            for test in tests {
                writeln!(out, "{}: test", test.trial.name())?;
            }
        }
    }
    if format == Format::Pretty {
        if !tests.is_empty() {
            writeln!(out)?;
        }
        let noun = if tests.len() == 1 { "test" } else { "tests" };
        writeln!(out, "{} {noun}, 0 benchmarks", tests.len())?;
    }
    out.flush()
}

fn json(tests: &[Selected], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, r#"{{ "type": "suite", "event": "discovery" }}"#)?;
    for test in tests {
        let trial = &test.trial;
        writeln!(
            out,
            r#"{{ "type": "test", "event": "discovered", "name": "{}", "ignore": {}, "ignore_message": "{}" }}"#,
            escape(trial.name()),
            trial.ignored.is_some(),
            escape(trial.ignore_message().unwrap_or(""))
        )?;
    }
    let ignored = tests.iter().filter(|t| t.trial.ignored.is_some()).count();
    writeln!(
        out,
        r#"{{ "type": "suite", "event": "completed", "tests": {0}, "benchmarks": 0, "total": {0}, "ignored": {ignored} }}"#,
        tests.len()
    )
}
