//! Kept environments (`ISOLATED_KEEP`, `keep = true`): a failed test's world stays, running,
//! and the command its failure message ends with enters it; afterwards nothing is left.
//!
//! Serial: `--isolated clean` ends every kept environment of the machine.

use std::process::{Command, Output};

use serial_test::file_serial;

mod common;

use common::{example, failure};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(example("kept"))
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .env_remove("ISOLATED_KEEP")
        .env_remove("ISOLATED_KEEP_FOR")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command a failure's message ends with, as words.
fn enter_command(failure: &str) -> Vec<String> {
    let line = failure
        .lines()
        .find_map(|l| l.strip_prefix("enter it with: "))
        .unwrap_or_else(|| panic!("no command to enter it in:\n{failure}"));
    line.split_whitespace().map(str::to_string).collect()
}

/// Runs `command` with `args` after it; (exit code, stdout and stderr).
fn run_command(command: &[String], args: &[&str]) -> (i32, String) {
    let out = Command::new(&command[0])
        .args(&command[1..])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout) + &text(&out.stderr),
    )
}

/// Ends every kept environment; then nothing of `pid`'s may be left.
fn clean_and_check(pid: &str, mounts_before: &[String]) {
    let out = Command::new(example("kept"))
        .args(["--isolated", "clean"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The records' directory goes with the last record.
    assert!(
        !std::path::Path::new("/run/isolated").exists(),
        "records of kept environments are left (the last ended was {pid})"
    );
    let alive = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| c.contains("isolated-child"));
    assert!(!alive, "{pid} still runs");
    assert_eq!(common::host_mounts(), mounts_before, "mounts changed");
    for hierarchy in ["pids", "memory", "unified"] {
        let dir = std::path::Path::new("/sys/fs/cgroup")
            .join(hierarchy)
            .join("isolated");
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().filter(|e| e.path().is_dir()).collect())
            .unwrap_or_default();
        assert!(leftovers.is_empty(), "{}: {leftovers:?}", dir.display());
    }
}

#[test]
#[file_serial]
fn a_kept_failure_is_entered_through_the_printed_command() {
    let mounts = common::host_mounts();
    let env = [
        ("ISOLATED_FIXTURES_PATH", common::fixtures_path()),
        ("ISOLATED_KEEP", "failed".into()),
        ("ISOLATED_KEEP_FOR", "2m".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.to_str().unwrap())).collect();
    let out = run(&["--exact", "fails_after_writing"], &env);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    let message = failure(&stdout, "fails_after_writing");
    // The verdict, then what the environment held, then the command.
    assert!(message.contains("failed on purpose"), "{message}");
    for held in [
        "sleep 3600",
        "/root/written-by-the-test",
        "/etc/motd (deleted)",
        "lo 127.0.0.1/8",
    ] {
        assert!(message.contains(held), "{held} missing from:\n{message}");
    }
    assert!(message
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("enter it with: "));
    let command = enter_command(message);
    let pid = command.last().unwrap().clone();
    let (code, inside) = run_command(
        &command,
        &[
            "--",
            "sh",
            "-c",
            "cat /root/written-by-the-test; hostname; ip addr; pwd; ps",
        ],
    );
    assert_eq!(code, 0, "{inside}");
    assert!(inside.contains("the test's own view"), "{inside}");
    assert!(inside.contains("kept-box"), "{inside}");
    assert!(inside.contains("inet 127.0.0.1/8"), "{inside}");
    assert!(
        inside.contains(env!("CARGO_MANIFEST_DIR")),
        "the test's directory: {inside}"
    );
    assert!(inside.contains("sleep 3600"), "its processes: {inside}");
    // The command's exit code comes back.
    assert_eq!(run_command(&command, &["--", "sh", "-c", "exit 7"]).0, 7);
    // Its output went on into the record.
    let output = std::fs::read_to_string(format!("/run/isolated/kept/{pid}/output")).unwrap();
    assert!(output.contains("about to fail"), "{output}");
    clean_and_check(&pid, &mounts);
}

#[test]
#[file_serial]
fn a_test_that_times_out_is_kept_running() {
    let mounts = common::host_mounts();
    let fixtures = common::fixtures_path();
    let env = [
        ("ISOLATED_FIXTURES_PATH", fixtures.to_str().unwrap()),
        ("ISOLATED_KEEP", "failed"),
        ("ISOLATED_KEEP_FOR", "2m"),
    ];
    let out = run(&["--exact", "times_out"], &env);
    let stdout = text(&out.stdout);
    let message = failure(&stdout, "times_out");
    assert!(message.starts_with("timed out after 1s"), "{message}");
    let command = enter_command(message);
    // The body, still running: the process that is neither PID 1 nor the command's.
    let (code, inside) = run_command(&command, &["--", "cat", "/proc/2/cmdline"]);
    assert_eq!(code, 0, "{inside}");
    clean_and_check(command.last().unwrap(), &mounts);
}

#[test]
#[file_serial]
fn kept_environments_end_with_the_run_unless_kept_for_longer() {
    let mounts = common::host_mounts();
    let fixtures = common::fixtures_path();
    // `keep = true` keeps it without ISOLATED_KEEP; with no terminal and no ISOLATED_KEEP_FOR,
    // it ends when the run does.
    let out = run(
        &["--exact", "kept_by_its_key"],
        &[("ISOLATED_FIXTURES_PATH", fixtures.to_str().unwrap())],
    );
    let stdout = text(&out.stdout);
    let command = enter_command(failure(&stdout, "kept_by_its_key"));
    let pid = command.last().unwrap();
    assert!(
        text(&out.stderr).contains("end with this run"),
        "{}",
        text(&out.stderr)
    );
    assert!(!std::path::Path::new("/run/isolated/kept")
        .join(pid)
        .exists());
    let (code, said) = run_command(&command, &["--", "true"]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("no kept environment"), "{said}");
    clean_and_check(pid, &mounts);
}

#[test]
#[file_serial]
fn passing_tests_are_kept_with_all_and_a_bad_value_is_refused() {
    let mounts = common::host_mounts();
    let fixtures = common::fixtures_path();
    let fixtures = fixtures.to_str().unwrap();
    let out = run(
        &["--exact", "passes"],
        &[
            ("ISOLATED_FIXTURES_PATH", fixtures),
            ("ISOLATED_KEEP", "all"),
            ("ISOLATED_KEEP_FOR", "1m"),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let kept = stderr
        .lines()
        .find(|l| l.starts_with("isolated: kept:"))
        .expect(&stderr);
    assert!(kept.contains("the test's environment stays"), "{kept}");
    let command = enter_command(&stderr);
    assert_eq!(run_command(&command, &["--", "true"]).0, 0);
    clean_and_check(command.last().unwrap(), &mounts);

    let out = run(&[], &[("ISOLATED_KEEP", "yes")]);
    assert_eq!(out.status.code(), Some(101));
    assert!(
        text(&out.stderr).contains("ISOLATED_KEEP=yes: expected `failed`"),
        "{}",
        text(&out.stderr)
    );
}

/// The run is killed while it keeps an environment: the environment ends with it (its init
/// sees the run's end of the socket close), and the next run removes what is left.
#[test]
#[file_serial]
fn a_killed_run_takes_its_kept_environments_along() {
    let mounts = common::host_mounts();
    let mut runner = Command::new(example("kept"))
        .args([
            "fails_after_writing",
            "passes_slowly",
            "--test-threads",
            "2",
        ])
        .env_remove("ISOLATED_KEEP_FOR")
        .env("ISOLATED_KEEP", "failed")
        .env("ISOLATED_FIXTURES_PATH", common::fixtures_path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let records = std::path::Path::new("/run/isolated/kept");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let pid = loop {
        let kept = std::fs::read_dir(records)
            .into_iter()
            .flatten()
            .flatten()
            .find(|e| e.path().join("info").exists());
        if let Some(entry) = kept {
            break entry.file_name().to_string_lossy().into_owned();
        }
        assert!(std::time::Instant::now() < deadline, "nothing was kept");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    runner.kill().unwrap();
    runner.wait().unwrap();
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(std::time::Instant::now() < gone, "{pid} outlived its run");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The next run (here, its `list`) removes the record; `clean` the cgroups.
    let list = Command::new(example("kept"))
        .args(["--isolated", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("no kept environment"));
    clean_and_check(&pid, &mounts);
}

/// On a terminal, the run waits for Enter before it ends the environments it kept.
#[test]
#[file_serial]
fn on_a_terminal_the_run_waits_for_enter() {
    let (mut runner, screen) = common::on_a_terminal(
        Command::new(example("kept"))
            .args(["--exact", "fails_after_writing"])
            .env_remove("ISOLATED_KEEP_FOR")
            .env("ISOLATED_KEEP", "failed")
            .env("ISOLATED_FIXTURES_PATH", common::fixtures_path()),
    );
    screen.wait_for("press Enter to end them");
    assert!(
        runner.try_wait().unwrap().is_none(),
        "the run ended without waiting"
    );
    let kept: Vec<_> = std::fs::read_dir("/run/isolated/kept")
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let pid = kept[0].file_name().to_string_lossy().into_owned();
    screen.type_in(b"\n");
    assert_eq!(runner.wait().unwrap().code(), Some(101));
    assert!(!std::path::Path::new("/run/isolated/kept")
        .join(&pid)
        .exists());
    clean_and_check(&pid, &common::host_mounts());
}
