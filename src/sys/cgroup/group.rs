//! One test's cgroup: a group named `<runner pid>-<n>` in every hierarchy the test needs,
//! made before the test starts and removed when it has ended.
//!
//! The limits are set on the group; the test's processes run in its child [`LEAF`], which
//! becomes the root of the test's cgroup namespace. Root inside the test is root to the files
//! of its namespace's root (a user namespace does not change that for cgroupfs, and on v1 no
//! `nsdelegate` protects them): with the limits one level up, outside its namespace, it
//! cannot raise them.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::detect::{Cgroups, Hierarchy};
use super::error::CgroupError;
use super::fs;
use super::parent;
use super::settings::{settings, Controller, ResolvedLimits};
use crate::sys::error::{Errno, SysError, SysResult};

/// The child group the test's processes run in, below the group that holds the limits.
pub(super) const LEAF: &str = "test";

/// How long [`TestCgroup::remove`] waits for the last processes to leave.
const REMOVE_PATIENCE: Duration = Duration::from_secs(2);

/// One test's group in each hierarchy. Dropping it kills what is left in it and removes it.
#[derive(Debug)]
pub(crate) struct TestCgroup {
    name: String,
    pub(super) members: Vec<Member>,
    /// Each member's [`LEAF`]'s `cgroup.procs`, open; `None` where the leaf is gone (to be
    /// made again for the next test: see [`Self::retire_leaves`]).
    leaves: Vec<Option<OwnedFd>>,
    removed: bool,
    /// The limits set on the group.
    pub(super) limits: ResolvedLimits,
}

/// The test's group in one hierarchy.
#[derive(Debug)]
pub(super) struct Member {
    pub dir: PathBuf,
    pub unified: bool,
    pub controllers: Vec<Controller>,
    pub freezer: bool,
    /// See [`Hierarchy::leaf_kept`].
    pub leaf_kept: bool,
}

impl Cgroups {
    /// Makes the group of one test, with `limits` set, in every hierarchy that enforces one
    /// of them (and the unified or freezer hierarchy, to kill the test's processes). Limits
    /// whose controller is [missing](Cgroups::missing) are not applied.
    pub(crate) fn create(&self, limits: &ResolvedLimits) -> Result<TestCgroup, CgroupError> {
        if let Some(group) = self.reuse(limits) {
            return Ok(group);
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut group = TestCgroup {
            name: format!("{}-{n}", fs::own_pid()),
            members: Vec::new(),
            leaves: Vec::new(),
            removed: false,
            limits: *limits,
        };
        // On an error, dropping `group` removes what was made so far.
        for hierarchy in self.hierarchies_for(limits) {
            group.add(&hierarchy, limits)?;
        }
        Ok(group)
    }
}

impl TestCgroup {
    /// `<runner pid>-<n>`: the group's name in each hierarchy.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The group's directories, one per hierarchy.
    pub(crate) fn paths(&self) -> Vec<PathBuf> {
        self.members.iter().map(|m| m.dir.clone()).collect()
    }

    /// Leaves the group as it is, processes and all: it is no longer this run's to remove.
    pub(crate) fn leave(mut self) {
        self.removed = true;
    }

    /// The group's directories, one per hierarchy.
    #[cfg(test)]
    pub(super) fn dirs(&self) -> impl Iterator<Item = &Path> {
        self.members.iter().map(|m| m.dir.as_path())
    }

    /// One `cgroup.procs` per hierarchy, open `O_WRONLY | O_CLOEXEC`. The test's first process
    /// writes `"0"` into each ([`super::join`]: async-signal-safe) after `clone` and before
    /// `exec`, so it is in every group before it runs anything and all it starts is too.
    pub(crate) fn procs_files(&self) -> Vec<BorrowedFd<'_>> {
        self.leaves.iter().flatten().map(AsFd::as_fd).collect()
    }

    /// Removes the group from every hierarchy, retrying for a while (2 s) as long as processes
    /// are still leaving it. Call it once the test's processes are gone ([`Self::kill_all`]).
    pub(crate) fn remove(mut self) -> SysResult<()> {
        self.removed = true;
        self.leaves.clear();
        let mut first_error = None;
        for member in &self.members {
            if let Err(e) = remove_dir(&member.dir, REMOVE_PATIENCE) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// A group found on disk (left by a dead runner), to kill and remove.
    pub(super) fn stale(member: Member) -> TestCgroup {
        TestCgroup {
            name: member
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            members: vec![member],
            leaves: Vec::new(),
            removed: false,
            limits: ResolvedLimits::default(),
        }
    }

    /// Makes the group in `hierarchy` and sets its limits.
    fn add(&mut self, hierarchy: &Hierarchy, limits: &ResolvedLimits) -> Result<(), CgroupError> {
        let dir = hierarchy.parent.join(&self.name);
        make_dir(hierarchy, &dir).map_err(CgroupError::Create)?;
        self.members.push(Member {
            dir: dir.clone(),
            unified: hierarchy.unified,
            controllers: hierarchy.controllers.clone(),
            freezer: hierarchy.freezer,
            leaf_kept: hierarchy.leaf_kept,
        });
        for setting in settings(hierarchy.unified, &hierarchy.controllers, limits) {
            match fs::write(&dir.join(setting.file), &setting.value) {
                Err(e) if setting.optional && e.errno == Errno::ENOENT => {}
                Err(source) => {
                    let what = setting.file.split('.').next().unwrap_or(setting.file);
                    return Err(CgroupError::Limit { what, source });
                }
                Ok(()) => {}
            }
        }
        self.leaves.push(Some(make_leaf(&dir)?));
        Ok(())
    }

    /// The test has ended: each [`LEAF`] it could have changed for the next test is removed,
    /// with all below it; the others stay, with their open `cgroup.procs`. A leaf stays if the
    /// test was `confined` to its user namespace (a `privileged` one may mount and write any
    /// hierarchy), the hierarchy keeps a leaf's files from the test ([`Member::leaf_kept`]),
    /// and the test left it as it found it: no group below it, and on v2 no controller
    /// enabled for one (a group that offers controllers may hold no process).
    pub(super) fn retire_leaves(&mut self, confined: bool) -> Result<(), CgroupError> {
        for (member, leaf) in self.members.iter().zip(&mut self.leaves) {
            let dir = member.dir.join(LEAF);
            if confined && member.leaf_kept && untouched(&dir, member.unified) {
                continue;
            }
            *leaf = None;
            remove_dir(&dir, REMOVE_PATIENCE).map_err(CgroupError::Create)?;
        }
        Ok(())
    }

    /// A fresh [`LEAF`] wherever [`Self::retire_leaves`] removed one, for the next test.
    pub(super) fn renew_leaves(&mut self) -> Result<(), CgroupError> {
        for (member, leaf) in self.members.iter().zip(&mut self.leaves) {
            if leaf.is_none() {
                *leaf = Some(make_leaf(&member.dir)?);
            }
        }
        Ok(())
    }
}

/// Makes the [`LEAF`] of the group in `dir` and opens its `cgroup.procs`.
fn make_leaf(dir: &Path) -> Result<OwnedFd, CgroupError> {
    let leaf = dir.join(LEAF);
    fs::mkdir(&leaf).map_err(CgroupError::Create)?;
    fs::open_procs(&leaf.join("cgroup.procs")).map_err(CgroupError::Create)
}

/// Whether the leaf at `dir` is as the harness made it: no group below it (a cgroup
/// directory's link count is 2 plus its subdirectories) and, on v2, no controller enabled in
/// its `cgroup.subtree_control`.
fn untouched(dir: &Path, unified: bool) -> bool {
    let no_groups = fs::link_count(dir).is_ok_and(|links| links == 2);
    no_groups
        && (!unified
            || fs::read(&dir.join("cgroup.subtree_control")).is_ok_and(|c| c.trim().is_empty()))
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        // Whatever path the runner took, nothing of the test outlives its group.
        let _ = self.kill_all();
        for member in &self.members {
            let _ = remove_dir(&member.dir, REMOVE_PATIENCE);
        }
    }
}

/// `mkdir` of a test's group, with the parent made (again) and offering what it needs: runs
/// remove the parent when they end, so another run may have just removed it.
fn make_dir(hierarchy: &Hierarchy, dir: &Path) -> SysResult<()> {
    let mut attempts = 0;
    let made = loop {
        parent::ensure(hierarchy)?;
        match fs::mkdir(dir) {
            Err(e) if e.errno == Errno::ENOENT && attempts < 3 => attempts += 1,
            other => break other?,
        }
    };
    match made {
        true => Ok(()),
        // Names are unique per runner and `remove_stale` clears those of dead runners: a
        // group of this name is another live runner's.
        false => Err(SysError::at("mkdir", dir, Errno::EEXIST)),
    }
}

/// `rmdir` of a group and, first, of every group below it ([`LEAF`] and whatever the test
/// made in its own namespace), each retried while it still holds processes that are exiting
/// (`EBUSY`).
pub(super) fn remove_dir(dir: &Path, patience: Duration) -> SysResult<()> {
    let deadline = Instant::now() + patience;
    remove_below(dir, deadline)
}

fn remove_below(dir: &Path, deadline: Instant) -> SysResult<()> {
    for name in fs::subdirs(dir)? {
        remove_below(&dir.join(name), deadline)?;
    }
    loop {
        match fs::rmdir(dir) {
            Err(e) if e.errno == Errno::EBUSY && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}
