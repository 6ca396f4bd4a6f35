use super::*;

fn parse(args: &[&str]) -> Result<Arguments, ArgsError> {
    Arguments::parse(args.iter().copied(), |_| None)
}

fn error(args: &[&str]) -> String {
    parse(args).unwrap_err().to_string()
}

#[test]
fn any_number_of_filters_and_repeated_skips() {
    let args = parse(&["a", "--skip", "x", "b", "--skip=y", "c"]).unwrap();
    assert_eq!(args.filters, ["a", "b", "c"]);
    assert_eq!(args.skip, ["x", "y"]);
}

#[test]
fn double_dash_ends_the_options() {
    let args = parse(&["--exact", "--", "--list", "-q"]).unwrap();
    assert!(args.exact && !args.list);
    assert_eq!(args.filters, ["--list", "-q"]);
}

#[test]
fn the_flags_nextest_and_cargo_pass() {
    let list = parse(&["--list", "--format", "terse", "--ignored"]).unwrap();
    assert!(list.list && list.ignored);
    assert_eq!(list.format, Format::Terse);
    let one = parse(&["--exact", "a::b", "--nocapture"]).unwrap();
    assert!(one.exact && one.nocapture);
    assert!(parse(&["--no-capture"]).unwrap().nocapture);
    let bench = parse(&["--bench"]).unwrap();
    assert!(bench.bench_only);
    assert!(!parse(&["--bench", "--test"]).unwrap().bench_only);
}

#[test]
fn values_inline_or_separate() {
    let args = parse(&[
        "--test-threads=3",
        "--color",
        "always",
        "--format=json",
        "-Z",
        "unstable-options",
        "--report-time",
        "--show-output",
        "--logfile",
        "/tmp/log",
    ])
    .unwrap();
    assert_eq!(args.test_threads, NonZeroUsize::new(3));
    assert_eq!(args.color, Color::Always);
    assert_eq!(args.format, Format::Json);
    assert!(args.report_time && args.show_output);
    assert_eq!(args.logfile, Some(PathBuf::from("/tmp/log")));
    assert!(parse(&["-Zunstable-options"]).is_ok());
}

#[test]
fn quiet_is_terse_unless_a_format_is_given() {
    assert_eq!(parse(&["-q"]).unwrap().format, Format::Terse);
    assert_eq!(parse(&["--quiet"]).unwrap().format, Format::Terse);
    assert_eq!(
        parse(&["-q", "--format", "pretty"]).unwrap().format,
        Format::Pretty
    );
    assert_eq!(parse(&[]).unwrap().format, Format::Pretty);
}

#[test]
fn threads_and_capture_from_the_environment() {
    let env = |name: &str| match name {
        "RUST_TEST_THREADS" => Some("2".to_string()),
        "RUST_TEST_NOCAPTURE" => Some("1".to_string()),
        _ => None,
    };
    let args = Arguments::parse(Vec::<String>::new(), env).unwrap();
    assert_eq!(args.test_threads, NonZeroUsize::new(2));
    assert!(args.nocapture);
    let flag_wins = Arguments::parse(["--test-threads", "5"], env).unwrap();
    assert_eq!(flag_wins.test_threads, NonZeroUsize::new(5));
    let zero = Arguments::parse(Vec::<String>::new(), |_| Some("0".to_string()));
    assert!(zero.is_err());
}

#[test]
fn refusals_read_like_libtests() {
    assert_eq!(error(&["--bogus"]), "error: Unrecognized option: 'bogus'");
    assert_eq!(error(&["-x"]), "error: Unrecognized option: 'x'");
    assert_eq!(
        error(&["--skip"]),
        "error: Argument to option 'skip' missing"
    );
    assert_eq!(
        error(&["--test-threads", "0"]),
        "error: argument for --test-threads must not be 0"
    );
    assert!(error(&["--test-threads", "x"])
        .starts_with("error: argument for --test-threads must be a number > 0"));
    assert_eq!(
        error(&["--color", "foo"]),
        "error: argument for --color must be auto, always, or never (was foo)"
    );
    assert!(error(&["--format", "foo"]).contains("(was foo)"));
    assert!(error(&["--ignored", "--include-ignored"]).contains("mutually exclusive"));
    assert!(error(&["--shuffle"]).contains("not supported"));
    assert!(error(&["--list=yes"]).contains("does not take an argument"));
    assert!(error(&["-Z", "foo"]).contains("unknown unstable option"));
}

#[test]
fn help() {
    assert!(parse(&["--help"]).unwrap().help);
    assert!(parse(&["-h"]).unwrap().help);
}
