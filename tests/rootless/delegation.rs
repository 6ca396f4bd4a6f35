//! A cgroup delegated to nobody, made as root in each hierarchy this machine has for the
//! limits (cgroup v2's unified one; v1's memory, pids, cpu and freezer ones), handed over as
//! the kernel's delegation model has it (Documentation/admin-guide/cgroup-v2.rst,
//! "Delegation": the directory and its `cgroup.procs`, `cgroup.threads` and
//! `cgroup.subtree_control`; v1: the directory, `cgroup.procs` and `tasks`), removed on drop.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::NOBODY;

/// The leaf of a delegated v2 group that a rootless run moves the group's processes into.
const RUNNER_LEAF: &str = "isolated-runner";

/// The controllers the limits need.
const LIMITS: [&str; 3] = ["memory", "pids", "cpu"];

/// The delegated group, one directory per hierarchy.
#[derive(Debug)]
pub struct Delegation {
    name: String,
    dirs: Vec<PathBuf>,
}

impl Delegation {
    /// Makes `isolated-delegated-<what>-<pid>` at the root of each hierarchy and gives it to
    /// nobody. Fails unless some hierarchy offers each of the limits' controllers.
    pub fn to_nobody(what: &str) -> Delegation {
        let name = format!("isolated-delegated-{what}-{}", std::process::id());
        let mut delegation = Delegation {
            name,
            dirs: Vec::new(),
        };
        let mut offered: Vec<String> = Vec::new();
        for (mount, unified, controllers) in hierarchies() {
            let dir = mount.join(&delegation.name);
            if unified {
                // Offer the root's controllers to the delegated group, as root's path does for
                // its own `isolated` group.
                let listed = read(&mount.join("cgroup.controllers"));
                for controller in LIMITS
                    .iter()
                    .filter(|c| listed.split_whitespace().any(|w| w == **c))
                {
                    write(
                        &mount.join("cgroup.subtree_control"),
                        &format!("+{controller}"),
                    );
                }
            }
            match std::fs::create_dir(&dir) {
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue, // mounted twice
                other => other.unwrap(),
            }
            delegation.dirs.push(dir.clone());
            let files: &[&str] = match unified {
                true => &["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"],
                false => &["cgroup.procs", "tasks"],
            };
            chown(&dir);
            for file in files {
                chown(&dir.join(file));
            }
            match unified {
                true => offered.extend(
                    read(&dir.join("cgroup.controllers"))
                        .split_whitespace()
                        .map(str::to_owned),
                ),
                false => offered.extend(controllers),
            }
        }
        for controller in ["memory", "pids"] {
            assert!(
                offered.iter().any(|c| c == controller),
                "no hierarchy here offers the `{controller}` controller: {delegation:?}"
            );
        }
        delegation
    }

    /// The `cgroup.procs` of each directory: what a process writes its pid to, to join. Once a
    /// run has moved the v2 group's processes into its leaf, the group takes no more (it has
    /// controllers for its children): the leaf's, where later runs of a session are born.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        let joined = |dir: &PathBuf| match dir.join(RUNNER_LEAF) {
            leaf if leaf.exists() => leaf.join("cgroup.procs"),
            _ => dir.join("cgroup.procs"),
        };
        self.dirs.iter().map(joined).collect()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// What a run left in the delegated group: every group below it, but for the (empty) leaf
    /// its processes moved into on cgroup v2.
    pub fn groups_left(&self) -> Vec<PathBuf> {
        let mut left = Vec::new();
        for dir in &self.dirs {
            for group in subdirs(dir) {
                let runner_leaf = group.ends_with(RUNNER_LEAF)
                    && read(&group.join("cgroup.procs")).trim().is_empty()
                    && subdirs(&group).is_empty();
                if !runner_leaf {
                    left.push(group);
                }
            }
        }
        left
    }
}

impl Drop for Delegation {
    fn drop(&mut self) {
        for dir in &self.dirs {
            remove(dir);
        }
    }
}

/// Each cgroup hierarchy mounted whole (`/` of it) that holds a limit's controller or the v1
/// freezer, or is the unified one: its mount point, whether unified, its v1 controllers.
fn hierarchies() -> Vec<(PathBuf, bool, Vec<String>)> {
    let mountinfo = read(Path::new("/proc/self/mountinfo"));
    mountinfo
        .lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let fields: Vec<&str> = before.split(' ').collect();
            let mut after = after.split(' ');
            let fstype = after.next()?;
            let options = after.nth(1).unwrap_or("");
            if fields.get(3) != Some(&"/") {
                return None;
            }
            let controllers: Vec<String> = options
                .split(',')
                .filter(|o| LIMITS.contains(o) || *o == "freezer")
                .map(str::to_owned)
                .collect();
            let mount = PathBuf::from(fields.get(4)?);
            match fstype {
                "cgroup2" => Some((mount, true, Vec::new())),
                "cgroup" if !controllers.is_empty() => Some((mount, false, controllers)),
                _ => None,
            }
        })
        .collect()
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect()
}

/// rmdir of `dir` and every group below it, bottom up, while their last processes exit.
fn remove(dir: &Path) {
    for group in subdirs(dir) {
        remove(&group);
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while let Err(e) = std::fs::remove_dir(dir) {
        if e.kind() == std::io::ErrorKind::NotFound || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn chown(path: &Path) {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY))
        .unwrap_or_else(|e| panic!("chown {}: {e}", path.display()));
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn write(path: &Path, value: &str) {
    std::fs::write(path, value)
        .unwrap_or_else(|e| panic!("write {value} to {}: {e}", path.display()));
}
