//! The `isolated` command as a user types it: `run` starts a fresh environment with
//! `#[isolated]`'s keys, a command or an interactive shell in it, and leaves nothing; `enter`,
//! `list` and `clean` with no kept environment say so.

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    let (master, terminal) = openpty();
    let end = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut child = isolated()
        .args(["run", "rootfs=alpine", "hostname=typed-at"])
        .stdin(end(&terminal))
        .stdout(end(&terminal))
        .stderr(end(&terminal))
        .spawn()
        .unwrap();
    drop(terminal);
    let mut writer = std::fs::File::from(master.try_clone().unwrap());
    let screen = Arc::new(Mutex::new(String::new()));
    let reader = {
        let screen = Arc::clone(&screen);
        let mut master = std::fs::File::from(master);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = master.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !screen.lock().unwrap().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} in:\n{}",
                screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("#");
    writer
        .write_all(b"echo answer-$((6 * 7)); hostname; tty\n")
        .unwrap();
    wait_for("answer-42");
    wait_for("typed-at");
    wait_for("/dev/pts/0");
    writer.write_all(b"exit 5\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5), "{}", screen.lock().unwrap());
    drop(writer);
    let _ = reader.join();
}

#[test]
fn help_says_how() {
    let (code, stdout, _) = output(&["help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("isolated run [KEY=VALUE...]"), "{stdout}");
}

/// A pseudo-terminal: (master, slave).
fn openpty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the integers; the other pointers are null
    // or a winsize it only reads.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two new descriptors nothing else owns.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}
