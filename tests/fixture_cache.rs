//! The fixture cache as test binaries share it: several runs at once unpack a fixture once, and
//! a run killed halfway leaves nothing a later run would trust.
//! Needs the Alpine tarball in ISOLATED_FIXTURES_PATH, like the rest of the suite.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn example() -> PathBuf {
    common::example("on_alpine")
}

fn start(cache: &Path) -> Child {
    Command::new(example())
        .env("ISOLATED_CACHE_DIR", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn entries(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(cache)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The cache holds one finished tree (plus its lock and the downloads directory), nothing else.
fn assert_one_tree(cache: &Path) {
    let names = entries(cache);
    let trees: Vec<&String> = names.iter().filter(|n| n.len() == 64).collect();
    assert_eq!(trees.len(), 1, "{names:?}");
    assert!(
        names.iter().all(|n| !n.contains(".tmp")),
        "leftovers: {names:?}"
    );
    let tree = cache.join(trees[0]);
    let release = std::fs::read_to_string(tree.join("etc/alpine-release")).unwrap();
    assert!(release.starts_with("3.20"));
}

#[test]
fn parallel_runs_share_one_unpack() {
    let cache = tempfile::tempdir().unwrap();
    let runs: Vec<Child> = (0..4).map(|_| start(cache.path())).collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
    assert_one_tree(cache.path());
}

#[test]
fn a_run_killed_while_unpacking_leaves_nothing_trusted() {
    let cache = tempfile::tempdir().unwrap();
    let mut run = start(cache.path());
    // Wait for the unpack to begin (its temporary directory appears), then kill the run.
    let begun = Instant::now();
    while !entries(cache.path()).iter().any(|n| n.contains(".tmp")) {
        assert!(begun.elapsed() < Duration::from_secs(20), "no unpack seen");
        assert!(
            run.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    run.kill().unwrap();
    run.wait().unwrap();
    let names = entries(cache.path());
    assert!(
        names.iter().all(|n| n.len() != 64),
        "a tree appeared half made: {names:?}"
    );

    // The next run does not trust the leftover: it unpacks again and cleans up.
    let out = start(cache.path()).wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_one_tree(cache.path());
}
