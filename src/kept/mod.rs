//! Kept environments: a failed test's world left running to be entered and looked at.
//!
//! `ISOLATED_KEEP=failed` (or `all`, or the `keep = true` key) keeps a test's environment after
//! its verdict: its namespaces, its root with everything it wrote, its network and its
//! processes, left running. The runner asks the test's PID 1 to stay (the control socket,
//! see `child/keeper.rs`), which answers with what the environment holds (a [`Snapshot`]),
//! and writes a [`Record`] that `isolated enter`, `list` and `clean` find. The failure
//! message ends with the command that enters it.
//!
//! Kept environments end with the run (after the user presses Enter, when the run has a
//! terminal), or, with `ISOLATED_KEEP_FOR=10m`, that long after being kept: PID 1 leaves when
//! the runner's end of the control socket closes, or at its deadline, and the kernel takes
//! the rest of the environment with it. What a killed runner could not remove (records,
//! cgroups) the next run removes, as `isolated clean` does.

mod mode;
mod record;
mod snapshot;

pub(crate) use mode::{keep_for, Keep, KEEP_FOR_VAR, KEEP_VAR};
pub(crate) use record::{now, start_time, Record, Records};
pub(crate) use snapshot::Snapshot;

/// Removes the records of kept environments that have ended (or outlived their time, which
/// ends them): at the start of a run, and by `isolated clean`. Returns the cgroup directories
/// of those still kept, which the run must not remove.
pub(crate) fn sweep() -> Vec<std::path::PathBuf> {
    let records = Records::here();
    let mut spare = Vec::new();
    for record in records.all() {
        match (record.alive(), record.expired()) {
            (true, false) => spare.extend(record.cgroups.iter().cloned()),
            (alive, _) => {
                if alive {
                    crate::sys::kill_pid(record.pid);
                }
                records.remove(&record);
            }
        }
    }
    spare
}
