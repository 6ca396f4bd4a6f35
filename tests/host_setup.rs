//! `isolated::main!(setup = ..., teardown = ...)`: once, in the runner, on the host, around
//! the tests; never in a test's environment, and not at all for `--list`.

use std::process::Command;

mod common;

fn run(args: &[&str], log: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(common::example("host_setup"))
        .args(args)
        .env("ISOLATED_SETUP_LOG", log)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_setup_serves_the_tests_and_is_torn_down_after_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (code, stdout, stderr) = run(&[], &log);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("set-up in process "), "{lines:?}");
    assert_eq!(&lines[1..], ["service stopped", "teardown"]);
    // Once, in the runner: the process the run started, not one of the tests' environments.
    let setup_pid: u32 = lines[0].rsplit(' ').next().unwrap().parse().unwrap();
    assert!(setup_pid > 1, "{lines:?}");
}

#[test]
fn listing_or_selecting_nothing_runs_no_setup() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (code, stdout, _) = run(&["--list"], &log);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("reaches_the_host_service: test"),
        "{stdout}"
    );
    let (code, _, _) = run(&["no_such_test"], &log);
    assert_eq!(code, 0);
    assert!(!log.exists(), "{:?}", std::fs::read_to_string(&log));
}
