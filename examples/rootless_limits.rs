//! Limits in the rootless mode: `tests/rootless.rs` runs this suite as an unprivileged user,
//! once inside a cgroup delegated to that user (the limits are enforced, as with root), and
//! once without (a test that sets a limit fails, saying how to get a delegated cgroup; the
//! default limits are dropped with one warning for the run).

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use isolated::isolated;

#[isolated(memory = "64M")]
fn memory_hog() {
    // Touch every page of 1 GiB: far past the limit, so the OOM killer steps in.
    let mut hog = vec![0u8; 1 << 30];
    for page in (0..hog.len()).step_by(4096) {
        hog[page] = 1;
    }
    std::hint::black_box(&hog);
}

#[isolated(pids = 16)]
fn fork_bomb() {
    let mut children: Vec<Child> = Vec::new();
    let error = loop {
        match Command::new("sleep").arg("60").spawn() {
            Ok(child) if children.len() < 1000 => children.push(child),
            Ok(_) => break None,
            Err(e) => break Some(e),
        }
    };
    panic!("could not start process {}: {error:?}", children.len() + 1);
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

/// Only the default limits: it runs with or without a delegated cgroup.
#[isolated]
fn default_limits_only() {}

/// The same, a second time: the warning about the default limits is one per run.
#[isolated]
fn default_limits_again() {}

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
