//! Finding, once per run, which hierarchy enforces each limit: the unified (v2) one when it
//! offers the controller, else a v1 hierarchy of it, else none (the limit cannot be applied).
//!
//! As root, tests' groups live in `isolated/` at the root of each hierarchy, not below the
//! runner's own group: cgroup v2 allows no controllers below a group that holds processes
//! (the runner's does), and at a fixed place the next run finds what a killed run left.
//! Rootless, the same `isolated/` goes in the user's own, delegated group instead (see
//! [`super::delegated`]): the one place below which the user may make groups.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use super::delegated;
use super::error::CgroupError;
use super::fs;
use super::missing::Missing;
use super::mountinfo::{cgroup_mounts, CgroupMount};
use super::parent;
use super::settings::Controller;

/// The directory, in the root of every hierarchy used, that holds the tests' groups.
pub(super) const PARENT: &str = "isolated";

/// Whose groups the tests' groups go below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placement {
    /// Root: at the root of every hierarchy, `<mount>/isolated`.
    Root,
    /// Rootless: in this user's own cgroup, in each hierarchy where it is delegated to them,
    /// `<own group>/isolated`.
    Delegated,
}

/// The cgroup hierarchies of this machine that tests' groups go into; detected once per run.
#[derive(Debug)]
pub(crate) struct Cgroups {
    pub(super) hierarchies: Vec<Hierarchy>,
    missing: Vec<Missing>,
    /// Numbers the groups of this run: `isolated/<runner pid>-<n>`.
    pub(super) counter: AtomicU64,
    /// Groups of ended tests, for the next test with the same limits.
    pub(super) spares: super::spares::Spares,
}

/// One hierarchy tests' groups are made in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hierarchy {
    /// `<mount point or delegated group>/isolated`.
    pub parent: PathBuf,
    pub unified: bool,
    /// The limits' controllers it enforces.
    pub controllers: Vec<Controller>,
    /// A v1 `freezer` hierarchy, used to stop processes before killing them.
    pub freezer: bool,
    /// Whether a test's [leaf](super::group::LEAF) may serve the next test: a test can change
    /// nothing of it the next would see. So on v1, which a test's user namespace cannot mount,
    /// and on v2 with `nsdelegate`.
    pub leaf_kept: bool,
}

/// Where the tests' groups would go, worked out from files only: nothing is made or moved.
/// [`Cgroups::detect`] then prepares each place; the doctor describes them.
#[derive(Debug)]
pub(crate) struct Layout {
    /// Each hierarchy used, `parent` the group `isolated/` goes in (made by `detect`).
    places: Vec<Hierarchy>,
    missing: Vec<Missing>,
}

impl Layout {
    /// Reads `/proc/self/mountinfo` (and, rootless, `/proc/self/cgroup`) and picks one
    /// hierarchy per controller.
    pub(crate) fn plan(placement: Placement) -> Result<Layout, CgroupError> {
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
        let own = match placement {
            Placement::Root => None,
            Placement::Delegated => {
                Some(fs::read(Path::new("/proc/self/cgroup")).map_err(CgroupError::Mounts)?)
            }
        };
        let base_of = |mount: &CgroupMount| match &own {
            None => Ok(mount.mount_point.clone()),
            Some(own) => delegated::own_group(mount, own),
        };
        let mut layout = Layout {
            places: Vec::new(),
            missing: Vec::new(),
        };
        let unified = preferred(&mounts, |m| m.unified);
        // Rootless: why the unified hierarchy's group is not this user's.
        let mut unified_refused = None;
        if let Some(mount) = unified {
            match base_of(mount) {
                Ok(base) => layout.places.push(Hierarchy {
                    controllers: offered(&base),
                    parent: base,
                    unified: true,
                    freezer: false,
                    leaf_kept: mount.nsdelegate,
                }),
                Err(why) => unified_refused = Some(why),
            }
        }
        for controller in Controller::ALL {
            if layout.placed(controller) {
                continue;
            }
            let v1 = preferred(&mounts, |m| {
                m.controllers.iter().any(|c| c == controller.name())
            });
            let missing = match (v1, unified) {
                (Some(mount), _) => match base_of(mount) {
                    Ok(base) => {
                        layout.add_v1(controller, mount, base);
                        continue;
                    }
                    Err(why) => Missing::NotDelegated {
                        controller,
                        unified: false,
                        why,
                    },
                },
                (None, Some(mount))
                    if placement == Placement::Delegated
                        && offered(&mount.mount_point).contains(&controller) =>
                {
                    let why = unified_refused.clone().unwrap_or_else(|| {
                        let base = layout.places.iter().find(|h| h.unified);
                        let dir = base.map_or(mount.mount_point.as_path(), |h| &h.parent);
                        format!(
                            "`{}` is not enabled for {} (see its cgroup.controllers)",
                            controller.name(),
                            dir.display()
                        )
                    });
                    Missing::NotDelegated {
                        controller,
                        unified: true,
                        why,
                    }
                }
                (None, _) => Missing::Absent {
                    controller,
                    unified: unified.map(|m| m.mount_point.clone()),
                },
            };
            layout.missing.push(missing);
        }
        if !layout.places.iter().any(|h| h.unified) {
            // Without cgroup.kill, a v1 freezer stops a fork bomb while its processes are
            // killed.
            let freezer = preferred(&mounts, |m| m.controllers.iter().any(|c| c == "freezer"));
            if let Some(base) = freezer.and_then(|mount| base_of(mount).ok()) {
                layout.add_freezer(base);
            }
        }
        Ok(layout)
    }

    /// The groups tests' groups would go below (in `isolated/`), with the limits' controllers
    /// each would enforce.
    pub(crate) fn places(&self) -> impl Iterator<Item = (&Path, &[Controller])> {
        self.places
            .iter()
            .map(|h| (h.parent.as_path(), h.controllers.as_slice()))
    }

    /// The controllers no hierarchy offers, each with the reason and the fix.
    pub(crate) fn missing(&self) -> &[Missing] {
        &self.missing
    }

    fn placed(&self, controller: Controller) -> bool {
        self.places
            .iter()
            .any(|h| h.controllers.contains(&controller))
    }

    fn add_v1(&mut self, controller: Controller, mount: &CgroupMount, base: PathBuf) {
        if controller == Controller::Cpu && !mount.mount_point.join("cpu.cfs_quota_us").exists() {
            self.missing.push(Missing::NoCpuQuota {
                mount: mount.mount_point.clone(),
            });
            return;
        }
        // Comounted controllers (`cpu,cpuacct`, or memory and pids together) share one group.
        if let Some(h) = self.places.iter_mut().find(|h| h.parent == base) {
            h.controllers.push(controller);
            return;
        }
        self.places.push(Hierarchy {
            parent: base,
            unified: false,
            controllers: vec![controller],
            freezer: false,
            leaf_kept: true,
        });
    }

    fn add_freezer(&mut self, base: PathBuf) {
        if let Some(h) = self.places.iter_mut().find(|h| h.parent == base) {
            h.freezer = true;
            return;
        }
        self.places.push(Hierarchy {
            parent: base,
            unified: false,
            controllers: Vec::new(),
            freezer: true,
            leaf_kept: true,
        });
    }
}

impl Cgroups {
    /// Plans the [`Layout`] and makes the `isolated` parent group in each place, with the
    /// unified hierarchy's controllers enabled for it (in `cgroup.subtree_control` of the
    /// place and of `isolated`). Rootless, a place that cannot be prepared leaves its
    /// controllers [missing](Missing::NotDelegated).
    pub(crate) fn detect(placement: Placement) -> Result<Cgroups, CgroupError> {
        let layout = Layout::plan(placement)?;
        let mut cgroups = Cgroups {
            hierarchies: Vec::new(),
            missing: layout.missing,
            counter: AtomicU64::new(0),
            spares: Default::default(),
        };
        for place in layout.places {
            match cgroups.prepare(&place, placement) {
                Ok(hierarchy) => cgroups.hierarchies.push(hierarchy),
                Err(error) if placement == Placement::Delegated => {
                    let why = format!("preparing it failed: {}", chain(&error));
                    cgroups
                        .missing
                        .extend(place.controllers.iter().map(|&controller| {
                            Missing::NotDelegated {
                                controller,
                                unified: place.unified,
                                why: why.clone(),
                            }
                        }));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(cgroups)
    }

    /// Makes `<place>/isolated`; on v2 with the controllers enabled for it, after moving the
    /// user's processes out of a delegated group.
    fn prepare(
        &mut self,
        place: &Hierarchy,
        placement: Placement,
    ) -> Result<Hierarchy, CgroupError> {
        let base = &place.parent;
        let parent_dir = base.join(PARENT);
        if !place.unified {
            parent::prepare_v1(&parent_dir)?;
            return Ok(Hierarchy {
                parent: parent_dir,
                ..place.clone()
            });
        }
        if placement == Placement::Delegated && !place.controllers.is_empty() {
            delegated::vacate(base).map_err(|source| CgroupError::Parent {
                path: base.clone(),
                source,
            })?;
        }
        let (enabled, failed) = parent::prepare_unified(base, &place.controllers)?;
        self.missing
            .extend(failed.into_iter().map(|missing| match placement {
                Placement::Root => missing,
                Placement::Delegated => Missing::NotDelegated {
                    controller: missing.controller(),
                    unified: true,
                    why: missing.to_string(),
                },
            }));
        Ok(Hierarchy {
            parent: parent_dir,
            unified: true,
            controllers: enabled,
            freezer: false,
            leaf_kept: place.leaf_kept,
        })
    }

    /// Cgroups over these hierarchies, numbering groups from `counter`: a machine as the
    /// tests want to see it.
    #[cfg(test)]
    pub(super) fn with(hierarchies: Vec<Hierarchy>, counter: AtomicU64) -> Cgroups {
        Cgroups {
            hierarchies,
            missing: Vec::new(),
            counter,
            spares: Default::default(),
        }
    }

    /// The controllers no hierarchy offers, each with the reason and the fix.
    pub(crate) fn missing(&self) -> &[Missing] {
        &self.missing
    }

    /// Whether some hierarchy enforces `controller`'s limit.
    #[cfg(test)]
    pub(super) fn has(&self, controller: Controller) -> bool {
        self.hierarchies
            .iter()
            .any(|h| h.controllers.contains(&controller))
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
}

/// The limits' controllers the v2 group `dir` offers its children (its `cgroup.controllers`).
fn offered(dir: &Path) -> Vec<Controller> {
    let listed = fs::read(&dir.join("cgroup.controllers")).unwrap_or_default();
    Controller::ALL
        .into_iter()
        .filter(|c| listed.split_whitespace().any(|w| w == c.name()))
        .collect()
}

/// "what we were doing: its cause", each once.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
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
