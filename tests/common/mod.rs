//! Shared by the tests that run the sample suites in `examples/`.
// Each test binary includes this module and uses some of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// A sample suite built by cargo next to the running test binary
/// (`target/<profile>/examples/NAME`), checked to be newer than its source.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        path.exists() && modified(&path) >= modified(&source),
        "{} is missing or older than its source: the whole `cargo test` builds examples/; \
         with `--test` or nextest, run `cargo build --examples` first",
        path.display()
    );
    path
}

/// `ISOLATED_FIXTURES_PATH` with its relative entries made absolute against this test's
/// directory, for a suite run from elsewhere (a copy in a temporary directory).
pub fn fixtures_path() -> std::ffi::OsString {
    let value = std::env::var_os("ISOLATED_FIXTURES_PATH").unwrap_or_default();
    let cwd = std::env::current_dir().unwrap();
    std::env::join_paths(
        std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| cwd.join(p)),
    )
    .unwrap()
}

/// The failure section libtest prints for `test`: everything after `---- test stdout ----` up
/// to the next section.
pub fn failure<'a>(stdout: &'a str, test: &str) -> &'a str {
    let header = format!("---- {test} stdout ----\n");
    let start = stdout
        .find(&header)
        .unwrap_or_else(|| panic!("no failure for {test}:\n{stdout}"));
    let rest = &stdout[start + header.len()..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The line libtest prints for `test` (`test NAME ... ok`).
pub fn line_for<'a>(stdout: &'a str, test: &str) -> &'a str {
    let prefix = format!("test {test} ");
    stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no result line for {test}:\n{stdout}"))
}

/// The host's mount table as a run could change it: each mount point with its options and its
/// filesystem (ids, which the kernel may renumber, left out). A remount shows up here.
pub fn host_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            let fs = l.split(" - ").nth(1).unwrap_or("");
            format!("{} {} {fs}", fields[4], fields[5])
        })
        .collect()
}
