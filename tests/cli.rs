//! The `isolated` command as a user types it: `run` starts a fresh environment with
//! `#[isolated]`'s keys, a command or an interactive shell in it, and leaves nothing; `enter`,
//! `list` and `clean` with no kept environment say so.

use std::process::Command;

mod common;

fn isolated() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_isolated"));
    command.env("ISOLATED_FIXTURES_PATH", common::fixtures_path());
    command
}

fn output(args: &[&str]) -> (i32, String, String) {
    let out = isolated().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn run_prints_the_fixtures_release() {
    let mounts = common::host_mounts();
    let (code, stdout, stderr) = output(&[
        "run",
        "--rootfs",
        "alpine",
        "--",
        "cat",
        "/etc/alpine-release",
    ]);
    assert_eq!((code, stdout.as_str()), (0, "3.20.3\n"), "{stderr}");
    assert_eq!(common::host_mounts(), mounts);
}

#[test]
fn run_takes_the_attributes_keys_and_gives_back_the_exit_code() {
    let (code, stdout, stderr) = output(&[
        "run",
        "rootfs=alpine",
        "hostname=box",
        "env=GREETING=hello there",
        "memory=64M",
        "--",
        "sh",
        "-c",
        "echo \"$GREETING from $(hostname), pid $$\"; exit 3",
    ]);
    assert_eq!(code, 3, "{stderr}");
    // The command is the environment's first process after its init.
    assert!(stdout.starts_with("hello there from box, pid "), "{stdout}");
}

#[test]
fn mistakes_get_the_attributes_messages() {
    let (code, _, stderr) = output(&["run", "rootfs=a/b", "--", "true"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("rootfs=a/b: invalid rootfs `a/b`"),
        "{stderr}"
    );
    let (code, _, stderr) = output(&["run", "colour=red"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("valid keys are: rootfs, hostname"),
        "{stderr}"
    );
    let (code, _, stderr) = output(&["run", "--rootfs", "no-such-fixture", "--", "true"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("fixture `no-such-fixture` not found"),
        "{stderr}"
    );
    let (code, _, stderr) = output(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("usage: isolated enter"), "{stderr}");
    let (code, _, stderr) = output(&["enter", "no-such-test"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no kept environment"), "{stderr}");
}

/// A shell on a terminal, typed at through a pseudo-terminal as a person would: it has a
/// terminal of the environment's own, and its exit code comes back.
#[test]
fn an_interactive_shell_in_a_fresh_environment() {
    let (mut child, screen) =
        common::on_a_terminal(isolated().args(["run", "rootfs=alpine", "hostname=typed-at"]));
    screen.wait_for("#");
    screen.type_in(b"echo answer-$((6 * 7)); hostname; tty; stty size\n");
    screen.wait_for("answer-42");
    screen.wait_for("typed-at");
    screen.wait_for("/dev/pts/0");
    screen.wait_for("24 80");
    screen.type_in(b"exit 5\n");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5), "{}", screen.text());
}

#[test]
fn help_says_how() {
    let (code, stdout, _) = output(&["help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("isolated run [KEY=VALUE...]"), "{stdout}");
}
