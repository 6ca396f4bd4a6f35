//! Per-test resource limits: tests that break their `memory`, `pids` and `cpu` limits on
//! purpose, and tests that live within them. `tests/limits.rs` runs it and checks what the
//! runner prints, and that no cgroup is left afterwards.
//!
//! `sudo -E cargo run --example limits`

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use isolated::isolated;

/// Starts `sleep 60` until a spawn fails; returns how many started and the error.
fn spawn_until_refused(at_most: usize) -> (Vec<Child>, Option<std::io::Error>) {
    let mut children = Vec::new();
    while children.len() < at_most {
        match Command::new("sleep").arg("60").spawn() {
            Ok(child) => children.push(child),
            Err(e) => return (children, Some(e)),
        }
    }
    (children, None)
}

#[isolated(memory = "64M")]
fn memory_hog() {
    // Touch every page of 512M: far past the limit, so the OOM killer steps in.
    let mut hog = vec![0u8; 512 << 20];
    for page in (0..hog.len()).step_by(4096) {
        hog[page] = 1;
    }
    std::hint::black_box(&hog);
}

#[isolated(memory = "64M")]
fn fits_in_its_memory_limit() {
    let mut data = vec![0u8; 16 << 20];
    data.iter_mut().step_by(4096).for_each(|b| *b = 1);
    std::hint::black_box(&data);
}

#[isolated(pids = 32)]
fn fork_bomb() {
    let (children, error) = spawn_until_refused(1000);
    panic!("could not start process {}: {error:?}", children.len() + 1);
}

#[isolated(pids = 32, timeout = "2s")]
fn shell_fork_bomb() {
    // The classic (`:` is no function name for dash): it never ends by itself; the pids
    // limit keeps it small until the timeout.
    Command::new("sh")
        .args(["-c", "bomb() { bomb | bomb & }; bomb"])
        .stderr(std::process::Stdio::null()) // thousands of "Cannot fork"
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_secs(10));
}

#[isolated]
fn default_limits_stop_a_fork_bomb() {
    let (started, error) = fork_until_refused(4000);
    let error = error.expect("4000 processes started: no default pids limit");
    // 1024 minus the test's own processes and threads.
    assert!(started < 1024, "{started} started");
    assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock, "{error}");
}

/// Forks children that wait for their end (the test's, which kills them all) until a fork
/// fails; returns how many started and the error. No exec: a limit's test should not take
/// longer on a slower machine than its timeout allows (a thousand `sleep`s under emulation do).
fn fork_until_refused(at_most: usize) -> (usize, Option<std::io::Error>) {
    for started in 0..at_most {
        // SAFETY: the test's body is single-threaded; the child only calls `pause`, which is
        // async-signal-safe, and never returns into the test.
        match unsafe { libc::fork() } {
            -1 => return (started, Some(std::io::Error::last_os_error())),
            0 => loop {
                // SAFETY: as above.
                unsafe { libc::pause() };
            },
            _ => {}
        }
    }
    (at_most, None)
}

#[isolated(cpu = 0.2)]
fn cpu_capped() {
    let wall = Instant::now();
    let cpu_start = thread_cpu_time();
    while wall.elapsed() < Duration::from_millis(500) {
        std::hint::black_box(0u64.wrapping_add(1));
    }
    let share = (thread_cpu_time() - cpu_start).as_secs_f64() / wall.elapsed().as_secs_f64();
    // About 0.2 of a CPU; loose, for a busy machine.
    assert!((0.05..=0.35).contains(&share), "got {share:.2} of a CPU");
}

/// Its own cgroup is the root of its cgroup namespace: the host's tree is out of sight
/// (`tests/limits.rs` checks from the host that the group is the test's own).
#[isolated]
fn runs_in_its_own_cgroup() {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    assert!(cgroups.lines().all(|l| l.ends_with(":/")), "{cgroups}");
}

#[isolated(timeout = "2m")]
#[ignore = "tests/limits.rs runs it and kills the runner with SIGKILL"]
fn sleeps_until_killed() {
    std::thread::sleep(Duration::from_secs(100));
}

fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

isolated::main!();
