//! libtest's output for people: `--format pretty` (one line per test) and `--format terse`
//! (one character per test, failures by name).

use std::io::{self, Write};
use std::time::Duration;

use super::format::{Color, Formatter, Status, Summary, TrialResult, RESET};

/// libtest starts a new terse line after this many results.
const TERSE_COLUMNS: usize = 88;
/// `--report-time` colors a test's time from these (libtest's integration-test defaults).
const WARN_TIME: Duration = Duration::from_millis(500);
const CRITICAL_TIME: Duration = Duration::from_millis(1000);

pub(super) struct Options {
    pub terse: bool,
    pub color: bool,
    /// One test at a time: its name is printed when it starts, so a hanging test shows.
    pub one_thread: bool,
    pub show_output: bool,
}

pub(super) struct Human {
    out: Box<dyn Write>,
    options: Options,
    /// Terse: results so far, how many there will be, and whether the current line has marks.
    count: usize,
    total: usize,
    marks: bool,
}

impl Human {
    pub(super) fn new(out: Box<dyn Write>, options: Options) -> Self {
        Human {
            out,
            options,
            count: 0,
            total: 0,
            marks: false,
        }
    }

    fn paint(&mut self, text: &str, color: Color) -> io::Result<()> {
        if self.options.color {
            write!(self.out, "{}{text}{RESET}", color.code())
        } else {
            self.out.write_all(text.as_bytes())
        }
    }

    fn pretty(&mut self, result: &TrialResult) -> io::Result<()> {
        if !self.options.one_thread {
            write!(self.out, "test {} ... ", result.name)?;
        }
        match (result.status, result.ignore_message) {
            (Status::Ok, _) => self.paint("ok", Color::Green)?,
            (Status::Failed, _) => self.paint("FAILED", Color::Red)?,
            (Status::Ignored, None) => self.paint("ignored", Color::Yellow)?,
            (Status::Ignored, Some(reason)) => {
                self.paint(&format!("ignored, {reason}"), Color::Yellow)?
            }
        }
        if let Some(time) = result.time {
            let text = format!(" <{:.3}s>", time.as_secs_f64());
            match (time >= CRITICAL_TIME, time >= WARN_TIME) {
                (true, _) if self.options.color => self.paint(&text, Color::Red)?,
                (_, true) if self.options.color => self.paint(&text, Color::Yellow)?,
                _ => self.out.write_all(text.as_bytes())?,
            }
        }
        writeln!(self.out)
    }

    fn terse(&mut self, result: &TrialResult) -> io::Result<()> {
        let (mark, color) = match result.status {
            Status::Ok => (".", Color::Green),
            Status::Ignored => ("i", Color::Yellow),
            Status::Failed => {
                // A failure gets its own line, after the marks so far.
                if self.marks {
                    writeln!(self.out, " {}/{}", self.count, self.total)?;
                    self.marks = false;
                }
                write!(self.out, "{} --- ", result.name)?;
                self.paint("FAILED", Color::Red)?;
                writeln!(self.out)?;
                self.count += 1;
                return Ok(());
            }
        };
        self.paint(mark, color)?;
        self.marks = true;
        if self.count % TERSE_COLUMNS == TERSE_COLUMNS - 1 {
            writeln!(self.out, " {}/{}", self.count + 1, self.total)?;
            self.marks = false;
        }
        self.count += 1;
        Ok(())
    }

    /// libtest's `successes:` or `failures:` section: each non-empty output, then the names.
    fn section(&mut self, title: &str, entries: &[(String, String)]) -> io::Result<()> {
        write!(self.out, "\n{title}:\n")?;
        let outputs: Vec<_> = entries.iter().filter(|(_, out)| !out.is_empty()).collect();
        if !outputs.is_empty() {
            writeln!(self.out)?;
            for (name, output) in outputs {
                write!(self.out, "---- {name} stdout ----\n{output}\n")?;
            }
        }
        write!(self.out, "\n{title}:\n")?;
        let mut names: Vec<&str> = entries.iter().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        for name in names {
            writeln!(self.out, "    {name}")?;
        }
        Ok(())
    }
}

impl Formatter for Human {
    fn run_start(&mut self, count: usize) -> io::Result<()> {
        self.total = count;
        let noun = if count == 1 { "test" } else { "tests" };
        write!(self.out, "\nrunning {count} {noun}\n")?;
        self.out.flush()
    }

    fn started(&mut self, name: &str) -> io::Result<()> {
        if self.options.one_thread && !self.options.terse {
            write!(self.out, "test {name} ... ")?;
            self.out.flush()?;
        }
        Ok(())
    }

    fn finished(&mut self, result: &TrialResult) -> io::Result<()> {
        match self.options.terse {
            true => self.terse(result)?,
            false => self.pretty(result)?,
        }
        self.out.flush()
    }

    fn run_finish(&mut self, summary: &Summary) -> io::Result<()> {
        if self.options.show_output {
            self.section("successes", &summary.successes)?;
        }
        if summary.failed > 0 {
            self.section("failures", &summary.failures)?;
        }
        write!(self.out, "\ntest result: ")?;
        match summary.failed {
            0 => self.paint("ok", Color::Green)?,
            _ => self.paint("FAILED", Color::Red)?,
        }
        write!(
            self.out,
            ". {} passed; {} failed; {} ignored; 0 measured; {} filtered out; \
             finished in {:.2}s\n\n",
            summary.passed,
            summary.failed,
            summary.ignored,
            summary.filtered_out,
            summary.elapsed.as_secs_f64()
        )?;
        self.out.flush()
    }
}
