//! `examples/crate_paths.rs`: the crate's directory and the test's executable are at their own
//! paths in every root, so test data is found and backtraces name their frames — also when
//! the executable lives under /tmp, which a host root replaces with a fresh one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

mod common;

use common::{failure, line_for};

fn run(exe: &Path) -> (String, Output) {
    let out = Command::new(exe)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (stdout, out)
}

/// What every run of the suite must show, wherever its executable is.
fn check(stdout: &str, out: &Output, exe: &Path) {
    let context = format!(
        "{}\n{stdout}{}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(101), "{context}");
    for test in [
        "test_data_in_alpine",
        "test_data_on_the_host",
        "no_crate_dir_when_turned_off",
    ] {
        assert!(
            line_for(stdout, test).ends_with("... ok"),
            "{test}: {context}"
        );
    }
    for (test, function) in [
        ("fails_in_alpine", "crate_paths::fails_in_alpine"),
        ("fails_on_the_host", "crate_paths::fails_on_the_host"),
    ] {
        let failure = failure(stdout, test);
        let frames: Vec<&str> = failure
            .lines()
            .skip_while(|l| *l != "stack backtrace:")
            .collect();
        // A frame naming the test function, then the file and line it is at.
        let at = frames
            .iter()
            .position(|l| l.trim_start().split_once(": ").map(|(_, f)| f) == Some(function))
            .unwrap_or_else(|| panic!("{test}: no frame for {function}:\n{failure}\n{context}"));
        assert!(
            frames[at + 1].contains("examples/crate_paths.rs:"),
            "{test}: {}\n{failure}",
            frames[at + 1]
        );
        assert!(
            frames
                .iter()
                .any(|l| l.ends_with("crate_paths::fails_deep_inside")),
            "{test}:\n{failure}"
        );
        // As under libtest, a short backtrace ends with the test's frames: none of ours.
        assert!(
            !frames.iter().any(|l| l.contains("isolated::")),
            "{test}: the harness's frames in a short backtrace:\n{failure}"
        );
        // The panic is told once: the hook's line, with its message under it.
        assert_eq!(
            failure.matches("failing on purpose on").count(),
            1,
            "{failure}"
        );
    }
}

#[test]
fn test_data_and_backtraces_from_the_target_directory() {
    let exe = common::example("crate_paths");
    let (stdout, out) = run(&exe);
    check(&stdout, &out, &exe);
}

#[test]
fn test_data_and_backtraces_from_a_target_directory_under_tmp() {
    let dir = tempfile::Builder::new()
        .prefix("isolated-crate-paths")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("crate_paths");
    std::fs::copy(common::example("crate_paths"), &exe).unwrap();
    let (stdout, out) = run(&exe);
    check(&stdout, &out, &exe);
}
