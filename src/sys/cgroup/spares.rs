//! Groups of ended tests, kept for the next test with the same limits.
//!
//! Making a test's group and removing it again are among the dearest steps of a test (a
//! `mkdir` and an `rmdir` in each hierarchy, each under the kernel's `cgroup_mutex`, and the
//! limits written, and the kernel's work freeing a group afterwards). A test that ended
//! cleanly gives its group back instead, and the next test with the same limits runs in it.
//! Its [`LEAF`], the only part the test could see or change, stays too where the test could
//! not have changed it (see `TestCgroup::retire_leaves`); else it is removed with whatever
//! the test made below it, and made again. A group is kept only if it is empty and its
//! counters are clean (no OOM kill, no fork refused at the pids limit), so each test still
//! reads its own events from zero.
//!
//! [`LEAF`]: super::group::LEAF

use std::sync::Mutex;

use super::detect::Cgroups;
use super::error::CgroupError;
use super::group::TestCgroup;
use super::settings::ResolvedLimits;

/// At most this many groups are kept: one per runner thread is all that is ever reused.
const MAX_SPARES: usize = 64;

/// The kept groups, each with the limits set on it.
#[derive(Debug, Default)]
pub(crate) struct Spares(Mutex<Vec<TestCgroup>>);

impl Spares {
    fn take(&self, limits: &ResolvedLimits) -> Option<TestCgroup> {
        let mut spares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let index = spares.iter().rposition(|group| group.limits == *limits)?;
        Some(spares.swap_remove(index))
    }

    fn put(&self, group: TestCgroup) {
        let mut spares = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if spares.len() < MAX_SPARES {
            spares.push(group);
        }
        // Else `group` drops here, which removes it.
    }

    fn drain(&self) -> Vec<TestCgroup> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Cgroups {
    /// A kept group with exactly `limits`, with its leaves; `None` if there is none (or
    /// renewing a leaf failed, and it was removed).
    pub(super) fn reuse(&self, limits: &ResolvedLimits) -> Option<TestCgroup> {
        let mut group = self.spares.take(limits)?;
        group.renew_leaves().ok()?;
        Some(group)
    }

    /// Takes back the group of a test that has ended, with clean counters (the caller read
    /// them): the leaves it may have changed are removed now, the group kept for
    /// [`Cgroups::create`]. `confined`: the test ran in a user namespace of its own. On an
    /// error the group is removed instead.
    pub(crate) fn give_back(
        &self,
        mut group: TestCgroup,
        confined: bool,
    ) -> Result<(), CgroupError> {
        group.retire_leaves(confined)?;
        self.spares.put(group);
        Ok(())
    }

    /// Removes every kept group: at the end of the run.
    pub(super) fn remove_spares(&self) {
        for group in self.spares.drain() {
            let name = group.name().to_string();
            if let Err(e) = group.remove() {
                eprintln!("warning: failed to remove the cgroup isolated/{name}: {e}");
            }
        }
    }
}
