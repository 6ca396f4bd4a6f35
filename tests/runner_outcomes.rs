//! The runner as a user sees it: run the sample suites in `examples/` and check what they
//! print and return, and that the host is unchanged afterwards.

use std::collections::BTreeSet;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

// file_serial: nextest runs every test in its own process, where an in-process lock is no lock.
use serial_test::file_serial;

use common::{example, failure, line_for};

mod common;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(name: &str, args: &[&str]) -> Run {
    run_with(name, args, &[])
}

fn run_with(name: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out: Output = Command::new(example(name))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
#[file_serial]
fn reports_every_outcome() {
    every_outcome(run("outcomes", &[]));
}

/// The same outcomes when every test's PID 1 is an exec of its own instead of a fork of its
/// runner thread's zygote.
#[test]
#[file_serial]
fn every_outcome_is_the_same_with_an_exec_per_test() {
    every_outcome(run_with("outcomes", &[], &[("ISOLATED_ZYGOTE", "0")]));
}

fn every_outcome(run: Run) {
    let out = &run.stdout;
    assert_eq!(run.code, 101, "{out}\n{}", run.stderr);
    for ok in [
        "passes",
        "passes_and_prints",
        "returns_ok",
        "should_panic_passes",
        "should_panic_with_message_passes",
        "nested::works",
    ] {
        assert!(line_for(out, ok).ends_with("... ok"), "{ok}: {out}");
    }
    assert_eq!(line_for(out, "ignored"), "test ignored ... ignored");
    assert_eq!(
        line_for(out, "ignored_with_reason"),
        "test ignored_with_reason ... ignored, needs a reason"
    );
    let expect = [
        ("panics", "panicked at examples/outcomes.rs:15:5:\nboom 42"),
        ("returns_err", "test returned an error: Error: Custom { kind: Other, error: \"the config was wrong\" }"),
        ("should_panic_but_returns", "test did not panic as expected"),
        ("should_panic_wrong_message", "panic did not contain expected string\n      panic message: \"boom\""),
        ("aborts", "killed by SIGABRT"),
        ("forked_copy_returns_while_the_body_panics", "panicked at examples/outcomes.rs"),
        ("segfaults", "killed by SIGSEGV"),
        ("exits_zero_without_report", "exited with code 0 without reporting a result"),
        ("exits_three", "exited with code 3 without reporting a result"),
        ("times_out", "timed out after 500ms"),
        ("setup_fails", "failed to set up the sandbox: failed to mount /proc: mount(proc)(/proc) => ENOTDIR"),
        ("missing_fixture", "fixture `no-such-fixture` not found"),
    ];
    for (test, text) in expect {
        let message = failure(out, test);
        assert!(
            message.contains(text),
            "{test}: expected {text:?} in:\n{message}"
        );
        assert!(!message.contains("EPERM"), "{message}");
        assert!(
            !message.contains("test panicked at"),
            "told twice: {message}"
        );
    }
    assert!(
        out.contains(
            "test result: FAILED. 6 passed; 13 failed; 3 ignored; 0 measured; 0 filtered out"
        ),
        "{out}"
    );
}

#[test]
#[file_serial]
fn captured_output_of_the_body_and_its_children_is_shown_with_failures() {
    let run = run("outcomes", &["--skip", "times_out"]);
    let panics = failure(&run.stdout, "panics");
    assert!(
        panics.contains("stdout before the panic\nstderr before the panic\n"),
        "{panics}"
    );
    assert!(
        panics.contains("panicked at examples/outcomes.rs:15:5:\nboom 42"),
        "{panics}"
    );
    let children = failure(&run.stdout, "output_of_child_processes_is_captured");
    assert!(children.contains("from-a-child-stdout"), "{children}");
    assert!(children.contains("from-a-child-stderr"), "{children}");
}

#[test]
#[file_serial]
fn nocapture_streams_output_live_and_the_verdict_after_it() {
    let run = run("outcomes", &["--exact", "panics", "--nocapture"]);
    assert_eq!(run.code, 101);
    assert!(
        run.stdout.contains("stdout before the panic"),
        "{}",
        run.stdout
    );
    // The panic's own lines are the test's last live words, where nextest looks for a failure's
    // message; no verdict line repeats them.
    let live = run
        .stderr
        .find("stderr before the panic")
        .expect(&run.stderr);
    let verdict = run
        .stderr
        .find("panicked at examples/outcomes.rs:15:5:\nboom 42")
        .expect(&run.stderr);
    assert!(
        !run.stderr.contains("Error: test panicked"),
        "{}",
        run.stderr
    );
    assert!(live < verdict, "{}", run.stderr);
    // Not repeated in the failures section, which names the test only (as libtest does).
    assert!(
        run.stdout
            .contains("\nfailures:\n\nfailures:\n    panics\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("test panicked at"), "{}", run.stdout);
}

#[test]
fn lists_without_running_or_preparing_fixtures() {
    let run = run("outcomes", &["--list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("missing_fixture: test\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("nested::works: test\n"),
        "{}",
        run.stdout
    );
    let terse = self::run("outcomes", &["--list", "--format", "terse"]);
    let names: Vec<&str> = terse.stdout.lines().collect();
    assert_eq!(names.len(), 22, "{}", terse.stdout);
    assert!(
        names.iter().all(|l| l.ends_with(": test")),
        "{}",
        terse.stdout
    );
    let ignored = self::run("outcomes", &["--list", "--format", "terse", "--ignored"]);
    assert_eq!(
        ignored.stdout,
        "ignored: test\nignored_with_reason: test\nruns_until_interrupted: test\n"
    );
}

#[test]
fn filters_exact_and_skip_select_tests() {
    let exact = run("outcomes", &["passes", "--exact"]);
    assert_eq!(exact.code, 0, "{}", exact.stdout);
    assert!(exact
        .stdout
        .contains("1 passed; 0 failed; 0 ignored; 0 measured; 21 filtered out"));

    let skip = run(
        "outcomes",
        &["should_panic", "--skip", "wrong", "--skip", "returns"],
    );
    assert_eq!(skip.code, 0, "{}", skip.stdout);
    assert!(
        skip.stdout.contains("2 passed; 0 failed"),
        "{}",
        skip.stdout
    );

    let nested = run("outcomes", &["nested::works", "--exact", "-q"]);
    assert_eq!(nested.code, 0, "{}", nested.stdout);
    assert!(
        nested.stdout.contains("\n.\n"),
        "quiet output: {}",
        nested.stdout
    );
}

#[test]
fn ignored_tests_run_on_request() {
    let ignored = run("outcomes", &["--ignored", "--exact", "ignored"]);
    assert_eq!(ignored.code, 101);
    assert!(failure(&ignored.stdout, "ignored").contains("ignored tests run only with --ignored"));

    let include = run(
        "outcomes",
        &["--include-ignored", "--exact", "ignored_with_reason"],
    );
    assert_eq!(include.code, 0, "{}", include.stdout);
    assert!(
        include.stdout.contains("1 passed; 0 failed; 0 ignored"),
        "{}",
        include.stdout
    );
}

#[test]
#[file_serial]
fn one_thread_gives_the_same_results() {
    let run = run("outcomes", &["--test-threads", "1", "--skip", "times_out"]);
    assert_eq!(run.code, 101);
    assert!(
        run.stdout.contains("6 passed; 12 failed; 3 ignored"),
        "{}",
        run.stdout
    );
}

#[test]
fn several_filters_run_every_test_any_of_them_matches() {
    let exact = run(
        "outcomes",
        &["--exact", "passes", "returns_ok", "nested::works"],
    );
    assert_eq!(exact.code, 0, "{}\n{}", exact.stdout, exact.stderr);
    assert!(
        exact
            .stdout
            .contains("3 passed; 0 failed; 0 ignored; 0 measured; 19 filtered out"),
        "{}",
        exact.stdout
    );
    let substrings = run("outcomes", &["nested", "returns_ok", "--skip", "nothing"]);
    assert_eq!(substrings.code, 0, "{}", substrings.stdout);
    assert!(
        substrings.stdout.contains("2 passed; 0 failed"),
        "{}",
        substrings.stdout
    );
}

#[test]
fn report_time_follows_each_result() {
    let run = run(
        "outcomes",
        &["--exact", "passes", "exits_three", "--report-time"],
    );
    assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
    for (test, result) in [("passes", "ok"), ("exits_three", "FAILED")] {
        let line = line_for(&run.stdout, test);
        let time = line
            .strip_prefix(&format!("test {test} ... {result} <"))
            .and_then(|rest| rest.strip_suffix("s>"))
            .unwrap_or_else(|| panic!("no time in {line:?}"));
        assert!(
            time.parse::<f64>().is_ok() && time.split_once('.').unwrap().1.len() == 3,
            "{line}"
        );
    }
}

#[test]
fn show_output_shows_what_passing_tests_printed() {
    let run = run(
        "outcomes",
        &["--exact", "passes_and_prints", "passes", "--show-output"],
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let expected = "\nsuccesses:\n\n---- passes_and_prints stdout ----\nsaid while passing\n\n\
                    \nsuccesses:\n    passes\n    passes_and_prints\n\ntest result: ok.";
    assert!(run.stdout.contains(expected), "{}", run.stdout);
    let without = self::run("outcomes", &["--exact", "passes_and_prints"]);
    assert!(
        !without.stdout.contains("said while passing"),
        "{}",
        without.stdout
    );
}

/// The `"type": "test"` JSON event for `test` with `event`.
fn json_event(stdout: &str, test: &str, event: &str) -> serde_json::Value {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .find(|v| v["type"] == "test" && v["name"] == test && v["event"] == event)
        .unwrap_or_else(|| panic!("no {event} event for {test}:\n{stdout}"))
}

#[test]
fn json_failures_carry_the_raw_output_and_reason() {
    let run = run(
        "outcomes",
        &[
            "--exact",
            "panics",
            "ignored_with_reason",
            "--format",
            "json",
        ],
    );
    assert_eq!(run.code, 101, "{}\n{}", run.stdout, run.stderr);
    let failed = json_event(&run.stdout, "panics", "failed");
    let stdout = failed["stdout"].as_str().unwrap();
    assert!(
        stdout.starts_with("stdout before the panic\n"),
        "{stdout:?}"
    );
    assert!(
        stdout.contains("panicked at examples/outcomes.rs:15:5:\nboom 42\n")
            && !stdout.contains("test panicked at"),
        "{stdout:?}"
    );
    json_event(&run.stdout, "panics", "started");
    let ignored = json_event(&run.stdout, "ignored_with_reason", "ignored");
    assert_eq!(ignored["message"], "needs a reason");
    let suite = run.stdout.lines().last().unwrap();
    assert!(
        suite.starts_with(
            r#"{ "type": "suite", "event": "failed", "passed": 0, "failed": 1, "ignored": 1, "measured": 0, "filtered_out": 20, "exec_time": "#
        ),
        "{suite}"
    );
}

#[test]
fn bad_arguments_exit_2_and_help_exits_0() {
    let bad = run("outcomes", &["--no-such-flag"]);
    assert_eq!(bad.code, 2);
    assert_eq!(
        bad.stderr.trim(),
        "error: Unrecognized option: 'no-such-flag'"
    );
    assert!(bad.stdout.is_empty(), "{}", bad.stdout);
    let help = run("outcomes", &["--help"]);
    assert_eq!(help.code, 0, "{}", help.stderr);
    assert!(
        help.stdout.starts_with("Usage: ") && help.stdout.contains("--show-output"),
        "{}",
        help.stdout
    );
}

/// What a run could leave behind on the host.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    mounts: Vec<String>,
    links: BTreeSet<String>,
    hostname: String,
}

fn host_state() -> HostState {
    let mounts = common::host_mounts();
    let links = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    HostState {
        mounts,
        links,
        hostname,
    }
}

/// Pids of processes whose whole command line is `cmdline`.
fn processes_running(cmdline: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " ").trim_end() == cmdline)
                .unwrap_or(false)
        })
        .collect()
}

/// Pids of the zygotes of the examples `names`: processes of their executables with
/// `__ISOLATED_ZYGOTE` in their environment.
fn zygotes_of(names: &[&str]) -> Vec<u32> {
    let exes: Vec<_> = names.iter().map(|name| example(name)).collect();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exes.contains(&exe))
        })
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|&b| b == 0)
                    .any(|var| var.starts_with(b"__ISOLATED_ZYGOTE="))
            })
        })
        .collect()
}

fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < timeout,
            "gave up after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[file_serial]
fn the_host_is_unchanged_after_passing_and_failing_runs() {
    let before = host_state();
    assert_eq!(run("demo", &[]).code, 0);
    assert_eq!(run("outcomes", &[]).code, 101);
    assert_eq!(host_state(), before);
    // times_out left `sleep 1000` processes in its namespace when it was killed.
    wait_until(
        "the timed-out test's processes to die",
        Duration::from_secs(5),
        || processes_running("sleep 1000").is_empty(),
    );
    // Each runner thread's zygote exits with its runner.
    wait_until("the zygotes to exit", Duration::from_secs(5), || {
        zygotes_of(&["demo", "outcomes"]).is_empty()
    });
}

#[test]
#[file_serial]
fn an_interrupted_run_kills_every_test_environment() {
    for signal in ["TERM", "INT", "KILL"] {
        let before = host_state();
        // As from a terminal: a CI job started in the background may have SIGINT ignored, and
        // ignored dispositions are inherited. `env` resets them, then execs the runner.
        let mut runner = Command::new("env")
            .arg("--default-signal=INT,TERM")
            .arg(example("outcomes"))
            // The second test on the one thread starts from the thread's zygote.
            .args(["--include-ignored", "--test-threads=1", "--exact"])
            .args(["passes_and_prints", "runs_until_interrupted"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_until(
            "the test to start its processes",
            Duration::from_secs(10),
            || processes_running("sleep 7777").len() == 2,
        );
        assert_eq!(
            zygotes_of(&["outcomes"]).len(),
            1,
            "the runner thread's zygote"
        );
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &runner.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let start = Instant::now();
        while runner.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(10) {
                runner.kill().unwrap();
                runner.wait().unwrap();
                panic!("the runner ignored SIG{signal} for 10s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        wait_until(
            "the interrupted test's processes to die",
            Duration::from_secs(5),
            || processes_running("sleep 7777").is_empty(),
        );
        wait_until("the zygote to exit", Duration::from_secs(5), || {
            zygotes_of(&["outcomes"]).is_empty()
        });
        assert_eq!(host_state(), before, "after SIG{signal}");
    }
}

#[test]
fn root_without_cap_sys_admin_gets_one_clear_sentence_per_test() {
    // Root, but as in a container started without --privileged: no CAP_SYS_ADMIN.
    let out = Command::new("setpriv")
        .args(["--bounding-set=-sys_admin", "--inh-caps=-sys_admin"])
        .arg(example("demo"))
        .output()
        .expect("setpriv (util-linux) runs the suite without CAP_SYS_ADMIN");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    let sentence = "isolated tests need CAP_SYS_ADMIN to create namespaces and mounts, and this \
                    runs as root without it (in a container started without --privileged or \
                    --cap-add SYS_ADMIN?): grant it, or run the tests outside the container";
    for test in [
        "runs_as_pid_2",
        "has_its_own_hostname",
        "binds_a_low_port_on_loopback",
    ] {
        assert_eq!(failure(&stdout, test).trim(), sentence, "{stdout}");
    }
    assert!(
        !stdout.contains("panicked") && !stdout.contains("EPERM"),
        "{stdout}"
    );
}
