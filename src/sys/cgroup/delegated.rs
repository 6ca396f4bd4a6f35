//! The rootless mode's cgroups: a user may make groups only below a cgroup delegated to them
//! (its directory and `cgroup.procs` theirs: systemd's `Delegate=yes`, or a group root made
//! and chowned to them), so the tests' groups go below this process's own cgroup, if it is.
//!
//! cgroup v2 enables controllers for a group's children only while the group holds no
//! processes itself, and the delegated group holds the user's (the shell of a
//! `systemd-run --scope`, cargo, this runner). So they move into a leaf child first,
//! [`RUNNER_LEAF`], as the docker:dind entrypoint and systemd's `DelegateSubgroup=` do; runs
//! started later from them are born in the leaf, and take its parent for the delegated group.

use std::path::{Path, PathBuf};

use super::fs;
use super::mountinfo::CgroupMount;
use crate::sys::error::{Errno, SysResult};

/// The leaf of the delegated group that its own processes move into (cgroup v2).
pub(super) const RUNNER_LEAF: &str = "isolated-runner";

/// How often [`vacate`] moves what is left, while processes are still being started there.
const VACATE_ROUNDS: usize = 5;

/// This process's cgroup in `mount`'s hierarchy (`proc_cgroup`: `/proc/self/cgroup`), if it is
/// delegated to this user; else why not, as a clause ("uid 1000's cgroup … is not delegated to
/// it"). Only reads.
pub(super) fn own_group(mount: &CgroupMount, proc_cgroup: &str) -> Result<PathBuf, String> {
    let at = mount.mount_point.display();
    let path = own_path(mount, proc_cgroup)
        .ok_or_else(|| format!("/proc/self/cgroup names no group in the hierarchy at {at}"))?;
    let relative = path.strip_prefix(&mount.root).map_err(|_| {
        format!(
            "this process's cgroup {} is outside the part of the hierarchy mounted at {at}",
            path.display()
        )
    })?;
    let mut dir = match relative.as_os_str().is_empty() {
        true => mount.mount_point.clone(),
        false => mount.mount_point.join(relative),
    };
    if mount.unified && dir.file_name().is_some_and(|n| n == RUNNER_LEAF) {
        dir.pop();
    }
    let mut files = vec![dir.clone(), dir.join("cgroup.procs")];
    if mount.unified {
        files.push(dir.join("cgroup.subtree_control"));
    }
    let Some(file) = files.iter().find(|file| fs::writable(file).is_err()) else {
        return Ok(dir);
    };
    let what = match file.file_name() {
        Some(name) if *file != dir => format!("its {}", name.to_string_lossy()),
        _ => "the directory".to_string(),
    };
    Err(format!(
        "uid {}'s cgroup {} is not delegated to it ({what} is not writable)",
        fs::euid(),
        dir.display(),
    ))
}

/// The path, below the hierarchy's root, of this process's group in `mount`'s hierarchy: the
/// `0::/path` line for v2, the line naming one of its controllers for v1.
fn own_path(mount: &CgroupMount, proc_cgroup: &str) -> Option<PathBuf> {
    proc_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (id, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let ours = match mount.unified {
            true => id == "0" && controllers.is_empty(),
            false => controllers
                .split(',')
                .any(|c| mount.controllers.iter().any(|m| m == c)),
        };
        ours.then(|| PathBuf::from(path))
    })
}

/// Moves the processes of the delegated v2 group `dir`, this one first, into its
/// [`RUNNER_LEAF`], so that `dir` may enable controllers for its children. Repeats while
/// processes are still being started in `dir`.
pub(super) fn vacate(dir: &Path) -> SysResult<()> {
    let leaf = dir.join(RUNNER_LEAF);
    fs::mkdir(&leaf)?;
    let procs = leaf.join("cgroup.procs");
    fs::write(&procs, "0")?;
    for _ in 0..VACATE_ROUNDS {
        let left = fs::read(&dir.join("cgroup.procs"))?;
        if left.trim().is_empty() {
            break;
        }
        for pid in left.lines() {
            match fs::write(&procs, pid.trim()) {
                // Gone meanwhile.
                Err(e) if e.errno == Errno::ESRCH => {}
                other => other?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(point: &str, root: &str, controllers: &[&str]) -> CgroupMount {
        CgroupMount {
            mount_point: PathBuf::from(point),
            unified: controllers.is_empty(),
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
            at_root: root == "/",
            root: PathBuf::from(root),
            nsdelegate: controllers.is_empty(),
        }
    }

    const HYBRID: &str = "\
9:name=systemd:/user.slice
4:memory:/user/me
2:cpu,cpuacct:/user/me
0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope/isolated-runner
";

    #[test]
    fn finds_the_own_path_of_each_hierarchy() {
        let memory = mount("/sys/fs/cgroup/memory", "/", &["memory"]);
        assert_eq!(own_path(&memory, HYBRID), Some(PathBuf::from("/user/me")));
        let cpu = mount("/sys/fs/cgroup/cpu,cpuacct", "/", &["cpu", "cpuacct"]);
        assert_eq!(own_path(&cpu, HYBRID), Some(PathBuf::from("/user/me")));
        let pids = mount("/sys/fs/cgroup/pids", "/", &["pids"]);
        assert_eq!(own_path(&pids, HYBRID), None);
        let unified = mount("/sys/fs/cgroup/unified", "/", &[]);
        assert!(own_path(&unified, HYBRID)
            .unwrap()
            .ends_with("run-r1.scope/isolated-runner"));
    }

    #[test]
    fn a_group_outside_the_mount_or_not_ours_is_refused() {
        let bound = mount("/sys/fs/cgroup/memory", "/docker/abc", &["memory"]);
        let why = own_group(&bound, HYBRID).unwrap_err();
        assert!(why.contains("/user/me is outside"), "{why}");
        let missing = mount("/nonexistent/cgroup", "/", &["pids"]);
        let why = own_group(&missing, "3:pids:/me\n").unwrap_err();
        assert_eq!(
            why,
            format!(
                "uid {}'s cgroup /nonexistent/cgroup/me is not delegated to it (the \
                 directory is not writable)",
                fs::euid()
            )
        );
    }
}
