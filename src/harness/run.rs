//! Running the selected trials on a pool of threads and telling the formatter as each starts
//! and ends: results are printed in the order the trials finish, as libtest prints them.

use std::io::{self, IsTerminal, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use super::args::{Arguments, Color, Format};
use super::format::{self, Formatter, Status, Summary, TrialResult};
use super::list;
use super::select::{select, Selected};
use super::trial::{Outcome, Trial};

/// What a run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Conclusion {
    /// Trials that passed.
    pub passed: usize,
    /// Trials that failed.
    pub failed: usize,
    /// Trials reported ignored.
    pub ignored: usize,
    /// Trials the filters left out.
    pub filtered_out: usize,
}

impl Conclusion {
    /// libtest's exit code: 0 when nothing failed, 101 otherwise.
    pub fn exit_code(&self) -> i32 {
        if self.failed == 0 {
            0
        } else {
            101
        }
    }
}

/// A message from a worker thread to the harness's thread.
enum Event {
    Started(usize),
    /// `None`: the trial is ignored and did not run.
    Finished(usize, Option<Outcome>, Duration),
}

/// Lists or runs `trials` as `args` asks, printing libtest's output to stdout. `before` runs
/// once before the first trial, with the names of those that will run, if any is to; its
/// error is printed and ends the run (exit code 101) before any trial starts.
pub fn run(
    args: &Arguments,
    trials: Vec<Trial>,
    before: &mut dyn FnMut(&[&str]) -> Result<(), String>,
) -> Conclusion {
    let (selected, filtered_out) = select(args, trials);
    let outcome = open_log(args).and_then(|mut log| {
        if args.list {
            list::print(args.format, &selected, &mut io::stdout(), &mut log)?;
            return Ok(Conclusion::default());
        }
        let running: Vec<&str> = selected
            .iter()
            .filter(|s| s.runs)
            .map(|s| s.trial.name.as_str())
            .collect();
        if !running.is_empty() {
            if let Err(e) = before(&running) {
                eprintln!("error: {e}");
                return Ok(Conclusion {
                    failed: 1,
                    ..Conclusion::default()
                });
            }
        }
        run_selected(args, selected, filtered_out, log)
    });
    outcome.unwrap_or_else(|e| {
        eprintln!("error: failed to write the test results: {e}");
        Conclusion {
            failed: 1,
            ..Conclusion::default()
        }
    })
}

fn open_log(args: &Arguments) -> io::Result<Option<Box<dyn Write>>> {
    let Some(path) = &args.logfile else {
        return Ok(None);
    };
    eprintln!("warning: `--logfile` is deprecated");
    let file = std::fs::File::create(path).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("failed to create {}: {e}", path.display()),
        )
    })?;
    Ok(Some(Box::new(io::BufWriter::new(file))))
}

fn run_selected(
    args: &Arguments,
    selected: Vec<Selected>,
    filtered_out: usize,
    mut log: Option<Box<dyn Write>>,
) -> io::Result<Conclusion> {
    let start = Instant::now();
    let threads = args
        .test_threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, usize::from);
    let mut formatter = format::formatter(args, Box::new(io::stdout()), color(args), threads == 1);
    formatter.run_start(selected.len())?;
    let mut summary = Summary {
        filtered_out,
        ..Summary::default()
    };
    let mut names = Vec::with_capacity(selected.len());
    let mut jobs = Vec::with_capacity(selected.len());
    for (index, Selected { trial, runs }) in selected.into_iter().enumerate() {
        names.push((trial.name, trial.ignored.flatten()));
        jobs.push((index, runs.then_some(trial.runner)));
    }
    let (events, received) = mpsc::channel();
    let queue = Mutex::new(jobs.into_iter());
    std::thread::scope(|scope| -> io::Result<()> {
        for _ in 0..threads.min(names.len()) {
            let events = events.clone();
            let queue = &queue;
            scope.spawn(move || work(queue, events));
        }
        drop(events);
        for event in received {
            match event {
                Event::Started(index) => formatter.started(&names[index].0)?,
                Event::Finished(index, outcome, time) => {
                    let (name, reason) = &names[index];
                    let result = Finished {
                        name,
                        ignore_message: reason.as_deref(),
                        outcome,
                        time,
                    };
                    result.report(args, &mut *formatter, &mut log, &mut summary)?;
                }
            }
        }
        Ok(())
    })?;
    summary.elapsed = start.elapsed();
    formatter.run_finish(&summary)?;
    if let Some(log) = &mut log {
        log.flush()?;
    }
    Ok(Conclusion {
        passed: summary.passed,
        failed: summary.failed,
        ignored: summary.ignored,
        filtered_out,
    })
}

type Queue = Mutex<std::vec::IntoIter<(usize, Option<Box<dyn FnOnce() -> Outcome + Send>>)>>;

/// A worker: takes the next trial until there are none, runs it, says how it went.
fn work(queue: &Queue, events: mpsc::Sender<Event>) {
    loop {
        let Some((index, runner)) = queue.lock().unwrap_or_else(|p| p.into_inner()).next() else {
            return;
        };
        // The receiver lives until every worker is done; a failed send only means it is gone.
        let _ = events.send(Event::Started(index));
        let start = Instant::now();
        let outcome = runner.map(run_caught);
        let _ = events.send(Event::Finished(index, outcome, start.elapsed()));
    }
}

/// Runs a trial; a runner that panics has failed.
fn run_caught(runner: Box<dyn FnOnce() -> Outcome + Send>) -> Outcome {
    catch_unwind(AssertUnwindSafe(runner)).unwrap_or_else(|payload| {
        let text = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied());
        Outcome::Failed {
            output: String::new(),
            reason: match text {
                Some(text) => format!("the test runner panicked: {text}"),
                None => "the test runner panicked".to_string(),
            },
        }
    })
}

/// libtest's rule: color on a terminal, unless output is not captured.
fn color(args: &Arguments) -> bool {
    match args.color {
        Color::Always => args.format != Format::Json,
        Color::Never => false,
        Color::Auto => args.format != Format::Json && !args.nocapture && io::stdout().is_terminal(),
    }
}

/// One trial's end, on its way to the formatter, the log and the summary.
struct Finished<'a> {
    name: &'a str,
    ignore_message: Option<&'a str>,
    outcome: Option<Outcome>,
    time: Duration,
}

impl Finished<'_> {
    fn report(
        self,
        args: &Arguments,
        formatter: &mut dyn Formatter,
        log: &mut Option<Box<dyn Write>>,
        summary: &mut Summary,
    ) -> io::Result<()> {
        let (status, stdout) = match self.outcome {
            None => (Status::Ignored, String::new()),
            Some(Outcome::Passed { output }) => (Status::Ok, output),
            Some(Outcome::Failed { output, reason }) => {
                (Status::Failed, failure_text(args, output, &reason)?)
            }
        };
        let time = (args.report_time && status != Status::Ignored).then_some(self.time);
        formatter.finished(&TrialResult {
            name: self.name,
            status,
            ignore_message: self.ignore_message,
            stdout: &stdout,
            time,
        })?;
        if let Some(log) = log {
            write_log(log, self.name, status, self.ignore_message, time)?;
        }
        let name = self.name.to_string();
        match status {
            Status::Ok => {
                summary.passed += 1;
                summary.successes.push((name, stdout));
            }
            Status::Failed => {
                summary.failed += 1;
                summary.failures.push((name, stdout));
            }
            Status::Ignored => summary.ignored += 1,
        }
        Ok(())
    }
}

/// What a failure shows as its output: what the test printed, then why it failed.
///
/// With `--nocapture` the test's output went out live, so its reason does too: on stderr, as
/// `Error: …`, the way libtest reports a test's returned error. That is also where nextest (which
/// runs each test with `--exact NAME --nocapture`) looks for a failure's message for its JUnit
/// report.
fn failure_text(args: &Arguments, output: String, reason: &str) -> io::Result<String> {
    if reason.is_empty() {
        return Ok(output); // the output says it all (a panic's own lines)
    }
    if args.nocapture {
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "Error: {reason}")?;
        stderr.flush()?;
        return Ok(output);
    }
    let mut text = output;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(reason);
    text.push('\n');
    Ok(text)
}

/// libtest's log line: `ok NAME`, `failed NAME`, `ignored: REASON NAME`.
fn write_log(
    log: &mut dyn Write,
    name: &str,
    status: Status,
    ignore_message: Option<&str>,
    time: Option<Duration>,
) -> io::Result<()> {
    match (status, ignore_message) {
        (Status::Ok, _) => write!(log, "ok {name}")?,
        (Status::Failed, _) => write!(log, "failed {name}")?,
        (Status::Ignored, None) => write!(log, "ignored {name}")?,
        (Status::Ignored, Some(reason)) => write!(log, "ignored: {reason} {name}")?,
    }
    if let Some(time) = time {
        write!(log, " <{:.3}s>", time.as_secs_f64())?;
    }
    writeln!(log)
}
