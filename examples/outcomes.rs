//! A suite that fails on purpose, one test per outcome the runner reports.
//! `tests/outcomes.rs` runs it and checks what the runner prints and returns.

use std::process::Command;

use isolated::isolated;

#[isolated]
fn passes() {}

#[isolated]
fn panics() {
    println!("stdout before the panic");
    eprintln!("stderr before the panic");
    panic!("boom {}", 42);
}

#[isolated]
fn returns_err() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("the config was wrong"))
}

#[isolated]
fn returns_ok() -> Result<(), std::io::Error> {
    Ok(())
}

#[isolated]
#[should_panic]
fn should_panic_passes() {
    panic!("anything");
}

#[isolated]
#[should_panic(expected = "boom")]
fn should_panic_with_message_passes() {
    panic!("a boom happened");
}

#[isolated]
#[should_panic]
fn should_panic_but_returns() {}

#[isolated]
#[should_panic(expected = "bang")]
fn should_panic_wrong_message() {
    panic!("boom");
}

#[isolated]
fn aborts() {
    std::process::abort();
}

#[isolated]
fn segfaults() {
    Command::new("sh").args(["-c", "true"]).status().unwrap();
    // SAFETY: not safe at all, on purpose: a real invalid write, to test the SIGSEGV report.
    unsafe { std::ptr::null_mut::<u64>().write_volatile(1) };
}

#[isolated]
fn forked_copy_returns_while_the_body_panics() {
    // SAFETY: fork in a single-threaded test body; the child only returns, then exits.
    if unsafe { libc::fork() } == 0 {
        return; // the copy "passes"; it must not speak for the test
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    panic!("the real body failed");
}

#[isolated]
fn exits_zero_without_report() {
    std::process::exit(0);
}

#[isolated]
fn exits_three() {
    std::process::exit(3);
}

#[isolated(timeout = "500ms")]
#[allow(clippy::zombie_processes)] // on purpose: the harness must kill them
fn times_out() {
    // A child process and a grandchild: the timeout must kill them all.
    Command::new("sh")
        .args(["-c", "sleep 1000 & sleep 1000"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(1000));
}

#[isolated]
fn output_of_child_processes_is_captured() {
    Command::new("sh")
        .args([
            "-c",
            "echo from-a-child-stdout; echo from-a-child-stderr >&2",
        ])
        .status()
        .unwrap();
    panic!("show me the output");
}

#[isolated(rootfs = "no-such-fixture")]
fn missing_fixture() {}

#[isolated(rootfs = "not-a-rootfs")]
fn setup_fails() {}

#[isolated]
#[ignore]
fn ignored() {
    panic!("ignored tests run only with --ignored");
}

#[isolated]
#[ignore = "needs a reason"]
fn ignored_with_reason() {}

#[isolated(timeout = "2m")]
#[ignore = "tests/runner_outcomes.rs runs it and interrupts the runner"]
#[allow(clippy::zombie_processes)] // on purpose: the harness must kill them
fn runs_until_interrupted() {
    Command::new("sh")
        .args(["-c", "sleep 7777 & sleep 7777"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_secs(120));
}

#[isolated]
fn passes_and_prints() {
    println!("said while passing");
}

mod nested {
    use isolated::isolated;

    #[isolated]
    fn works() {}
}

isolated::main!();
