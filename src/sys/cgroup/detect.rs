//! Finding, once per run, which hierarchy enforces each limit: the unified (v2) one when it
//! offers the controller, else a v1 hierarchy of it, else none (the limit cannot be applied).
//!
//! Tests' groups live in `isolated/` at the root of each hierarchy, not below the runner's own
//! group: cgroup v2 allows no controllers below a group that holds processes (the runner's
//! does), and at a fixed place the next run finds what a killed run left.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use super::error::CgroupError;
use super::fs;
use super::missing::Missing;
use super::mountinfo::{cgroup_mounts, CgroupMount};
use super::parent;
use super::settings::Controller;

/// The directory, in the root of every hierarchy used, that holds the tests' groups.
pub(super) const PARENT: &str = "isolated";

/// The cgroup hierarchies of this machine that tests' groups go into; detected once per run.
#[derive(Debug)]
pub(crate) struct Cgroups {
    pub(super) hierarchies: Vec<Hierarchy>,
    missing: Vec<Missing>,
    /// Numbers the groups of this run: `isolated/<runner pid>-<n>`.
    pub(super) counter: AtomicU64,
}

/// One hierarchy tests' groups are made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hierarchy {
    /// `<mount point>/isolated`.
    pub parent: PathBuf,
    pub unified: bool,
    /// The limits' controllers it enforces.
    pub controllers: Vec<Controller>,
    /// A v1 `freezer` hierarchy, used to stop processes before killing them.
    pub freezer: bool,
}

impl Cgroups {
    /// Finds the hierarchies (`/proc/self/mountinfo`), picks one per controller, and makes
    /// the `isolated` parent group in each, with the unified hierarchy's controllers enabled
    /// for it (in `cgroup.subtree_control` of the root and of `isolated`).
    pub(crate) fn detect() -> Result<Cgroups, CgroupError> {
        let uid = fs::euid();
        if uid != 0 {
            return Err(CgroupError::NotRoot { uid });
        }
        let mountinfo = fs::read(Path::new("/proc/self/mountinfo")).map_err(CgroupError::Mounts)?;
        let mounts = cgroup_mounts(&mountinfo);
        if !mounts
            .iter()
            .any(|m| m.unified || !m.controllers.is_empty())
        {
            let filesystems = fs::read(Path::new("/proc/filesystems")).unwrap_or_default();
            return Err(CgroupError::NotMounted {
                kernel_has_cgroup2: filesystems.split_whitespace().any(|w| w == "cgroup2"),
            });
        }
        let mut cgroups = Cgroups {
            hierarchies: Vec::new(),
            missing: Vec::new(),
            counter: AtomicU64::new(0),
        };
        let unified = preferred(&mounts, |m| m.unified);
        if let Some(mount) = unified {
            cgroups.add_unified(&mount.mount_point)?;
        }
        for controller in Controller::ALL {
            if cgroups.placed(controller) || cgroups.missing_for(controller).is_some() {
                continue;
            }
            match preferred(&mounts, |m| {
                m.controllers.iter().any(|c| c == controller.name())
            }) {
                Some(mount) => cgroups.add_v1(controller, &mount.mount_point)?,
                None => cgroups.missing.push(Missing::Absent {
                    controller,
                    unified: unified.map(|m| m.mount_point.clone()),
                }),
            }
        }
        if unified.is_none() {
            // Without cgroup.kill, a v1 freezer stops a fork bomb while its processes are
            // killed.
            if let Some(mount) =
                preferred(&mounts, |m| m.controllers.iter().any(|c| c == "freezer"))
            {
                cgroups.add_freezer(&mount.mount_point)?;
            }
        }
        Ok(cgroups)
    }

    /// Cgroups over these hierarchies, numbering groups from `counter`: a machine as the
    /// tests want to see it.
    #[cfg(test)]
    pub(super) fn with(hierarchies: Vec<Hierarchy>, counter: AtomicU64) -> Cgroups {
        Cgroups {
            hierarchies,
            missing: Vec::new(),
            counter,
        }
    }

    /// The controllers no hierarchy offers, each with the reason and the fix.
    pub(crate) fn missing(&self) -> &[Missing] {
        &self.missing
    }

    /// Whether some hierarchy enforces `controller`'s limit.
    #[cfg(test)]
    pub(super) fn has(&self, controller: Controller) -> bool {
        self.placed(controller)
    }

    /// The hierarchies to make a group in for these limits: the unified one always (it kills
    /// and tracks the test's processes), a v1 one when it enforces a limit that is set, and the
    /// v1 freezer.
    pub(super) fn hierarchies_for(
        &self,
        limits: &super::settings::ResolvedLimits,
    ) -> impl Iterator<Item = Hierarchy> + '_ {
        let limits = *limits;
        self.hierarchies.iter().filter_map(move |h| {
            let controllers: Vec<Controller> = h
                .controllers
                .iter()
                .copied()
                .filter(|c| limits.needs(*c))
                .collect();
            (h.unified || h.freezer || !controllers.is_empty()).then(|| Hierarchy {
                controllers,
                ..h.clone()
            })
        })
    }

    fn placed(&self, controller: Controller) -> bool {
        self.hierarchies
            .iter()
            .any(|h| h.controllers.contains(&controller))
    }

    fn missing_for(&self, controller: Controller) -> Option<&Missing> {
        self.missing.iter().find(|m| m.controller() == controller)
    }

    fn add_unified(&mut self, mount: &Path) -> Result<(), CgroupError> {
        let offered = fs::read(&mount.join("cgroup.controllers")).unwrap_or_default();
        let offered: Vec<Controller> = Controller::ALL
            .into_iter()
            .filter(|c| offered.split_whitespace().any(|w| w == c.name()))
            .collect();
        let (enabled, failed) = parent::prepare_unified(mount, &offered)?;
        self.missing.extend(failed);
        self.hierarchies.push(Hierarchy {
            parent: mount.join(PARENT),
            unified: true,
            controllers: enabled,
            freezer: false,
        });
        Ok(())
    }

    fn add_v1(&mut self, controller: Controller, mount: &Path) -> Result<(), CgroupError> {
        if controller == Controller::Cpu && !mount.join("cpu.cfs_quota_us").exists() {
            self.missing.push(Missing::NoCpuQuota {
                mount: mount.to_path_buf(),
            });
            return Ok(());
        }
        let parent_dir = mount.join(PARENT);
        // Comounted controllers (`cpu,cpuacct`, or memory and pids together) share one group.
        if let Some(h) = self.hierarchies.iter_mut().find(|h| h.parent == parent_dir) {
            h.controllers.push(controller);
            return Ok(());
        }
        parent::prepare_v1(&parent_dir)?;
        self.hierarchies.push(Hierarchy {
            parent: parent_dir,
            unified: false,
            controllers: vec![controller],
            freezer: false,
        });
        Ok(())
    }

    fn add_freezer(&mut self, mount: &Path) -> Result<(), CgroupError> {
        let parent_dir = mount.join(PARENT);
        if let Some(h) = self.hierarchies.iter_mut().find(|h| h.parent == parent_dir) {
            h.freezer = true;
            return Ok(());
        }
        parent::prepare_v1(&parent_dir)?;
        self.hierarchies.push(Hierarchy {
            parent: parent_dir,
            unified: false,
            controllers: Vec::new(),
            freezer: true,
        });
        Ok(())
    }
}

/// The first mount matching `wanted` that shows its hierarchy's root, else the first at all.
fn preferred(
    mounts: &[CgroupMount],
    wanted: impl Fn(&CgroupMount) -> bool,
) -> Option<&CgroupMount> {
    let mut matching = mounts.iter().filter(|m| wanted(m));
    let first = matching.clone().next();
    matching.find(|m| m.at_root).or(first)
}
