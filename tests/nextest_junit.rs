//! nextest's JUnit report as a CI system reads it: `cargo nextest run` on the `outcomes` sample
//! suite, and each failure's `message` is our verdict, not only "test failure with exit code 101".

use std::process::Command;

// file_serial: the same lock as tests/runner_outcomes.rs, which checks the host between runs.
use serial_test::file_serial;

/// The `message` attribute of the `<failure>` of the test case `test` in JUnit `xml`.
fn failure_message<'a>(xml: &'a str, test: &str) -> &'a str {
    let case = xml
        .find(&format!("<testcase name=\"{test}\""))
        .unwrap_or_else(|| panic!("no test case {test} in:\n{xml}"));
    let rest = &xml[case..];
    let end_of_case = rest.find("</testcase>").unwrap_or(rest.len());
    let failure = rest[..end_of_case]
        .find("<failure message=\"")
        .unwrap_or_else(|| panic!("{test} did not fail in:\n{xml}"));
    let message = &rest[failure + "<failure message=\"".len()..];
    &message[..message.find('"').expect("the attribute ends")]
}

fn nextest_is_installed(cargo: &str) -> bool {
    Command::new(cargo)
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success())
}

#[test]
#[file_serial]
fn junit_failures_name_the_verdict() {
    let cargo = env!("CARGO");
    assert!(
        nextest_is_installed(cargo),
        "this test runs `cargo nextest`, which is not installed: install it with \
         `cargo install cargo-nextest --locked` (CI has it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let config = dir.path().join("nextest.toml");
    std::fs::write(
        &config,
        format!(
            "[store]\ndir = {store:?}\n\n[profile.isolated-junit]\nfail-fast = false\n\n\
             [profile.isolated-junit.junit]\npath = \"junit.xml\"\n"
        ),
    )
    .unwrap();
    let mut nextest = Command::new(cargo);
    nextest
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["nextest", "run", "--example", "outcomes", "--no-fail-fast"])
        .arg("--config-file")
        .arg(&config)
        .args(["--profile", "isolated-junit", "-E"])
        .arg("test(=times_out) | test(=setup_fails) | test(=missing_fixture)");
    // When nextest runs this test, its settings (NEXTEST_PROFILE, ...) are not the inner run's.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("NEXTEST") {
            nextest.env_remove(name);
        }
    }
    let out = nextest.output().unwrap();
    let junit = store.join("isolated-junit").join("junit.xml");
    let xml = std::fs::read_to_string(&junit).unwrap_or_else(|e| {
        panic!(
            "no JUnit report at {}: {e}\n{}\n{}",
            junit.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        out.status.code(),
        Some(100),
        "nextest's code for failed tests"
    );
    assert_eq!(
        failure_message(&xml, "times_out"),
        "Error: timed out after 500ms"
    );
    assert_eq!(
        failure_message(&xml, "setup_fails"),
        "Error: failed to set up the sandbox: failed to mount /proc: mount(proc)(/proc) =&gt; \
         ENOTDIR: Not a directory"
    );
    assert!(
        failure_message(&xml, "missing_fixture")
            .starts_with("Error: fixture `no-such-fixture` not found"),
        "{xml}"
    );
}
