//! Failures whose message must say the right thing once: `tests/messages.rs` runs this suite.

use isolated::isolated;

#[isolated(rootfs = "no-such-fixture")]
fn needs_a_missing_fixture() {}

#[isolated(rootfs = "no-such-fixture")]
fn needs_the_same_missing_fixture() {}

#[isolated(rootfs = "alpine", copy = ["tests/data/no-such-file.toml:/etc/app.toml"])]
fn copies_a_missing_file() {}

isolated::main!();
