//! `async fn` tests, as a user with isolated's `tokio` feature writes them: tests/async_suite
//! (a crate of its own, so the feature reaches nothing else here) is built and run, and every
//! outcome of an async test reads as the same outcome of its plain twin: passing, panicking,
//! returning an error, timing out, meeting the memory and pids limits.

use std::process::Command;

mod common;

use common::failure;

#[test]
fn async_tests_pass_fail_time_out_and_hit_limits_like_sync_ones() {
    let suite = build_the_suite();
    let out = Command::new(&suite)
        .env("ISOLATED_FIXTURES_PATH", common::fixtures_path())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    for passes in [
        "passes",
        "serves_on_its_own_loopback",
        "runs_on_worker_threads",
        "runs_on_a_runtime_of_its_own",
        "should_panic_passes",
    ] {
        assert!(
            stdout.contains(&format!("test {passes} ... ok")),
            "{passes}: {stdout}"
        );
    }
    for (test, says) in [
        ("panics", "boom 42"),
        ("returns_err", "test returned an error: Error: Custom"),
        ("times_out", "timed out after 500ms"),
        ("hits_the_memory_limit", "killed: memory limit 64M exceeded"),
        ("hits_the_pids_limit", "pids limit 16 reached"),
    ] {
        let async_one = without_locations(failure(&stdout, test).trim_end());
        let sync_one = without_locations(failure(&stdout, &format!("sync_{test}")).trim_end());
        assert!(async_one.contains(says), "{test}: {async_one}");
        assert_eq!(async_one, sync_one, "{test} and its sync twin differ");
    }
    assert!(
        stdout.contains("test result: FAILED. 7 passed; 10 failed"),
        "{stdout}"
    );
}

/// `tests/outcomes.rs:48:5` → `tests/outcomes.rs:L:C`: twins are on different lines.
fn without_locations(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(".rs:") {
        out.push_str(&rest[..at + 4]);
        rest = rest[at + 4..].trim_start_matches(|c: char| c.is_ascii_digit() || c == ':');
        out.push_str("L:C:");
    }
    out.push_str(rest);
    out
}

/// Builds tests/async_suite into this target directory; the test binary's path.
fn build_the_suite() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = root.join("target/async-suite");
    let out = Command::new(env!("CARGO"))
        .args([
            "test",
            "--no-run",
            "--message-format=json",
            "--manifest-path",
        ])
        .arg(root.join("tests/async_suite/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building tests/async_suite failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["target"]["name"] == "outcomes")
        .find_map(|m| m["executable"].as_str().map(std::path::PathBuf::from))
        .expect("the suite's test binary")
}
