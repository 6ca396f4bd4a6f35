//! Sample suite for tests/kept.rs: run with `ISOLATED_KEEP=failed`, its failing tests' worlds
//! stay, to be entered. Its tests fail on purpose.

use isolated::isolated;

/// Writes a file, starts a process that stays, then fails.
#[isolated(rootfs = "alpine", hostname = "kept-box")]
fn fails_after_writing() {
    std::fs::write("/root/written-by-the-test", "the test's own view\n").unwrap();
    std::fs::remove_file("/etc/motd").unwrap();
    // Left running on purpose: the kept environment's init reaps it when it ends.
    let daemon = std::process::Command::new("sleep")
        .arg("3600")
        .spawn()
        .unwrap();
    std::mem::forget(daemon);
    println!("about to fail");
    panic!("failed on purpose");
}

#[isolated(rootfs = "alpine")]
fn passes() {}

/// Still running at its deadline: kept as it is.
#[isolated(rootfs = "alpine", timeout = "1s")]
fn times_out() {
    std::thread::sleep(std::time::Duration::from_secs(3600));
}

/// Passes, slowly: the run goes on while the other tests are kept.
#[isolated(rootfs = "alpine")]
fn passes_slowly() {
    std::thread::sleep(std::time::Duration::from_secs(30));
}

/// Kept by its key, without `ISOLATED_KEEP`.
#[isolated(rootfs = "alpine", keep = true)]
fn kept_by_its_key() {
    panic!("kept by its key");
}

isolated::main!();
