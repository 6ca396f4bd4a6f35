//! The rootless mode, as an unprivileged user meets it: `cargo test` without sudo works where
//! unprivileged user namespaces are allowed (as here), and what needs real root says so.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

mod common;

/// Runs the example suite `name` with `args` as nobody: from a world-readable copy, with a
/// fixture cache of its own, as in the user's own checkout.
fn run_as_nobody(name: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::Builder::new()
        .prefix("isolated-rootless")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join(name);
    std::fs::copy(common::example(name), &bin).unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::os::unix::fs::chown(&cache, Some(65534), Some(65534)).unwrap();
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(args)
        .env("ISOLATED_CACHE_DIR", &cache)
        .env("ISOLATED_FIXTURES_PATH", common::fixtures_path())
        .current_dir(dir.path())
        .output()
        .expect("setpriv (util-linux) runs the suite as nobody")
}

#[test]
fn an_unprivileged_user_runs_tests_in_user_namespaces() {
    let out = run_as_nobody("rootless", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for test in [
        "root_inside_a_user_namespace_on_alpine",
        "the_host_root_read_only_and_the_hosts_files_out_of_reach",
        "a_tun_device_rootless",
    ] {
        let passed = stdout
            .lines()
            .any(|l| l.starts_with(&format!("test {test} ")) && l.ends_with("... ok"));
        assert!(passed, "{test}:\n{stdout}");
    }
    assert!(
        stdout.contains("net = \"veth\" needs root: it puts an interface on the host"),
        "{stdout}"
    );
    assert!(stdout.contains("3 passed; 1 failed"), "{stdout}");
}

/// The attempts on the host's kernel of `examples/adversarial.rs`, as an unprivileged user:
/// each is refused there too.
#[test]
fn the_host_kernel_attempts_fail_rootless_too() {
    let out = run_as_nobody("adversarial", &["host_kernel::"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let attempts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("test host_kernel::"))
        .collect();
    assert!(attempts.len() >= 9, "{stdout}");
    for line in attempts {
        assert!(line.ends_with("... ok"), "{line}\n{stdout}");
    }
}
