//! What a run tells its formatter, and the formatter for each `--format`.

use std::io::{self, Write};
use std::time::Duration;

use super::args::{Arguments, Format};
use super::{human, json};

/// A finished trial's result, as libtest names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Ok,
    Failed,
    Ignored,
}

/// One trial's result, for the formatter.
pub(super) struct TrialResult<'a> {
    pub name: &'a str,
    pub status: Status,
    pub ignore_message: Option<&'a str>,
    /// What libtest calls the test's captured stdout: its output, and for a failure the reason.
    pub stdout: &'a str,
    /// How long it ran, with `--report-time`.
    pub time: Option<Duration>,
}

/// The whole run, once every trial has finished.
#[derive(Default)]
pub(super) struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub ignored: usize,
    pub filtered_out: usize,
    pub elapsed: Duration,
    /// Passed trials' names and output, in completion order (shown with `--show-output`).
    pub successes: Vec<(String, String)>,
    /// Failed trials' names and output, in completion order.
    pub failures: Vec<(String, String)>,
}

/// Prints a run as it happens. Every call comes from the thread that runs the harness.
pub(super) trait Formatter {
    fn run_start(&mut self, count: usize) -> io::Result<()>;
    fn started(&mut self, name: &str) -> io::Result<()>;
    fn finished(&mut self, result: &TrialResult) -> io::Result<()>;
    fn run_finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// The formatter `args` asks for, writing to `out`.
pub(super) fn formatter(
    args: &Arguments,
    out: Box<dyn Write>,
    color: bool,
    one_thread: bool,
) -> Box<dyn Formatter> {
    match args.format {
        Format::Json => Box::new(json::Json::new(out, args.show_output)),
        Format::Pretty | Format::Terse => Box::new(human::Human::new(
            out,
            human::Options {
                terse: args.format == Format::Terse,
                color,
                one_thread,
                show_output: args.show_output,
            },
        )),
    }
}

/// libtest's colors: a terminfo `setaf` and `sgr0`, as xterm spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Color {
    Red,
    Green,
    Yellow,
}

impl Color {
    pub(super) fn code(self) -> &'static str {
        match self {
            Color::Red => "\x1b[31m",
            Color::Green => "\x1b[32m",
            Color::Yellow => "\x1b[33m",
        }
    }
}

/// What ends a colored word.
pub(super) const RESET: &str = "\x1b(B\x1b[m";
