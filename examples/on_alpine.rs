//! One test on the built-in Alpine fixture: `tests/fixture_cache.rs` runs several of these at
//! once, and kills some halfway, to check how the fixture cache is shared.

use isolated::isolated;

#[isolated(rootfs = "alpine")]
fn reads_alpine_release() {
    let release = std::fs::read_to_string("/etc/alpine-release").unwrap();
    assert!(release.starts_with("3.20"), "{release}");
}

isolated::main!();
