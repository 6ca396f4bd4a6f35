//! Startup cost of an `#[isolated]` test next to plain process-per-test, in the same run.
//!
//! `sudo -E ISOLATED_FIXTURES_PATH=/path/to/fixtures cargo bench --bench startup`
//!
//! This one binary plays three roles, chosen by `ISOLATED_BENCH_ROLE`:
//!
//! * unset: the orchestrator. It times the rows below and prints the table.
//! * `suite`: the real `isolated` runner over the trivial tests generated here, started by the
//!   orchestrator with libtest's command line (`--test-threads=T -q host::` ...).
//! * `baseline-child`: one trivial test as a plain process, the way a process-per-test runner
//!   such as nextest runs it: no namespaces, no sandbox; it finds the test by name, runs its
//!   body and writes a one-byte verdict to stdout.
//!
//! There are [`GENERATED`] trivial tests per root filesystem (`host::gNN::tD` and
//! `alpine::gNN::tD`). `ISOLATED_BENCH_N` (default and maximum [`GENERATED`]) picks the first N;
//! the others are left out with libtest's `--skip`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The environment variable that selects this process's role.
const ROLE_VAR: &str = "ISOLATED_BENCH_ROLE";
/// The environment variable that overrides the number of tests per row.
const N_VAR: &str = "ISOLATED_BENCH_N";
/// Trivial tests generated per root filesystem: 20 modules of 10.
const GENERATED: usize = 200;
/// Timed repetitions of every measurement; the table shows the median.
const REPEATS: usize = 3;
/// Thread counts measured (the target machine has 2 cores).
const THREADS: [usize; 2] = [1, 2];
/// The goal, per isolated test.
const GOAL_MS: f64 = 4.0;

/// Ten trivial tests `t0` ... `t9` with the given `#[isolated]` arguments.
macro_rules! ten_tests {
    ($($args:tt)?) => {
        #[isolated::isolated $($args)?] fn t0() {}
        #[isolated::isolated $($args)?] fn t1() {}
        #[isolated::isolated $($args)?] fn t2() {}
        #[isolated::isolated $($args)?] fn t3() {}
        #[isolated::isolated $($args)?] fn t4() {}
        #[isolated::isolated $($args)?] fn t5() {}
        #[isolated::isolated $($args)?] fn t6() {}
        #[isolated::isolated $($args)?] fn t7() {}
        #[isolated::isolated $($args)?] fn t8() {}
        #[isolated::isolated $($args)?] fn t9() {}
    };
}

/// [`GENERATED`] trivial tests in modules `g00` ... `g19`, ten each.
macro_rules! many_tests {
    (@mods [$($args:tt)?]) => {};
    (@mods [$($args:tt)?] $module:ident $($rest:ident)*) => {
        mod $module { ten_tests!($($args)?); }
        many_tests!(@mods [$($args)?] $($rest)*);
    };
    ($($args:tt)?) => {
        many_tests!(@mods [$($args)?] g00 g01 g02 g03 g04 g05 g06 g07 g08 g09
                                      g10 g11 g12 g13 g14 g15 g16 g17 g18 g19);
    };
}

/// On the host's root filesystem, read-only (the default).
mod host {
    many_tests!();
}

/// On the pinned Alpine minirootfs, as an overlay's lower layer.
mod alpine {
    many_tests!((rootfs = "alpine"));
}

/// The same on Alpine with `privileged = true`: no user namespace of the test's own, no
/// seccomp filter. The baseline for what the default confinement costs.
mod unconfined {
    many_tests!((rootfs = "alpine", privileged = true));
}

/// Starting a three-node virtual network inside one test (`isolated::net`).
mod network {
    #[isolated::isolated]
    fn three_nodes() {
        let net = isolated::net::Network::new().expect("a network");
        let nodes: Vec<_> = ["a", "b", "c"]
            .iter()
            .map(|name| net.node(name).run(|| 0).expect("a node"))
            .collect();
        drop(nodes);
    }
}

/// On the host's root, with a veth pair to the host instead of loopback alone.
mod veth {
    many_tests!((net = "veth"));
}

/// The full name of the `index`th generated test under `prefix` (`host` or `alpine`).
fn test_name(prefix: &str, index: usize) -> String {
    format!("{prefix}::g{:02}::t{}", index / 10, index % 10)
}

fn main() {
    // A re-executed test environment never returns from here; nothing may start a thread first.
    isolated::__private::run_if_child();
    match std::env::var(ROLE_VAR).as_deref() {
        Ok("suite") => isolated::__private::main(env!("CARGO_MANIFEST_DIR")),
        Ok("baseline-child") => baseline_child(),
        Ok(other) => panic!("unknown {ROLE_VAR}={other:?}"),
        Err(_) => orchestrate(),
    }
}

/// One plain test process: find the test named by the first argument, run it, say how it went.
fn baseline_child() {
    let name = std::env::args()
        .nth(1)
        .expect("baseline child needs a test name");
    let test = isolated::__private::inventory::iter::<isolated::__private::TestDef>
        .into_iter()
        .find(|t| t.full_name() == name)
        .unwrap_or_else(|| panic!("no test named {name}"));
    let verdict = match (test.body)() {
        Ok(()) => b'.',
        Err(_) => b'F',
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&[verdict]).expect("write the verdict");
    out.flush().expect("flush the verdict");
    std::process::exit(0);
}

/// What a row measured: the median wall time, or why it could not run.
enum Outcome {
    Measured(Duration),
    Skipped(String),
}

fn orchestrate() {
    let n = tests_per_row();
    let fixtures = std::env::var_os("ISOLATED_FIXTURES_PATH").filter(|v| !v.is_empty());

    println!("isolated startup benchmark");
    println!(
        "machine: Linux {}, {} cores ({} online)",
        kernel_release(),
        available_cores(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("tests per row: N = {n} trivial tests, median of {REPEATS} runs");
    println!();

    // The alpine row: prepare the fixture once (unpack into the target dir's cache) before any
    // timing, so that the table shows the warm-cache cost per test.
    let mut alpine_skip = match &fixtures {
        None => Some("ISOLATED_FIXTURES_PATH is not set".to_string()),
        Some(_) => run_suite("alpine", 1, 1).err(),
    };
    // The host row gets one untimed warm-up too (page cache, binary loaded).
    run_suite("host", n, 2).unwrap_or_else(|e| panic!("isolated suite failed: {e}"));
    run_baseline("host", n, 2);

    let mut rows: Vec<(&str, usize, Outcome)> = Vec::new();
    for threads in THREADS {
        let mut host = Vec::new();
        let mut alpine = Vec::new();
        let mut unconfined = Vec::new();
        let mut veth = Vec::new();
        let mut baseline = Vec::new();
        // Interleaved, so that a slow phase of the machine hits every row alike.
        for _ in 0..REPEATS {
            host.push(
                run_suite("host", n, threads)
                    .unwrap_or_else(|e| panic!("isolated suite failed: {e}")),
            );
            if alpine_skip.is_none() {
                match run_suite("alpine", n, threads) {
                    Ok(wall) => alpine.push(wall),
                    Err(e) => alpine_skip = Some(e),
                }
                match run_suite("unconfined", n, threads) {
                    Ok(wall) => unconfined.push(wall),
                    Err(e) => alpine_skip = Some(e),
                }
            }
            veth.push(
                run_suite("veth", n, threads)
                    .unwrap_or_else(|e| panic!("isolated veth suite failed: {e}")),
            );
            baseline.push(run_baseline("host", n, threads));
        }
        rows.push(("isolated, rootfs host", threads, median(host)));
        rows.push((
            "isolated, rootfs alpine",
            threads,
            match &alpine_skip {
                Some(reason) => Outcome::Skipped(reason.clone()),
                None => median(alpine),
            },
        ));
        rows.push((
            "isolated, alpine, privileged",
            threads,
            match &alpine_skip {
                Some(reason) => Outcome::Skipped(reason.clone()),
                None => median(unconfined),
            },
        ));
        rows.push(("isolated, host, net veth", threads, median(veth)));
        rows.push(("baseline (process per test)", threads, median(baseline)));
    }

    print_table(n, &rows);
    println!();
    if alpine_skip.is_none() {
        println!(
            "note: the alpine row is measured warm: an untimed warm-up run unpacked the fixture \
             into the target dir's cache, so each timed run only finds it there"
        );
    }
    println!(
        "note: baseline = {} `Command` spawns of this binary (no namespaces), each running the \
         test body and writing a 1-byte verdict to stdout, over T threads",
        n
    );
    print_goal(n, &rows);
    print_confinement_cost(&rows);
    print_network_start();
}

/// A test that starts a 3-node network, next to a trivial test: the difference is what
/// starting the network (switch, three nodes with their namespaces, links and filesystems)
/// costs.
fn print_network_start() {
    let time = |filter: &str| {
        let walls = (0..REPEATS * 3).map(|_| run_exact(filter));
        match median(walls.collect()) {
            Outcome::Measured(wall) => wall,
            Outcome::Skipped(_) => unreachable!("measured"),
        }
    };
    let network = time("network::three_nodes");
    let trivial = time("host::g00::t0");
    println!(
        "3-node network: a test starting one takes {:.1} ms, a trivial test {:.1} ms: {:.1} ms \
         to start the network (median of {})",
        ms(network),
        ms(trivial),
        ms(network.saturating_sub(trivial)),
        REPEATS * 3
    );
}

/// Runs the one test `name` through the real runner and times it.
fn run_exact(name: &str) -> Duration {
    let start = Instant::now();
    let output = Command::new(current_exe())
        .env(ROLE_VAR, "suite")
        .args(["--exact", name, "-q"])
        .stdin(Stdio::null())
        .output()
        .expect("run the suite");
    let wall = start.elapsed();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    wall
}

fn print_table(n: usize, rows: &[(&str, usize, Outcome)]) {
    let baseline_wall = |threads: usize| {
        rows.iter().find_map(|(name, t, outcome)| match outcome {
            Outcome::Measured(wall) if *t == threads && name.starts_with("baseline") => Some(*wall),
            _ => None,
        })
    };
    println!(
        "{:<28} {:>7} {:>11} {:>13} {:>12}",
        "runner", "threads", "wall (ms)", "per test (ms)", "vs baseline"
    );
    println!("{}", "-".repeat(28 + 1 + 7 + 1 + 11 + 1 + 13 + 1 + 12));
    for (name, threads, outcome) in rows {
        match outcome {
            Outcome::Measured(wall) => {
                let ratio = baseline_wall(*threads)
                    .map(|base| format!("{:.2}x", wall.as_secs_f64() / base.as_secs_f64()))
                    .unwrap_or_default();
                println!(
                    "{:<28} {:>7} {:>11.1} {:>13.3} {:>12}",
                    name,
                    threads,
                    ms(*wall),
                    ms(*wall) / n as f64,
                    ratio
                );
            }
            Outcome::Skipped(reason) => {
                println!("{name:<28} {threads:>7}   skipped: {reason}");
            }
        }
    }
}

/// The goal line, judged on the host row with as many threads as the machine has cores (2).
fn print_goal(n: usize, rows: &[(&str, usize, Outcome)]) {
    let threads = *THREADS.last().expect("at least one thread count");
    let per_test = |prefix: &str| {
        rows.iter().find_map(|(name, t, outcome)| match outcome {
            Outcome::Measured(wall) if *t == threads && name.starts_with(prefix) => {
                Some(ms(*wall) / n as f64)
            }
            _ => None,
        })
    };
    let host = per_test("isolated, rootfs host").expect("the host row always runs");
    let verdict = if host < GOAL_MS { "MET" } else { "NOT MET" };
    let alpine = match per_test("isolated, rootfs alpine") {
        Some(ms) => format!(
            "; alpine: {ms:.3} ms ({})",
            if ms < GOAL_MS { "met" } else { "not met" }
        ),
        None => String::new(),
    };
    println!(
        "goal: under {GOAL_MS} ms per isolated test on a 2-core machine -> {verdict} \
         (host rootfs, {threads} threads: {host:.3} ms per test{alpine})"
    );
}

/// What the default confinement (the test's own user namespace, the seccomp filter) costs: the
/// alpine row against the same tests with `privileged = true`, at each thread count.
fn print_confinement_cost(rows: &[(&str, usize, Outcome)]) {
    let wall = |name: &str, threads: usize| {
        rows.iter().find_map(|(row, t, outcome)| match outcome {
            Outcome::Measured(wall) if *t == threads && *row == name => Some(ms(*wall)),
            _ => None,
        })
    };
    for threads in THREADS {
        let confined = wall("isolated, rootfs alpine", threads);
        let unconfined = wall("isolated, alpine, privileged", threads);
        if let (Some(confined), Some(unconfined)) = (confined, unconfined) {
            println!(
                "confinement ({threads} thread(s)): alpine / alpine privileged = {:.2} \
                 (user namespace and seccomp filter against neither)",
                confined / unconfined
            );
        }
    }
}

/// Runs the first `n` generated tests under `prefix` through the real runner and times it.
///
/// Errors carry the runner's stderr, for the table's "skipped" reason or a panic.
fn run_suite(prefix: &str, n: usize, threads: usize) -> Result<Duration, String> {
    let mut command = Command::new(current_exe());
    command
        .env(ROLE_VAR, "suite")
        .arg(format!("--test-threads={threads}"))
        .arg("-q")
        .arg(format!("{prefix}::"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for index in n..GENERATED {
        command.arg("--skip").arg(test_name(prefix, index));
    }
    let start = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot start suite: {e}"))?;
    let wall = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(first_failure(
            &stdout,
            &String::from_utf8_lossy(&output.stderr),
        ));
    }
    // Make sure the filter ran exactly the tests we meant to time.
    let expected = format!("{n} passed");
    if !stdout.contains(&expected) {
        return Err(format!(
            "expected `{expected}` in the suite's output: {stdout}"
        ));
    }
    Ok(wall)
}

/// The runner's first failure message, short enough for a table cell: the first line after
/// libtest's `---- name ----` header, else the first line of stderr.
fn first_failure(stdout: &str, stderr: &str) -> String {
    let after_header = stdout
        .lines()
        .skip_while(|line| !line.starts_with("---- "))
        .skip(1)
        .map(str::trim)
        .find(|line| !line.is_empty());
    let reason = after_header
        .or_else(|| stderr.lines().map(str::trim).find(|l| !l.is_empty()))
        .unwrap_or("the suite failed without a message");
    reason.chars().take(160).collect()
}

/// Runs the first `n` generated tests under `prefix` as plain processes over `threads` threads.
fn run_baseline(prefix: &str, n: usize, threads: usize) -> Duration {
    let exe = current_exe();
    let names: Vec<String> = (0..n).map(|i| test_name(prefix, i)).collect();
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(name) = names.get(index) else {
                    break;
                };
                let mut child = Command::new(&exe)
                    .env(ROLE_VAR, "baseline-child")
                    .arg(name)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("spawn baseline child");
                let mut verdict = Vec::with_capacity(1);
                child
                    .stdout
                    .take()
                    .expect("piped stdout")
                    .read_to_end(&mut verdict)
                    .expect("read the verdict");
                let status = child.wait().expect("wait for baseline child");
                assert!(
                    status.success() && verdict == b".",
                    "baseline child {name} failed: {status}, verdict {verdict:?}"
                );
            });
        }
    });
    start.elapsed()
}

fn median(mut walls: Vec<Duration>) -> Outcome {
    walls.sort();
    Outcome::Measured(walls[walls.len() / 2])
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn current_exe() -> std::path::PathBuf {
    std::env::current_exe().expect("the benchmark's own executable")
}

fn tests_per_row() -> usize {
    match std::env::var(N_VAR) {
        Err(_) => GENERATED,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > GENERATED => {
                println!("note: {N_VAR}={n} capped at the {GENERATED} generated tests");
                GENERATED
            }
            Ok(n) if n >= 1 => n,
            _ => panic!("{N_VAR}={text:?}: expected a number from 1 to {GENERATED}"),
        },
    }
}

fn kernel_release() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Cores the kernel knows about, from `/proc/cpuinfo`.
fn available_cores() -> usize {
    std::fs::read_to_string("/proc/cpuinfo")
        .map(|s| s.lines().filter(|l| l.starts_with("processor")).count())
        .unwrap_or(0)
}
