//! What preparing a fixture costs, next to `tar xzf` of the same tarball, in the same run.
//!
//! `sudo -E ISOLATED_FIXTURES_PATH=/path/to/fixtures cargo bench --bench fixtures`
//!
//! Rows, each the median of [`REPEATS`] runs:
//! * `tar xzf`: GNU tar unpacking the Alpine minirootfs into an empty directory (the baseline);
//! * first use: a one-test suite on `rootfs = "alpine"` with an empty cache, minus the same
//!   suite with the cache filled: what the first run of a fresh checkout pays once;
//! * warm: that suite with the cache filled, minus the same suite on `rootfs = "host"`: what
//!   every later run pays once (finding and hashing the pinned file);
//! * per test: the alpine and host rows of `cargo bench --bench startup` give the per-test
//!   difference (the overlay mount).
//!
//! This binary plays two roles: the orchestrator (no `ISOLATED_BENCH_ROLE`), and with
//! `ISOLATED_BENCH_ROLE=suite` the real runner over the two tests below.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROLE_VAR: &str = "ISOLATED_BENCH_ROLE";
const ALPINE: &str = "alpine-minirootfs-3.20.3-x86_64.tar.gz";
const REPEATS: usize = 5;
/// The goal for first use: `tar xzf` of the same file, about 140 ms on the dev VM.
const GOAL: &str = "first use no slower than tar xzf of the same file";

#[isolated::isolated(rootfs = "alpine")]
fn on_alpine() {}

#[isolated::isolated]
fn on_host() {}

fn main() {
    isolated::__private::run_if_child();
    match std::env::var(ROLE_VAR).as_deref() {
        Ok("suite") => isolated::__private::main(env!("CARGO_MANIFEST_DIR")),
        _ => orchestrate(),
    }
}

fn orchestrate() {
    let Some(tarball) = find_tarball() else {
        println!("fixture benchmark skipped: {ALPINE} not found in ISOLATED_FIXTURES_PATH");
        return;
    };
    println!("isolated fixture preparation benchmark ({ALPINE}, median of {REPEATS})");
    let scratch = tempfile::tempdir().expect("a scratch directory");

    let tar =
        median((0..REPEATS).map(|i| time_tar(&tarball, &scratch.path().join(format!("tar{i}")))));
    let cold = median((0..REPEATS).map(|i| {
        let cache = scratch.path().join(format!("cache{i}"));
        suite("on_alpine", Some(&cache))
    }));
    let warm_cache = scratch.path().join("cache0");
    let warm = median((0..REPEATS).map(|_| suite("on_alpine", Some(&warm_cache))));
    let host = median((0..REPEATS).map(|_| suite("on_host", None)));

    let first_use = cold.saturating_sub(warm);
    let per_run = warm.saturating_sub(host);
    println!();
    println!("{:<46} {:>9}", "step", "ms");
    println!("{}", "-".repeat(56));
    println!("{:<46} {:>9.1}", "tar xzf (GNU tar, same file)", ms(tar));
    println!(
        "{:<46} {:>9.1}",
        "isolated: first use (unpack into an empty cache)",
        ms(first_use)
    );
    println!(
        "{:<46} {:>9.1}",
        "isolated: every later run (find + sha256)",
        ms(per_run)
    );
    println!();
    println!(
        "raw: one-test suite, cold cache {:.1} ms, warm cache {:.1} ms, on the host root {:.1} ms",
        ms(cold),
        ms(warm),
        ms(host)
    );
    let verdict = if first_use <= tar { "MET" } else { "NOT MET" };
    println!(
        "goal: {GOAL} -> {verdict} ({:.1} ms vs {:.1} ms)",
        ms(first_use),
        ms(tar)
    );
}

fn find_tarball() -> Option<PathBuf> {
    let path = std::env::var_os("ISOLATED_FIXTURES_PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(ALPINE))
        .find(|file| file.is_file())
}

fn time_tar(tarball: &Path, dest: &Path) -> Duration {
    std::fs::create_dir_all(dest).expect("create the tar destination");
    let start = Instant::now();
    let status = Command::new("tar")
        .arg("xzf")
        .arg(tarball)
        .arg("-C")
        .arg(dest)
        .status()
        .expect("run tar");
    let wall = start.elapsed();
    assert!(status.success(), "tar xzf failed");
    wall
}

/// Runs the one test `name` through the real runner (with `cache` as its fixture cache).
fn suite(name: &str, cache: Option<&Path>) -> Duration {
    let mut command = Command::new(std::env::current_exe().expect("own executable"));
    command
        .env(ROLE_VAR, "suite")
        .args(["--exact", name, "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(cache) = cache {
        command.env("ISOLATED_CACHE_DIR", cache);
    }
    let start = Instant::now();
    let output = command.output().expect("run the suite");
    let wall = start.elapsed();
    assert!(
        output.status.success(),
        "the suite failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    wall
}

fn median(walls: impl Iterator<Item = Duration>) -> Duration {
    let mut walls: Vec<Duration> = walls.collect();
    walls.sort();
    walls[walls.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
