//! libtest's command line: the flags `cargo test -- …` and nextest pass, parsed the way libtest's
//! getopts parser reads them (`--flag value` and `--flag=value`, `--` ends the options, any
//! number of positional filters).

use std::num::NonZeroUsize;
use std::path::PathBuf;

/// `--format`, or `-q` for terse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// One line per test (the default).
    #[default]
    Pretty,
    /// One character per test.
    Terse,
    /// One JSON object per line, as libtest's `--format json` (which libtest accepts only with
    /// `-Z unstable-options`; this harness accepts it without).
    Json,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Color {
    /// Color when stdout is a terminal and output is captured (the default).
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// What the command line asked for. Every field defaults to libtest's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Arguments {
    /// Positional filters: a test runs if its name contains any of them (equals, with `--exact`).
    pub filters: Vec<String>,
    /// `--exact`: filters and `--skip` match whole names.
    pub exact: bool,
    /// `--skip FILTER`, repeatable.
    pub skip: Vec<String>,
    /// `--ignored`: run only the ignored tests.
    pub ignored: bool,
    /// `--include-ignored`: run ignored tests too.
    pub include_ignored: bool,
    /// `--exclude-should-panic`.
    pub exclude_should_panic: bool,
    /// `--list`: print the tests instead of running them.
    pub list: bool,
    /// `--nocapture`, `--no-capture` or `RUST_TEST_NOCAPTURE` (not `0`).
    pub nocapture: bool,
    /// `--show-output`: print passing tests' output too.
    pub show_output: bool,
    /// `--report-time`: each test's duration after its result.
    pub report_time: bool,
    /// `--test-threads N` or `RUST_TEST_THREADS`; `None`: available parallelism.
    pub test_threads: Option<NonZeroUsize>,
    /// `--format`, `-q`.
    pub format: Format,
    /// `--color`.
    pub color: Color,
    /// `--logfile PATH`: one line per result written there too.
    pub logfile: Option<PathBuf>,
    /// `--bench` without `--test`: only benchmarks run, and every test here is ignored.
    pub bench_only: bool,
    /// `-h`, `--help`.
    pub help: bool,
}

/// A command line libtest would refuse, with libtest's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgsError(String);

/// Flags without a value.
const FLAGS: [&str; 14] = [
    "exact",
    "ignored",
    "include-ignored",
    "exclude-should-panic",
    "list",
    "nocapture",
    "no-capture",
    "show-output",
    "report-time",
    "quiet",
    "test",
    "bench",
    "help",
    "force-run-in-process",
];
/// Options that take a value.
const OPTIONS: [&str; 5] = ["skip", "test-threads", "format", "color", "logfile"];
/// libtest options this harness does not implement: refused by name rather than as unknown.
const UNSUPPORTED: [&str; 4] = ["ensure-time", "shuffle", "shuffle-seed", "fail-fast"];

impl Arguments {
    /// Parses `args` (without the program name), reading `RUST_TEST_THREADS` and
    /// `RUST_TEST_NOCAPTURE` through `env`.
    pub fn parse<I, S>(args: I, env: impl Fn(&str) -> Option<String>) -> Result<Self, ArgsError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut parsed = Arguments::default();
        let (mut quiet, mut format, mut test, mut bench) = (false, None, false, false);
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let Some((name, inline)) = option_name(&arg) else {
                parsed.filters.push(arg);
                continue;
            };
            if name == "--" {
                parsed.filters.extend(args.by_ref());
                break;
            }
            let name = long_name(&name).ok_or_else(|| unrecognized(&name))?;
            if UNSUPPORTED.contains(&name) {
                return Err(ArgsError(format!(
                    "error: --{name} is not supported by isolated's test harness"
                )));
            }
            if FLAGS.contains(&name) {
                if inline.is_some() {
                    return Err(ArgsError(format!(
                        "error: Option '{name}' does not take an argument"
                    )));
                }
                match name {
                    "exact" => parsed.exact = true,
                    "ignored" => parsed.ignored = true,
                    "include-ignored" => parsed.include_ignored = true,
                    "exclude-should-panic" => parsed.exclude_should_panic = true,
                    "list" => parsed.list = true,
                    "nocapture" | "no-capture" => parsed.nocapture = true,
                    "show-output" => parsed.show_output = true,
                    "report-time" => parsed.report_time = true,
                    "quiet" => quiet = true,
                    "test" => test = true,
                    "bench" => bench = true,
                    "help" => parsed.help = true,
                    // Every test runs in its own process already.
                    _ => {}
                }
                continue;
            }
            let value = match inline {
                Some(value) => value,
                None => args.next().ok_or_else(|| {
                    ArgsError(format!("error: Argument to option '{name}' missing"))
                })?,
            };
            match name {
                "skip" => parsed.skip.push(value),
                "test-threads" => parsed.test_threads = Some(threads("--test-threads", &value)?),
                "format" => format = Some(parse_format(&value)?),
                "color" => parsed.color = parse_color(&value)?,
                "logfile" => parsed.logfile = Some(PathBuf::from(value)),
                "Z" => unstable(&value)?,
                _ => unreachable!("every option is matched"),
            }
        }
        if parsed.ignored && parsed.include_ignored {
            return Err(ArgsError(
                "error: the options --include-ignored and --ignored are mutually exclusive".into(),
            ));
        }
        parsed.format = format.unwrap_or(if quiet { Format::Terse } else { Format::Pretty });
        parsed.bench_only = bench && !test;
        if parsed.test_threads.is_none() {
            if let Some(value) = env("RUST_TEST_THREADS") {
                parsed.test_threads = Some(threads("RUST_TEST_THREADS", &value)?);
            }
        }
        parsed.nocapture |= env("RUST_TEST_NOCAPTURE").is_some_and(|v| v != "0");
        Ok(parsed)
    }
}

/// `--name[=value]` or `-x[value]` split into the option and an inline value; `None` for a
/// positional argument.
fn option_name(arg: &str) -> Option<(String, Option<String>)> {
    if arg == "--" {
        return Some(("--".into(), None));
    }
    if let Some(long) = arg.strip_prefix("--") {
        return Some(match long.split_once('=') {
            Some((name, value)) => (format!("--{name}"), Some(value.to_string())),
            None => (arg.to_string(), None),
        });
    }
    let short = arg.strip_prefix('-').filter(|s| !s.is_empty())?;
    let (first, rest) = short.split_at(short.chars().next()?.len_utf8());
    Some((
        format!("-{first}"),
        (!rest.is_empty()).then(|| rest.to_string()),
    ))
}

/// The long name of `--name`, `-q`, `-h` or `-Z`; `None` if libtest has no such option.
fn long_name(option: &str) -> Option<&'static str> {
    match option {
        "-q" => Some("quiet"),
        "-h" => Some("help"),
        "-Z" => Some("Z"),
        _ => {
            let long = option.strip_prefix("--")?;
            FLAGS
                .into_iter()
                .chain(OPTIONS)
                .chain(UNSUPPORTED)
                .find(|known| *known == long)
        }
    }
}

fn unrecognized(option: &str) -> ArgsError {
    let name = option.trim_start_matches('-');
    ArgsError(format!("error: Unrecognized option: '{name}'"))
}

fn threads(source: &str, value: &str) -> Result<NonZeroUsize, ArgsError> {
    match value.parse::<usize>() {
        Ok(n) => NonZeroUsize::new(n)
            .ok_or_else(|| ArgsError(format!("error: argument for {source} must not be 0"))),
        Err(e) => Err(ArgsError(format!(
            "error: argument for {source} must be a number > 0 (error: {e})"
        ))),
    }
}

fn parse_format(value: &str) -> Result<Format, ArgsError> {
    match value {
        "pretty" => Ok(Format::Pretty),
        "terse" => Ok(Format::Terse),
        "json" => Ok(Format::Json),
        "junit" => Err(ArgsError(
            "error: --format junit is not supported by isolated's test harness (nextest \
             writes JUnit: see the README)"
                .into(),
        )),
        other => Err(ArgsError(format!(
            "error: argument for --format must be pretty, terse, or json (was {other})"
        ))),
    }
}

fn parse_color(value: &str) -> Result<Color, ArgsError> {
    match value {
        "auto" => Ok(Color::Auto),
        "always" => Ok(Color::Always),
        "never" => Ok(Color::Never),
        other => Err(ArgsError(format!(
            "error: argument for --color must be auto, always, or never (was {other})"
        ))),
    }
}

/// `-Z unstable-options` is accepted (and changes nothing: json and --report-time need no
/// unlocking here).
fn unstable(value: &str) -> Result<(), ArgsError> {
    match value {
        "unstable-options" => Ok(()),
        other => Err(ArgsError(format!(
            "error: unknown unstable option: '{other}' (only unstable-options is accepted)"
        ))),
    }
}

#[cfg(test)]
mod tests;
