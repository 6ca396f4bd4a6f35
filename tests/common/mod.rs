//! Shared by the tests that run the sample suites in `examples/`.

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
