//! The rootless mode, as an unprivileged user meets it: `cargo test` without sudo works where
//! unprivileged user namespaces are allowed (as here), and what needs real root says so.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

mod common;
#[path = "rootless/delegation.rs"]
mod delegation;
use delegation::Delegation;

/// Runs the example suite `name` with `args` as nobody: from a world-readable copy, with a
/// fixture cache of its own, as in the user's own checkout.
fn run_as_nobody(name: &str, args: &[&str]) -> std::process::Output {
    run_as_nobody_in(&[], name, args)
}

/// [`run_as_nobody`], started in the cgroups whose `cgroup.procs` are `join`: a shell joins
/// them, as root, then execs setpriv (the run's processes start there, as in a delegated
/// `systemd-run --scope`).
fn run_as_nobody_in(join: &[PathBuf], name: &str, args: &[&str]) -> std::process::Output {
    let dir = tempfile::Builder::new()
        .prefix("isolated-rootless")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join(name);
    std::fs::copy(common::example(name), &bin).unwrap();
    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    std::os::unix::fs::chown(&cache, Some(NOBODY), Some(NOBODY)).unwrap();
    let join_then_exec = r#"while [ "$1" != -- ]; do echo $$ > "$1" || exit 99; shift; done
                            shift; exec "$@""#;
    let out = Command::new("sh")
        .args(["-c", join_then_exec, "sh"])
        .args(join)
        .args([
            "--",
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ])
        .arg(&bin)
        .args(args)
        .env("ISOLATED_CACHE_DIR", &cache)
        .env("ISOLATED_FIXTURES_PATH", common::fixtures_path())
        .current_dir(dir.path())
        .output()
        .expect("sh and setpriv (util-linux) run the suite as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(99), "joining {join:?}: {stderr}");
    out
}

const NOBODY: u32 = 65534;

/// The line of the doctor's `report` for the check `name`.
fn doctor_line<'a>(report: &'a str, name: &str) -> &'a str {
    let line = report
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(name));
    line.unwrap_or_else(|| panic!("no `{name}` line in:\n{report}"))
}

#[test]
fn an_unprivileged_user_runs_tests_in_user_namespaces() {
    let out = run_as_nobody("rootless", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Rootless, a `devices` entry is the host's node: a host that has not loaded `tun` yet
    // (no /dev/net/tun: a fresh VM) has none to give, and the failure says how to get one.
    let tun_on_host = std::path::Path::new("/dev/net/tun").exists();
    let mut passing = vec![
        "root_inside_a_user_namespace_on_alpine",
        "the_host_root_read_only_and_the_hosts_files_out_of_reach",
    ];
    match tun_on_host {
        true => passing.push("a_tun_device_rootless"),
        false => assert!(
            common::failure(&stdout, "a_tun_device_rootless").contains("`sudo modprobe tun`"),
            "{stdout}"
        ),
    }
    for test in &passing {
        let passed = stdout
            .lines()
            .any(|l| l.starts_with(&format!("test {test} ")) && l.ends_with("... ok"));
        assert!(passed, "{test}:\n{stdout}");
    }
    assert!(
        stdout.contains("net = \"veth\" needs root: it puts an interface on the host"),
        "{stdout}"
    );
    let summary = match tun_on_host {
        true => "3 passed; 1 failed",
        false => "2 passed; 2 failed",
    };
    assert!(stdout.contains(summary), "{stdout}");
}

/// The attempts on the host's kernel of `examples/adversarial.rs`, as an unprivileged user:
/// each is refused there too. Not while a delegation is in place: without one, a test's cgroup
/// namespace is the runner's cgroup, which may be a hierarchy's root, and it would see the
/// delegated group there.
#[test]
#[serial_test::serial(delegation)]
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

/// A run inside cgroups delegated to its user: the limits a test sets are enforced, as with
/// root, and nothing of the run's groups is left.
#[test]
#[serial_test::serial(delegation)]
fn rootless_limits_hold_in_a_delegated_cgroup() {
    let delegation = Delegation::to_nobody("limits");
    let out = run_as_nobody_in(&delegation.procs_files(), "rootless_limits", &[]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let all = format!("{stdout}\n--- stderr ---\n{stderr}\n--- delegated ---\n{delegation:?}");
    assert_eq!(
        common::failure(&stdout, "memory_hog").trim(),
        "killed: memory limit 64M exceeded",
        "{all}"
    );
    let fork = common::failure(&stdout, "fork_bomb");
    assert!(
        fork.contains("pids limit 16 reached: a process could not fork"),
        "{all}"
    );
    for passing in ["cpu_capped", "default_limits_only", "default_limits_again"] {
        assert!(
            common::line_for(&stdout, passing).ends_with("... ok"),
            "{all}"
        );
    }
    assert!(stdout.contains("3 passed; 2 failed"), "{all}");
    assert!(!stderr.contains("warning:"), "{all}");
    assert_eq!(delegation.groups_left(), Vec::<PathBuf>::new(), "{all}");

    let doctor = run_as_nobody_in(
        &delegation.procs_files(),
        "rootless_limits",
        &["--isolated-doctor"],
    );
    let report = String::from_utf8_lossy(&doctor.stdout);
    let mode = doctor_line(&report, "mode");
    assert!(
        mode.contains("rootless: no veth, limits through the delegated cgroup"),
        "{report}"
    );
    assert!(mode.contains(delegation.name()), "{report}");
}

/// The same suite where nothing is delegated to the user: each limit a test sets fails with
/// the sentence saying why and how to get a delegated cgroup; the defaults are dropped with
/// one warning for the run.
#[test]
fn rootless_limits_without_delegation_say_how_to_get_it() {
    let out = run_as_nobody("rootless_limits", &[]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let all = format!("{stdout}\n--- stderr ---\n{stderr}");
    for (test, attribute) in [
        ("memory_hog", "memory = \"64M\""),
        ("fork_bomb", "pids = 16"),
        ("cpu_capped", "cpu = 0.2"),
    ] {
        let reason = common::failure(&stdout, test).trim();
        let sentence = format!(
            "failed to set up the test's resource limits: {attribute} needs a cgroup this user \
             may write, and uid 65534's cgroup "
        );
        assert!(reason.starts_with(&sentence), "{test}: {all}");
        assert!(reason.contains("is not delegated to it"), "{test}: {all}");
        assert!(reason.ends_with("or as root"), "{test}: {all}");
        assert_eq!(reason.lines().count(), 1, "{test}: {all}");
    }
    assert!(stdout.contains("2 passed; 3 failed"), "{all}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{all}");
    assert!(
        warnings[0].starts_with(
            "warning: the default memory and pids limits are not enforced in this rootless run"
        ),
        "{all}"
    );

    let doctor = run_as_nobody("rootless_limits", &["--isolated-doctor"]);
    let report = String::from_utf8_lossy(&doctor.stdout);
    let mode = doctor_line(&report, "mode");
    assert!(
        mode.contains("rootless: no veth, no limits (no delegated cgroup: uid 65534's cgroup"),
        "{report}"
    );
}
