//! Hostile tests as the host sees them: run `examples/adversarial.rs`, check what the runner
//! printed for each, and that the host is unchanged — hostname, mount table, clock, a process
//! of ours that `kill -9 -1` would have hit, and no process of the suite left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use serial_test::file_serial;

mod common;
use common::{failure, line_for};

fn example() -> PathBuf {
    common::example("adversarial")
}

/// What a hostile test could change on the host.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    hostname: String,
    /// Mount point, options, filesystem and its options, per mount: a remount shows up here.
    mounts: Vec<String>,
    /// The kernel's keys (`/proc/keys`), without their timeouts and usage counts.
    keys: Vec<String>,
    /// binfmt_misc handlers, where the host has binfmt_misc mounted.
    binfmt_handlers: Vec<String>,
    /// Sysctls a hostile test would write through a fresh procfs.
    sysctls: Vec<String>,
    /// Network links of the host.
    links: Vec<String>,
}

fn host_state() -> HostState {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let keys = read("/proc/keys")
        .lines()
        .map(|l| {
            let f: Vec<_> = l.split_whitespace().collect();
            format!(
                "{} {} {}",
                f[0],
                f[7],
                f[8..].join(" ").split(':').next().unwrap_or("")
            )
        })
        .collect();
    let names = |dir: &str| -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    HostState {
        hostname: read("/proc/sys/kernel/hostname"),
        mounts: common::host_mounts(),
        keys,
        binfmt_handlers: names("/proc/sys/fs/binfmt_misc"),
        sysctls: ["kernel/core_pattern", "vm/swappiness", "kernel/modprobe"]
            .iter()
            .map(|s| read(&format!("/proc/sys/{s}")))
            .collect(),
        links: names("/sys/class/net"),
    }
}

/// Pids of processes running `exe`.
fn processes_of(exe: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == exe))
        .collect()
}

/// A host process that `kill -9 -1` outside a PID namespace would kill.
fn canary() -> Child {
    Command::new("sleep")
        .arg("600")
        .stdin(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
#[file_serial]
fn hostile_tests_are_contained_and_the_host_is_unchanged() {
    let before = host_state();
    let mut canary = canary();
    let (wall, clock) = (SystemTime::now(), Instant::now());

    let socket = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".isolated-host.sock");
    let _ = std::fs::remove_file(&socket);
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let exe = example();
    let out = Command::new(&exe).output().unwrap();
    drop(listener);
    std::fs::remove_file(&socket).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");

    for contained in [
        "kills_every_process_it_sees",
        "host_kernel::mounts_a_v1_cgroup_for_its_release_agent",
        "host_kernel::mounts_a_fresh_proc_to_write_core_pattern_and_vm_sysctls",
        "host_kernel::registers_a_binfmt_misc_handler",
        "host_kernel::mounts_devtmpfs",
        "host_kernel::mknods_the_host_disk_and_kmsg",
        "host_kernel::adds_a_key_to_roots_keyring",
        "host_kernel::leaves_its_cgroup_or_kills_a_host_group",
        "host_kernel::unmounts_tmp_and_remounts_the_hosts_root_read_write",
        "host_kernel::a_host_wide_capability_added_without_privileged_acts_on_nothing",
        "remounts_the_hosts_root_without_sys_admin",
        "loads_a_kernel_module",
        "reboots",
        "reaches_the_host_through_proc_1_root",
        "escapes_the_chroot",
        "sets_the_clock",
        "caps_key_adds_and_drops",
        "setuid_binary_cannot_regain_capabilities",
        "writes_the_hosts_files_through_the_copy_on_write_root",
        "connects_to_a_host_unix_socket",
        "connects_to_a_host_unix_socket_in_the_crate_dir",
    ] {
        assert!(
            line_for(&stdout, contained).ends_with("... ok"),
            "{contained}:\n{stdout}"
        );
    }
    // The body is among what `kill -9 -1` kills; the init survives to say so.
    let killed = failure(&stdout, "a_child_kills_every_process_it_sees");
    assert_eq!(killed.trim(), "killed by SIGKILL", "{stdout}");
    // reboot(2) in a PID namespace: the kernel kills the namespace's init, with SIGHUP.
    let rebooted = failure(&stdout, "reboots_with_sys_boot");
    assert_eq!(
        rebooted.trim(),
        "the test environment ended unexpectedly (killed by SIGHUP) before the test finished",
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 21 passed; 2 failed; 0 ignored"),
        "{stdout}"
    );
    // The run names the tests that hold the host's kernel, before any runs.
    assert!(
        stderr.contains(
            "isolated: 2 privileged test(s) run with the host's kernel, outside a user \
             namespace: caps_key_adds_and_drops, reboots_with_sys_boot"
        ),
        "{stderr}"
    );

    assert_eq!(host_state(), before);
    // What the copy-on-write host root took stayed in the test's layer.
    let checkout_probe = format!("{}/isolated-cow-probe", env!("CARGO_MANIFEST_DIR"));
    for path in [
        "/etc/isolated-cow-probe",
        "/usr/bin/isolated-cow-probe",
        "/root/isolated-cow-probe",
        &checkout_probe,
    ] {
        assert!(
            !std::path::Path::new(path).exists(),
            "{path} reached the host"
        );
    }
    assert!(
        std::path::Path::new("/etc/hostname").exists(),
        "/etc/hostname was removed"
    );
    assert!(canary.try_wait().unwrap().is_none(), "the canary died");
    canary.kill().unwrap();
    canary.wait().unwrap();
    // The clock moved as much as a monotonic clock did: nobody set it.
    let moved = SystemTime::now().duration_since(wall).unwrap();
    let elapsed = clock.elapsed();
    assert!(
        moved.abs_diff(elapsed) < Duration::from_secs(1),
        "{moved:?} vs {elapsed:?}"
    );
    assert_eq!(processes_of(&exe), Vec::<u32>::new(), "left behind");
}

/// `caps = ["+SYS_TIME"]` under a runner that lacks CAP_SYS_TIME itself: that test fails with
/// a sentence naming the capability; the others run as usual.
#[test]
fn adding_a_capability_the_runner_lacks_fails_that_test_by_name() {
    let run = |test: &str| {
        let out = Command::new("setpriv")
            .args(["--bounding-set=-sys_time", "--"])
            .arg(example())
            .args(["--exact", test])
            .output()
            .expect("setpriv (util-linux) drops CAP_SYS_TIME for the runner");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code(), stdout)
    };
    let (code, stdout) = run("sets_the_clock");
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout) = run("caps_key_adds_and_drops");
    assert_eq!(code, Some(101), "{stdout}");
    assert_eq!(
        failure(&stdout, "caps_key_adds_and_drops").trim(),
        "failed to set up the sandbox: failed to drop capabilities: CAP_SYS_TIME: `caps` adds \
         it, but the runner does not hold it itself; run the tests as root with every \
         capability (not in a container that dropped it), or remove `+SYS_TIME`",
        "{stdout}"
    );
}

#[test]
fn every_test_binary_answers_isolated_doctor() {
    let out = Command::new(example())
        .arg("--isolated-doctor")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("isolated doctor: what this machine supports\n"),
        "{stdout}"
    );
    for line in [
        "  ok       root ",
        "  ok       overlayfs ",
        "  ok       cgroups ",
    ] {
        assert!(stdout.contains(line), "{line}:\n{stdout}");
    }
    assert!(
        stdout.ends_with("ready: isolated tests can run here\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("running "), "libtest ran: {stdout}");
}
