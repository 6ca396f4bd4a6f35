//! Per-test resource limits as a user sees them: run `examples/limits.rs` and check what the
//! runner prints and returns, and that no cgroup of the run is left in any hierarchy — also
//! after a run killed with SIGKILL, once the next run has started.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serial_test::file_serial;

mod common;
use common::failure;

fn run(args: &[&str]) -> (u32, i32, String) {
    let child = Command::new(common::example("limits"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out: Output = child.wait_with_output().unwrap();
    let text = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (pid, out.status.code().unwrap_or(-1), text)
}

/// `ok`, `FAILED`, `ignored`: the end of the line libtest-mimic prints for `test`.
fn result<'a>(out: &'a str, test: &str) -> &'a str {
    let prefix = format!("test {test} ");
    out.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit_once(" ... "))
        .unwrap_or_else(|| panic!("no result line for {test}:\n{out}"))
        .1
}

/// The `isolated` parent group of every cgroup hierarchy mounted here.
fn parents() -> Vec<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    mountinfo
        .lines()
        .filter(|l| l.contains(" - cgroup2 ") || l.contains(" - cgroup "))
        .filter_map(|l| l.split(' ').nth(4))
        .map(|mount| PathBuf::from(mount).join("isolated"))
        .collect()
}

/// The groups runner `pid` left, in every hierarchy.
fn groups_of(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("{pid}-");
    parents()
        .into_iter()
        .filter_map(|parent| std::fs::read_dir(parent).ok())
        .flat_map(|entries| entries.map(|e| e.unwrap().path()))
        .filter(|p| p.is_dir())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
        .collect()
}

#[test]
#[file_serial]
fn limits_are_enforced_and_explained() {
    let (pid, code, out) = run(&[]);
    assert_eq!(code, 101, "{out}");
    let memory = failure(&out, "memory_hog");
    assert_eq!(
        memory.trim().lines().next_back(),
        Some("killed: memory limit 64M exceeded"),
        "{out}"
    );
    let fork = failure(&out, "fork_bomb");
    assert!(fork.contains("could not start process"), "{out}");
    assert!(
        fork.contains("pids limit 32 reached: a process could not fork"),
        "{out}"
    );
    let shell = failure(&out, "shell_fork_bomb");
    assert!(shell.contains("timed out after 2s"), "{out}");
    assert!(
        shell.contains("pids limit 32 reached: a process could not fork"),
        "{out}"
    );
    for passing in [
        "fits_in_its_memory_limit",
        "default_limits_stop_a_fork_bomb",
        "cpu_capped",
        "runs_in_its_own_cgroup",
    ] {
        assert_eq!(result(&out, passing), "ok", "{passing}: {out}");
    }
    assert!(!out.contains("warning: isolated cannot enforce"), "{out}");
    assert_eq!(groups_of(pid), Vec::<PathBuf>::new(), "groups left: {out}");
}

#[test]
#[file_serial]
fn the_next_run_removes_what_a_killed_run_left() {
    let mut runner = Command::new(common::example("limits"))
        .args(["--ignored", "sleeps_until_killed"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = runner.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    while groups_of(pid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the test's cgroup never appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    runner.kill().unwrap(); // SIGKILL: the runner removes nothing
    runner.wait().unwrap();
    let left = groups_of(pid);
    assert!(
        !left.is_empty(),
        "a killed run cannot clean up after itself"
    );

    let (_, code, out) = run(&["--exact", "runs_in_its_own_cgroup"]);
    assert_eq!(code, 0, "{out}");
    for group in left {
        assert!(!group.exists(), "{} is still there: {out}", group.display());
    }
}
