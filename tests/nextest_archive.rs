//! Suites split across CI machines: `cargo nextest archive` on one, `cargo nextest run
//! --archive-file … --workspace-remap DIR` on another, where the crate is somewhere else and
//! the paths fixed at compile time point nowhere. A fresh crate using `isolated` with a local
//! tarball fixture, a `copy`, a `bins` entry and test data read through
//! `env!("CARGO_MANIFEST_DIR")` is archived, moved, and run from the archive.

use std::path::{Path, PathBuf};
use std::process::Command;

const SUITE: &str = r#"
use isolated::isolated;

#[isolated(rootfs = "local", copy = ["tests/data/app.toml:/etc/app.toml"], bins = ["archived-tool"])]
fn paths_fixed_at_compile_time_are_found_again() {
    assert_eq!(std::fs::read_to_string("/etc/marker").unwrap(), "from the local tarball\n");
    assert_eq!(std::fs::read_to_string("/etc/app.toml").unwrap(), "copied = true\n");
    let tool = std::fs::metadata("/usr/local/bin/archived-tool").unwrap();
    assert!(tool.is_file() && tool.len() > 0);
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/app.toml");
    assert_eq!(std::fs::read_to_string(data).unwrap(), "copied = true\n");
}

isolated::main!();
"#;

fn write(path: &Path, contents: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

/// The crate, as a user would have it: Cargo.toml, a binary, the suite, test data, and a
/// tarball fixture in `fixtures/`.
fn make_crate(dir: &Path) {
    let isolated = env!("CARGO_MANIFEST_DIR");
    write(
        &dir.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"archived\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
             [[bin]]\nname = \"archived-tool\"\npath = \"src/main.rs\"\n\n\
             [dev-dependencies]\nisolated = {{ path = \"{isolated}\" }}\n\n\
             [[test]]\nname = \"suite\"\nharness = false\n\n[workspace]\n"
        ),
    );
    // The same versions as ours, already built or downloaded: nothing new to fetch.
    std::fs::copy(
        Path::new(isolated).join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap();
    write(
        &dir.join("src/main.rs"),
        "fn main() { println!(\"tool\"); }\n",
    );
    write(&dir.join("tests/suite.rs"), SUITE);
    write(&dir.join("tests/data/app.toml"), "copied = true\n");
    let tree = dir.join("rootfs-tree");
    write(&tree.join("etc/marker"), "from the local tarball\n");
    for empty in ["proc", "sys", "dev", "tmp", "run", "usr/local/bin"] {
        std::fs::create_dir_all(tree.join(empty)).unwrap();
    }
    std::fs::create_dir_all(dir.join("fixtures")).unwrap();
    let status = Command::new("tar")
        .arg("-czf")
        .arg(dir.join("fixtures/local.tar.gz"))
        .arg("-C")
        .arg(&tree)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::remove_dir_all(tree).unwrap();
}

fn nextest(args: &[&str], cwd: &Path, target: &Path) -> std::process::Output {
    let out = Command::new("cargo")
        .arg("nextest")
        .args(args)
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    if String::from_utf8_lossy(&out.stderr).contains("no such command: `nextest`") {
        panic!("cargo-nextest is needed for this test: `cargo install cargo-nextest --locked`");
    }
    out
}

#[test]
fn an_archive_runs_from_a_remapped_directory() {
    let scratch = tempfile::Builder::new()
        .prefix("isolated-archive")
        .tempdir()
        .unwrap();
    let built = scratch.path().join("built-here");
    let moved = scratch.path().join("checked-out-elsewhere");
    make_crate(&built);
    // Kept between runs of this test, so only the first one compiles `isolated` again.
    let target: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/nextest-archive");
    let archive = scratch.path().join("suite.tar.zst");
    let archive_arg = archive.to_str().unwrap();
    let out = nextest(
        &["archive", "--offline", "--archive-file", archive_arg],
        &built,
        &target,
    );
    let log = |out: &std::process::Output| {
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    assert!(out.status.success(), "archive: {}", log(&out));
    // The build machine's paths are gone: only the archive and the moved checkout remain
    // (the binary too: its compile-time path is in the target directory kept for next time).
    std::fs::rename(&built, &moved).unwrap();
    std::fs::remove_file(target.join("debug/archived-tool")).unwrap();
    let out = nextest(
        &[
            "run",
            "--archive-file",
            archive_arg,
            "--workspace-remap",
            moved.to_str().unwrap(),
        ],
        scratch.path(),
        &target,
    );
    let log = log(&out);
    assert!(out.status.success(), "run: {log}");
    assert!(
        log.contains("PASS") && log.contains("paths_fixed_at_compile_time_are_found_again"),
        "{log}"
    );
}
