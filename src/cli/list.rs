//! `isolated list` and `isolated clean`: the kept environments.

use crate::kept::{self, Records};

/// One line per kept environment (`verbose`: with what it held when kept), and how to
/// enter one.
pub(super) fn list(verbose: bool) -> Result<i32, String> {
    kept::sweep();
    let store = Records::here();
    let records = store.all();
    if records.is_empty() {
        println!(
            "no kept environment (run tests with ISOLATED_KEEP=failed to keep a failed one's)"
        );
        return Ok(0);
    }
    println!("{:<8} {:<40} ENDS", "ID", "TEST");
    for record in &records {
        let ends = match record.until {
            Some(until) => format!("in {}s", until.saturating_sub(kept::now())),
            None => format!("with its run (pid {})", record.runner),
        };
        println!("{:<8} {:<40} {ends}", record.id(), record.test);
        if verbose {
            println!("{}", store.snapshot(record));
        }
    }
    println!("enter one: isolated enter ID (or TEST)");
    Ok(0)
}

/// Ends every kept environment and removes what is left of them and of killed runs.
pub(super) fn clean() -> Result<i32, String> {
    let records = Records::here();
    let all = records.all();
    for record in &all {
        if record.alive() {
            crate::sys::kill_pid(record.pid);
        }
    }
    // Their cgroups go once their processes have: wait for each PID 1 to be gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while all.iter().any(|r| r.alive()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for record in &all {
        records.remove(record);
    }
    let placement = match crate::sys::geteuid_is_root() {
        true => crate::sys::cgroup::Placement::Root,
        false => crate::sys::cgroup::Placement::Delegated,
    };
    if let Ok(cgroups) = crate::runner::limits::cgroups_for_run(placement) {
        cgroups.remove_parents();
    }
    println!("ended {} kept environment(s)", all.len());
    Ok(0)
}
