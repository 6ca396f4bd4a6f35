//! The test crate's directory and executable inside every root: test data read the usual ways,
//! and backtraces that name their frames. `tests/crate_paths.rs` runs this suite, also from a
//! copy under /tmp (a target directory there, as in CI) and with `RUST_BACKTRACE=1`.

use std::path::Path;

use isolated::isolated;

const GREETING: &str = "read through the crate directory\n";

fn reads_test_data(bound: bool) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let by_macro = Path::new(dir).join("tests/data/greeting.txt");
    assert_eq!(std::fs::read_to_string(by_macro).unwrap(), GREETING);
    // As under `cargo test`, the test starts in its crate's directory.
    assert_eq!(std::env::current_dir().unwrap(), Path::new(dir));
    assert_eq!(
        std::fs::read_to_string("tests/data/greeting.txt").unwrap(),
        GREETING
    );
    // Bound into a fixture root read-only; on the host's root, copy-on-write like the rest
    // (`tests/crate_paths.rs` checks the host's checkout is untouched).
    let written = std::fs::write(Path::new(dir).join("written-by-a-test"), "x");
    match bound {
        true => assert_eq!(written.unwrap_err().raw_os_error(), Some(libc::EROFS)),
        false => written.unwrap(),
    }
}

#[isolated(rootfs = "alpine")]
fn test_data_in_alpine() {
    reads_test_data(true)
}

#[isolated]
fn test_data_on_the_host() {
    reads_test_data(false)
}

#[isolated(rootfs = "alpine", crate_dir = false)]
fn no_crate_dir_when_turned_off() {
    assert_eq!(std::env::current_dir().unwrap(), Path::new("/"));
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/greeting.txt");
    assert!(!data.exists());
}

#[inline(never)]
fn fails_deep_inside(root: &str) {
    panic!("failing on purpose on {root}")
}

#[isolated(rootfs = "alpine")]
fn fails_in_alpine() {
    fails_deep_inside("alpine")
}

#[isolated]
fn fails_on_the_host() {
    fails_deep_inside("the host")
}

isolated::main!();
