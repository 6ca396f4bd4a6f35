//! `--help`, and what happens to a command line libtest would refuse.

use super::args::Arguments;

/// Exit code for a command line that could not be parsed: 2, as it was with libtest-mimic
/// (libtest itself says 101).
const BAD_ARGUMENTS: i32 = 2;

/// The process's own command line, parsed; `--help` prints the usage and exits 0, a bad command
/// line prints libtest's error and exits [`BAD_ARGUMENTS`].
pub fn arguments_or_exit() -> Arguments {
    let mut argv = std::env::args();
    let program = argv.next().unwrap_or_else(|| "test".to_string());
    match Arguments::parse(argv, |name| std::env::var(name).ok()) {
        Ok(args) if args.help => {
            print!("{}", usage(&program));
            std::process::exit(0);
        }
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(BAD_ARGUMENTS);
        }
    }
}

fn usage(program: &str) -> String {
    format!(
        "Usage: {program} [OPTIONS] [FILTERS...]

Options:
        --include-ignored 
                        Run ignored and not ignored tests
        --ignored       Run only ignored tests
        --exclude-should-panic 
                        Excludes tests marked as should_panic
        --test          Run tests and not benchmarks
        --bench         Run benchmarks instead of tests (there are none: every
                        test is reported ignored)
        --list          List all tests and benchmarks
    -h, --help          Display this message
        --logfile PATH  Write logs to the specified file (deprecated)
        --no-capture    don't capture stdout/stderr of each task, allow
                        printing directly (also: --nocapture)
        --test-threads n_threads
                        Number of threads used for running tests in parallel
        --skip FILTER   Skip tests whose names contain FILTER (this flag can
                        be used multiple times)
    -q, --quiet         Display one character per test instead of one line.
                        Alias to --format=terse
        --exact         Exactly match filters rather than by substring
        --color auto|always|never
                        Configure coloring of output:
                        auto = colorize if stdout is a tty and tests are run
                        on serially (default);
                        always = always colorize output;
                        never = never colorize output;
        --format pretty|terse|json
                        Configure formatting of output:
                        pretty = Print verbose output;
                        terse = Display one character per test;
                        json = Output a json document
        --show-output   Show captured stdout of successful tests
    -Z unstable-options Accepted for compatibility; changes nothing
        --report-time   Show execution time of each test.
        --force-run-in-process 
                        Accepted for compatibility; every test runs in its own
                        container
    --isolated-doctor   Print what this machine supports, and exit


The FILTER string is tested against the name of all tests, and only those
tests whose names contain the filter are run. Multiple filter strings may
be passed, which will run all tests matching any of the filters.

By default, all tests are run in parallel. This can be altered with the
--test-threads flag or the RUST_TEST_THREADS environment variable when running
tests (set it to 1).

All tests have their standard output and standard error captured by default.
This can be overridden with the --no-capture flag or setting RUST_TEST_NOCAPTURE
environment variable to a value other than \"0\".

Each test runs in its own Linux container: see the isolated README.
"
    )
}
