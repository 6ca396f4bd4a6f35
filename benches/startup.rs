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
const REPEATS: usize = 5;
/// Thread counts measured (the target machine has 2 cores).
const THREADS: [usize; 2] = [1, 2];

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
        Ok("suite") => {
            let _big = std::env::var_os(BLOAT_VAR).map(|_| grow_big());
            if std::env::var_os(MARK_VAR).is_some() {
                eprintln!("{READY_MARK}");
            }
            isolated::__private::main(env!("CARGO_MANIFEST_DIR"))
        }
        Ok("baseline-child") => baseline_child(),
        Ok(other) => panic!("unknown {ROLE_VAR}={other:?}"),
        Err(_) => orchestrate(),
    }
}

/// Touches 1 GiB and starts 64 idle threads, as a big test binary's runner might have.
fn grow_big() -> Vec<u8> {
    let memory = vec![1u8; 1 << 30];
    for _ in 0..64 {
        std::thread::spawn(|| loop {
            std::thread::park();
        });
    }
    memory
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
    /// The median, and the spread of the rounds: (slowest - fastest) / median.
    Measured(Duration, f64),
    Skipped(String),
}

/// How a row runs its N tests.
#[derive(Clone, Copy)]
enum Kind {
    /// The real runner over the tests under this prefix, with these variables set.
    Suite(&'static str, &'static [(&'static str, &'static str)]),
    /// The same, timed from the runner's start of its tests (after what `BLOAT_VAR` does) to
    /// its summary line: what the tests cost without the runner's own start and exit.
    NetOfStart(&'static str, &'static [(&'static str, &'static str)]),
    /// A plain process per test.
    Baseline,
    /// `bwrap` per test, on the Alpine tree read-only.
    Bubblewrap,
    /// `floor.c`, on the Alpine tree as an overlay's lower layer.
    Floor,
}

/// The rows, in the table's order.
const ROWS: [(&str, Kind); 10] = [
    ("isolated, rootfs host", Kind::Suite("host", &[])),
    ("isolated, rootfs alpine", Kind::Suite("alpine", &[])),
    (
        "isolated, alpine, exec/test",
        Kind::Suite("alpine", &[("ISOLATED_ZYGOTE", "0")]),
    ),
    ("isolated, alpine, net", Kind::NetOfStart("alpine", &[])),
    (
        "isolated, alpine, big, net",
        Kind::NetOfStart("alpine", &[(BLOAT_VAR, "1")]),
    ),
    (
        "isolated, alpine, privileged",
        Kind::Suite("unconfined", &[]),
    ),
    ("isolated, host, net veth", Kind::Suite("veth", &[])),
    ("baseline (process per test)", Kind::Baseline),
    ("bubblewrap, alpine", Kind::Bubblewrap),
    ("floor (floor.c), alpine", Kind::Floor),
];

/// Set in a suite's environment: the runner says on stderr, with [`READY_MARK`], that it
/// starts its tests now.
const MARK_VAR: &str = "ISOLATED_BENCH_MARK";
const READY_MARK: &str = "isolated-bench: ready";

/// Set in a suite's environment: the runner touches 1 GiB and starts 64 threads before its
/// tests, as a big test binary might.
const BLOAT_VAR: &str = "ISOLATED_BENCH_BLOAT";

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
    println!("tests per row: N = {n} trivial tests, median of {REPEATS} interleaved rounds");
    println!();

    // The alpine rows: prepare the fixture once (unpack into the target dir's cache) before any
    // timing, so that the table shows the warm-cache cost per test.
    let alpine_skip = match &fixtures {
        None => Some("ISOLATED_FIXTURES_PATH is not set".to_string()),
        Some(_) => run_suite("alpine", 1, 1, &[]).err(),
    };
    let alpine = match &alpine_skip {
        Some(reason) => Err(reason.clone()),
        None => alpine_tree(),
    };
    let bwrap = alpine
        .clone()
        .and_then(|tree| bubblewrap().map(|bwrap| (bwrap, tree)));
    let floor = alpine
        .clone()
        .and_then(|tree| build_floor().map(|floor| (floor, tree)));
    // The host row gets one untimed warm-up too (page cache, binary loaded).
    run_suite("host", n, 2, &[]).unwrap_or_else(|e| panic!("isolated suite failed: {e}"));
    run_baseline("host", n, 2);

    let skip_reason = |kind: Kind| -> Option<String> {
        match kind {
            Kind::Suite("alpine" | "unconfined", _) | Kind::NetOfStart(..) => alpine_skip.clone(),
            Kind::Bubblewrap => bwrap.as_ref().err().cloned(),
            Kind::Floor => floor.as_ref().err().cloned(),
            _ => None,
        }
    };
    let steal_before = steal_share_counters();
    let mut rows: Vec<(&str, usize, Outcome)> = Vec::new();
    let mut rounds = Rounds::default();
    for threads in THREADS {
        let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); ROWS.len()];
        let mut skipped: Vec<Option<String>> = ROWS.iter().map(|(_, k)| skip_reason(*k)).collect();
        // Interleaved, so that a slow phase of the machine hits every row alike.
        for _ in 0..REPEATS {
            for (i, (name, kind)) in ROWS.iter().enumerate() {
                if skipped[i].is_some() {
                    continue;
                }
                let wall = match *kind {
                    Kind::Suite(prefix, env) => run_suite(prefix, n, threads, env),
                    Kind::NetOfStart(prefix, env) => run_suite_net(prefix, n, threads, env),
                    Kind::Baseline => Ok(run_baseline("host", n, threads)),
                    Kind::Bubblewrap => {
                        let (bwrap, tree) = bwrap.as_ref().expect("not skipped");
                        run_bubblewrap(bwrap, tree, n, threads)
                    }
                    Kind::Floor => {
                        let (floor, tree) = floor.as_ref().expect("not skipped");
                        run_floor(floor, tree, n, threads)
                    }
                };
                match wall {
                    Ok(wall) => walls[i].push(wall),
                    Err(e) if matches!(kind, Kind::Suite("host" | "veth", _)) => {
                        panic!("{name} failed: {e}")
                    }
                    Err(e) => skipped[i] = Some(e),
                }
            }
        }
        for (i, (name, _)) in ROWS.iter().enumerate() {
            let outcome = match skipped[i].take() {
                Some(reason) => Outcome::Skipped(reason),
                None => {
                    rounds.0.push((name, threads, walls[i].clone()));
                    median(std::mem::take(&mut walls[i]))
                }
            };
            rows.push((name, threads, outcome));
        }
    }
    let steal = steal_share_counters().since(&steal_before);

    print_table(n, &rows);
    println!();
    println!(
        "machine noise: steal {:.0}% of CPU time during the timed rounds (as the kernel counts \
         it; some hypervisors report none); spread = (slowest - fastest round) / median",
        steal * 100.0
    );
    if alpine_skip.is_none() {
        println!(
            "note: the alpine rows are measured warm: an untimed warm-up run unpacked the fixture \
             into the target dir's cache, so each timed run only finds it there"
        );
    }
    println!(
        "note: baseline = {n} `Command` spawns of this binary (no namespaces), each running the \
         test body and writing a 1-byte verdict to stdout, over T threads; bubblewrap = {n} \
         `bwrap --unshare-all --ro-bind ALPINE / --proc /proc --dev /dev --tmpfs /tmp true`; \
         floor = benches/floor.c, the same kernel work as a test (namespaces, lo up, tmpfs, \
         overlay, /proc, /dev, pivot_root, a PID 2 reporting over a pipe) from a minimal \
         single-threaded C parent, without a user namespace, cgroups or seccomp"
    );
    println!(
        "note: exec/test = ISOLATED_ZYGOTE=0 (every test's PID 1 is an exec of the test binary, \
         not a fork of the runner thread's zygote); net = timed from the runner's start of its tests \
         (after its set-up) to its summary line, without its start and exit; big = the runner touched 1 GiB and started 64 \
         threads before its tests"
    );
    print_goal(n, &rows, &rounds);
    print_confinement_cost(&rounds);
    print_network_start();
}

/// Cumulative CPU time and steal time of the machine, from `/proc/stat`.
struct StealCounters {
    total: u64,
    steal: u64,
}

impl StealCounters {
    /// The share of CPU time stolen since `earlier`.
    fn since(&self, earlier: &StealCounters) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        self.steal.saturating_sub(earlier.steal) as f64 / total as f64
    }
}

fn steal_share_counters() -> StealCounters {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .filter_map(|f| f.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    StealCounters {
        // user nice system idle iowait irq softirq steal (guest time is inside user)
        total: fields.iter().take(8).sum(),
        steal: fields.get(7).copied().unwrap_or(0),
    }
}

/// The unpacked Alpine tree in the fixture cache that the alpine rows use.
fn alpine_tree() -> Result<std::path::PathBuf, String> {
    let exe = current_exe();
    let target = exe
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .ok_or("no cargo target dir above the benchmark's executable")?;
    let cache = target.join("isolated").join("fixtures");
    // The pinned 3.20.3 tarball's digest names its tree; else any Alpine tree there.
    let pinned = cache.join("d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c");
    if pinned.join("etc/alpine-release").is_file() {
        return Ok(pinned);
    }
    std::fs::read_dir(&cache)
        .map_err(|e| format!("cannot read {}: {e}", cache.display()))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|tree| tree.join("etc/alpine-release").is_file())
        .ok_or_else(|| format!("no unpacked Alpine tree in {}", cache.display()))
}

/// `bwrap`, installed with apt when it is missing and we may.
fn bubblewrap() -> Result<std::path::PathBuf, String> {
    let find = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("bwrap"))
                .find(|candidate| candidate.is_file())
        })
    };
    if let Some(bwrap) = find() {
        return Ok(bwrap);
    }
    println!("setup: bubblewrap is missing; installing it with `apt-get install -y bubblewrap`");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-q", "bubblewrap"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status();
    match installed {
        Ok(status) if status.success() => find().ok_or_else(|| "apt installed no bwrap".into()),
        Ok(status) => Err(format!(
            "bubblewrap is not installed and `apt-get install bubblewrap` failed ({status})"
        )),
        Err(e) => Err(format!(
            "bubblewrap is not installed and apt-get could not run ({e}): install it"
        )),
    }
}

/// Compiles `benches/floor.c` into the target dir with the system's C compiler.
fn build_floor() -> Result<std::path::PathBuf, String> {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/floor.c");
    let binary = current_exe().with_file_name("isolated-floor");
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let output = Command::new(&compiler)
        .args(["-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .map_err(|e| format!("no C compiler to build the floor ({compiler}: {e})"))?;
    if !output.status.success() {
        return Err(format!(
            "{compiler} failed on {}: {}",
            source.display(),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    Ok(binary)
}

/// N sandboxes of `bwrap`, over T threads, each running Alpine's `true`.
fn run_bubblewrap(
    bwrap: &std::path::Path,
    tree: &std::path::Path,
    n: usize,
    threads: usize,
) -> Result<Duration, String> {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        let output = Command::new(bwrap)
                            .args(["--unshare-all", "--die-with-parent", "--ro-bind"])
                            .arg(tree)
                            .args(["/", "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"])
                            .arg("/bin/true")
                            .stdin(Stdio::null())
                            .output();
                        match output {
                            Ok(output) if output.status.success() => {}
                            Ok(output) => {
                                return Some(String::from_utf8_lossy(&output.stderr).into())
                            }
                            Err(e) => return Some(e.to_string()),
                        }
                    }
                    None
                })
            })
            .collect();
        workers
            .into_iter()
            .filter_map(|w| w.join().expect("a bwrap worker"))
            .collect()
    });
    let wall = start.elapsed();
    match failures.first() {
        Some(reason) => Err(format!("bwrap failed: {}", reason.trim())),
        None => Ok(wall),
    }
}

/// The floor program over N tests and T worker processes.
fn run_floor(
    floor: &std::path::Path,
    tree: &std::path::Path,
    n: usize,
    threads: usize,
) -> Result<Duration, String> {
    let start = Instant::now();
    let output = Command::new(floor)
        .arg(tree)
        .arg(n.to_string())
        .arg(threads.to_string())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", floor.display()))?;
    let wall = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "floor failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(wall)
}

/// A test that starts a 3-node network, next to a trivial test: the difference is what
/// starting the network (switch, three nodes with their namespaces, links and filesystems)
/// costs.
fn print_network_start() {
    let time = |filter: &str| {
        let walls = (0..REPEATS * 3).map(|_| run_exact(filter));
        match median(walls.collect()) {
            Outcome::Measured(wall, _) => wall,
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
    let wall_of = |prefix: &str, threads: usize| {
        rows.iter().find_map(|(name, t, outcome)| match outcome {
            Outcome::Measured(wall, _) if *t == threads && name.starts_with(prefix) => Some(*wall),
            _ => None,
        })
    };
    println!(
        "{:<28} {:>7} {:>11} {:>13} {:>12} {:>9} {:>7}",
        "runner", "threads", "wall (ms)", "per test (ms)", "vs baseline", "vs floor", "spread"
    );
    println!(
        "{}",
        "-".repeat(28 + 1 + 7 + 1 + 11 + 1 + 13 + 1 + 12 + 1 + 9 + 1 + 7)
    );
    for (name, threads, outcome) in rows {
        match outcome {
            Outcome::Measured(wall, spread) => {
                let ratio = |base: Option<Duration>| {
                    base.map(|base| format!("{:.2}x", wall.as_secs_f64() / base.as_secs_f64()))
                        .unwrap_or_default()
                };
                println!(
                    "{:<28} {:>7} {:>11.1} {:>13.3} {:>12} {:>9} {:>6.0}%",
                    name,
                    threads,
                    ms(*wall),
                    ms(*wall) / n as f64,
                    ratio(wall_of("baseline", *threads)),
                    ratio(wall_of("floor", *threads)),
                    spread * 100.0,
                );
            }
            Outcome::Skipped(reason) => {
                println!("{name:<28} {threads:>7}   skipped: {reason}");
            }
        }
    }
}

/// Issue 10's goals: at 2 threads, alpine / floor <= 1.3 and alpine / bubblewrap <= 0.6; at
/// 1 thread, alpine <= 2.5 ms per test; a big runner within 10% of a small one.
fn print_goal(n: usize, rows: &[(&str, usize, Outcome)], rounds: &Rounds) {
    let per_test = |row: &str, threads: usize| {
        rows.iter().find_map(|(name, t, outcome)| match outcome {
            Outcome::Measured(wall, _) if *t == threads && *name == row => {
                Some(ms(*wall) / n as f64)
            }
            _ => None,
        })
    };
    let judge = |met: bool| if met { "met" } else { "NOT met" };
    let two = *THREADS.last().expect("at least one thread count");
    let alpine = |threads| per_test("isolated, rootfs alpine", threads);
    let ratio = |other: &str, goal: f64| match rounds.ratio("isolated, rootfs alpine", other, two) {
        Some(ratio) => format!("{ratio:.2} (goal <= {goal}: {})", judge(ratio <= goal)),
        None => "not measured".to_string(),
    };
    println!(
        "goal, {two} threads (median of the rounds' ratios): alpine / floor = {}; alpine / \
         bubblewrap = {}",
        ratio("floor (floor.c), alpine", 1.3),
        ratio("bubblewrap, alpine", 0.6)
    );
    if let Some(one) = alpine(1) {
        println!(
            "goal, 1 thread: alpine {one:.3} ms per test (goal <= 2.5 ms: {})",
            judge(one <= 2.5)
        );
    }
    for threads in THREADS {
        let big = "isolated, alpine, big, net";
        if let Some(ratio) = rounds.ratio(big, "isolated, alpine, net", threads) {
            println!(
                "goal, {threads} thread(s): big runner / small runner (net rows, paired) = {ratio:.2} \
                 (goal <= 1.10: {})",
                judge(ratio <= 1.10)
            );
        }
    }
}

/// What the default confinement (the test's own user namespace, the seccomp filter) costs: the
/// alpine row against the same tests with `privileged = true`, at each thread count.
fn print_confinement_cost(rounds: &Rounds) {
    for threads in THREADS {
        let ratio = rounds.ratio(
            "isolated, rootfs alpine",
            "isolated, alpine, privileged",
            threads,
        );
        if let Some(ratio) = ratio {
            println!(
                "confinement ({threads} thread(s)): alpine / alpine privileged = {ratio:.2} \
                 (user namespace and seccomp filter against neither)"
            );
        }
    }
}

/// Every measured row's wall time in each round, in round order.
#[derive(Default)]
struct Rounds(Vec<(&'static str, usize, Vec<Duration>)>);

impl Rounds {
    /// The median over the rounds of `a / b`, each round's pair measured a few seconds apart:
    /// a slow phase of the machine moves both sides of a pair.
    fn ratio(&self, a: &str, b: &str, threads: usize) -> Option<f64> {
        let walls = |name: &str| {
            self.0
                .iter()
                .find(|(row, t, _)| *row == name && *t == threads)
                .map(|(_, _, walls)| walls)
        };
        let (a, b) = (walls(a)?, walls(b)?);
        let mut ratios: Vec<f64> = a
            .iter()
            .zip(b)
            .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios.get(ratios.len() / 2).copied()
    }
}

/// The real runner over the first `n` generated tests under `prefix`, quiet, its output piped.
fn suite_command(prefix: &str, n: usize, threads: usize, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(current_exe());
    command
        .env(ROLE_VAR, "suite")
        .envs(env.iter().copied())
        .arg(format!("--test-threads={threads}"))
        .arg("-q")
        .arg(format!("{prefix}::"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for index in n..GENERATED {
        command.arg("--skip").arg(test_name(prefix, index));
    }
    command
}

/// Runs the first `n` generated tests under `prefix` through the real runner and times it.
///
/// Errors carry the runner's stderr, for the table's "skipped" reason or a panic.
fn run_suite(
    prefix: &str,
    n: usize,
    threads: usize,
    env: &[(&str, &str)],
) -> Result<Duration, String> {
    let mut command = suite_command(prefix, n, threads, env);
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

/// Like [`run_suite`], timed from the runner's [`READY_MARK`] to its `test result:` line.
fn run_suite_net(
    prefix: &str,
    n: usize,
    threads: usize,
    env: &[(&str, &str)],
) -> Result<Duration, String> {
    use std::io::BufRead;
    let mut child = suite_command(prefix, n, threads, env)
        .env(MARK_VAR, "1")
        .spawn()
        .map_err(|e| format!("cannot start suite: {e}"))?;
    let stderr = child.stderr.take().expect("piped stderr");
    let ready = std::thread::spawn(move || {
        let mut ready = None;
        let mut rest = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            match line == READY_MARK {
                true => ready = ready.or(Some(Instant::now())),
                false => rest.push_str(&line),
            }
        }
        (ready, rest)
    });
    let mut done = None;
    let mut stdout = String::new();
    let reader = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
    for line in reader.lines().map_while(Result::ok) {
        if line.starts_with("test result:") {
            done = done.or(Some(Instant::now()));
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child
        .wait()
        .map_err(|e| format!("wait for the suite: {e}"))?;
    let (ready, stderr) = ready.join().expect("the stderr reader");
    if !status.success() {
        return Err(first_failure(&stdout, &stderr));
    }
    if !stdout.contains(&format!("{n} passed")) {
        return Err(format!(
            "expected `{n} passed` in the suite's output: {stdout}"
        ));
    }
    match (ready, done) {
        (Some(ready), Some(done)) => Ok(done.saturating_duration_since(ready)),
        _ => Err("the suite printed no ready mark or no summary line".into()),
    }
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
    let median = walls[walls.len() / 2];
    let spread = (walls[walls.len() - 1] - walls[0]).as_secs_f64() / median.as_secs_f64();
    Outcome::Measured(median, spread)
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
