//! Clearing the groups a killed run left behind.

use super::detect::Cgroups;
use super::fs;
use super::group::{Member, TestCgroup};
use crate::sys::error::SysResult;

impl Cgroups {
    /// Removes the groups of runners that no longer exist (a run killed with SIGKILL cannot
    /// remove its own), killing whatever is still in them, but those in `spare` (the groups of
    /// kept environments that outlive their run). Groups of live runners are kept. Call it
    /// once per run. Returns how many groups were removed; on errors, carries on with the
    /// others and returns the first.
    pub(crate) fn remove_stale(&self, spare: &[std::path::PathBuf]) -> SysResult<usize> {
        let mut removed = 0;
        let mut first_error = None;
        for hierarchy in &self.hierarchies {
            let names = match fs::subdirs(&hierarchy.parent) {
                Ok(names) => names,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            for name in names {
                // Our own pid on an old group: a killed run's, whose pid we were given again.
                let own = std::process::id() as i32;
                if runner_pid(&name).is_none_or(|pid| pid != own && fs::process_exists(pid)) {
                    continue;
                }
                if spare.contains(&hierarchy.parent.join(&name)) {
                    continue;
                }
                let stale = TestCgroup::stale(Member {
                    dir: hierarchy.parent.join(&name),
                    unified: hierarchy.unified,
                    controllers: Vec::new(),
                    freezer: hierarchy.freezer,
                    leaf_kept: false,
                });
                match stale.kill_all().and_then(|()| stale.remove()) {
                    Ok(()) => removed += 1,
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(removed), Err)
    }

    /// Removes the `isolated` parent groups at the end of a run, if empty: nothing of ours
    /// stays on the host. A parent another run still uses is not empty and stays; a run that
    /// finds it gone makes it again (see `group::make_dir`).
    pub(crate) fn remove_parents(&self) {
        self.remove_spares();
        for hierarchy in &self.hierarchies {
            let _ = fs::rmdir(&hierarchy.parent);
        }
    }
}

/// The runner's pid in a group name `<pid>-<n>`; `None` for a group that is not ours.
fn runner_pid(name: &str) -> Option<i32> {
    let (pid, n) = name.split_once('-')?;
    n.parse::<u64>().ok()?;
    pid.parse().ok().filter(|&pid: &i32| pid > 0)
}

#[cfg(test)]
mod tests {
    use super::runner_pid;

    #[test]
    fn names() {
        assert_eq!(runner_pid("1234-0"), Some(1234));
        assert_eq!(runner_pid("1234-17"), Some(1234));
        for other in ["1234", "x-1", "1234-", "-1-2", "0-1", "abc"] {
            assert_eq!(runner_pid(other), None, "{other}");
        }
    }
}
