//! Real cgroups, as root: whatever this machine has (v1, v2 or both), plus a v1-only view of
//! it and the v2 code paths its unified hierarchy allows. Every group is removed, even when a
//! test fails (the `Subject` and `TestCgroup` guards).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

use super::detect::{Cgroups, Hierarchy, PARENT};
use super::kill::{kill_through, Means};
use super::mountinfo::cgroup_mounts;
use super::settings::{settings, Controller, ResolvedLimits};
use super::subject::{Scenario, Subject};
use super::{fs, parent, TestCgroup};

fn cgroups() -> &'static Cgroups {
    static CGROUPS: OnceLock<Cgroups> = OnceLock::new();
    CGROUPS.get_or_init(|| {
        Cgroups::detect(super::Placement::Root).expect("tests of cgroups run as root")
    })
}

/// This machine seen as if it had only cgroup v1: its v1 hierarchies, and the v1 freezer;
/// `None` where there is no v1 freezer hierarchy (pure cgroup v2). Groups are numbered from
/// `first`, apart from those of other tests.
fn v1_only(first: u64) -> Option<Cgroups> {
    let mut hierarchies: Vec<Hierarchy> = cgroups()
        .hierarchies
        .iter()
        .filter(|h| !h.unified)
        .cloned()
        .collect();
    let mountinfo = fs::read(Path::new("/proc/self/mountinfo")).unwrap();
    let freezer = cgroup_mounts(&mountinfo)
        .into_iter()
        .find(|m| !m.unified && m.controllers.iter().any(|c| c == "freezer"))?;
    let parent_dir = freezer.mount_point.join(PARENT);
    parent::prepare_v1(&parent_dir).unwrap();
    hierarchies.push(Hierarchy {
        parent: parent_dir,
        unified: false,
        controllers: Vec::new(),
        freezer: true,
        leaf_kept: true,
    });
    Some(Cgroups::with(hierarchies, AtomicU64::new(first)))
}

/// Held for writing by the test of `remove_stale`, which takes every group of this process
/// for a killed run's (a run calls it before it makes any), and for reading by the others.
static GROUPS: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A test's hold on [`GROUPS`]. The last test to let go removes the `isolated` parents the
/// tests made at each hierarchy's root, as a run does at its end: nothing stays on the host.
struct Groups(Option<Hold>);

enum Hold {
    Read(#[allow(dead_code)] std::sync::RwLockReadGuard<'static, ()>),
    Write(#[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>),
}

impl Groups {
    fn read() -> Groups {
        Groups(Some(Hold::Read(
            GROUPS.read().unwrap_or_else(|e| e.into_inner()),
        )))
    }

    fn write() -> Groups {
        Groups(Some(Hold::Write(
            GROUPS.write().unwrap_or_else(|e| e.into_inner()),
        )))
    }
}

impl Drop for Groups {
    fn drop(&mut self) {
        drop(self.0.take());
        if GROUPS.try_write().is_err() {
            return; // another test holds on, and tidies when it lets go
        }
        // A test starting meanwhile makes its parents again (`group::make_dir`); an rmdir of a
        // parent another test uses fails harmlessly.
        cgroups().remove_parents();
        let mountinfo = fs::read(Path::new("/proc/self/mountinfo")).unwrap_or_default();
        for mount in cgroup_mounts(&mountinfo) {
            if mount.controllers.iter().any(|c| c == "freezer") {
                let _ = fs::rmdir(&mount.mount_point.join(PARENT));
            }
        }
    }
}

const LIMITS: ResolvedLimits = ResolvedLimits {
    memory: Some(64 << 20),
    pids: Some(32),
    cpu_millis: Some(200),
    cpu_weight: Some(50),
};

/// The processes of a test's group: they run in its leaf.
fn procs(dir: &Path) -> Vec<i32> {
    let text = fs::read(&dir.join(super::group::LEAF).join("cgroup.procs")).unwrap();
    text.lines().map(|l| l.parse().unwrap()).collect()
}

fn assert_removed(dirs: &[PathBuf]) {
    for dir in dirs {
        assert!(!dir.exists(), "{} is left", dir.display());
    }
}

#[test]
fn a_group_has_the_limits_and_goes_away() {
    let _groups = Groups::read();
    let group = cgroups().create(&LIMITS).unwrap();
    let dirs: Vec<PathBuf> = group.dirs().map(Path::to_path_buf).collect();
    for member in &group.members {
        for setting in settings(member.unified, &member.controllers, &LIMITS) {
            let file = member.dir.join(setting.file);
            match fs::read(&file) {
                Ok(value) => assert_eq!(value.trim(), setting.value, "{}", file.display()),
                Err(e) => assert!(setting.optional, "{e}"),
            }
        }
    }
    for controller in Controller::ALL {
        assert_eq!(
            group
                .members
                .iter()
                .any(|m| m.controllers.contains(&controller)),
            cgroups().has(controller),
            "{controller:?}"
        );
    }
    assert_eq!(group.procs_files().len(), dirs.len());
    group.remove().unwrap();
    assert_removed(&dirs);
}

#[test]
fn a_clean_group_is_reused_and_its_leaf_only_if_untouched() {
    let _groups = Groups::read();
    let cgroups = Cgroups::with(cgroups().hierarchies.clone(), AtomicU64::new(1 << 40));
    let group = cgroups.create(&LIMITS).unwrap();
    let name = group.name().to_string();
    let dirs: Vec<PathBuf> = group.dirs().map(Path::to_path_buf).collect();
    let leaf = |dir: &PathBuf| dir.join(super::group::LEAF);
    // What a test may do in its own cgroup namespace: subdivide its group.
    for dir in &dirs {
        fs::mkdir(&leaf(dir).join("made-by-the-test")).unwrap();
    }
    cgroups.give_back(group, true).unwrap();
    for dir in &dirs {
        assert!(dir.exists() && !leaf(dir).exists(), "{}", dir.display());
    }

    let again = cgroups.create(&LIMITS).unwrap();
    assert_eq!(again.name(), name, "the same limits reuse the kept group");
    assert_eq!(again.procs_files().len(), dirs.len());
    for dir in &dirs {
        assert!(leaf(dir).join("cgroup.procs").exists(), "{}", dir.display());
        assert!(!leaf(dir).join("made-by-the-test").exists());
    }
    let other_limits = ResolvedLimits {
        pids: Some(16),
        ..LIMITS
    };
    let other = cgroups.create(&other_limits).unwrap();
    assert_ne!(other.name(), name, "other limits get a group of their own");
    other.remove().unwrap();

    // Left as it was found, a leaf stays where the hierarchy keeps the test's hands off it;
    // after a privileged test, never.
    let inode = |dir: &PathBuf| std::fs::metadata(leaf(dir)).map(|m| m.ino()).ok();
    let before: Vec<_> = dirs.iter().map(inode).collect();
    cgroups.give_back(again, true).unwrap();
    let kept = cgroups.create(&LIMITS).unwrap();
    for ((dir, member), before) in dirs.iter().zip(&kept.members).zip(&before) {
        let same = inode(dir) == *before;
        assert_eq!(same, member.leaf_kept, "{}", dir.display());
    }
    cgroups.give_back(kept, false).unwrap();
    for dir in &dirs {
        assert!(!leaf(dir).exists(), "{}", dir.display());
    }
    cgroups.remove_spares();
    assert_removed(&dirs);
}

#[test]
fn unlimited_needs_only_the_killing_hierarchy() {
    let _groups = Groups::read();
    let group = cgroups().create(&ResolvedLimits::default()).unwrap();
    assert!(group.members.iter().all(|m| m.controllers.is_empty()));
    assert!(group.members.len() <= 1, "{:?}", group.members);
    group.remove().unwrap();
}

/// Starts a stubborn subject, checks it is in every member of its group, kills it through
/// `kill`, and removes the group.
fn join_and_kill(cgroups: &Cgroups, kill: impl FnOnce(&TestCgroup)) {
    let group = cgroups.create(&LIMITS).unwrap();
    let dirs: Vec<PathBuf> = group.dirs().map(Path::to_path_buf).collect();
    let mut subject = Subject::start(group, Scenario::Stubborn);
    assert_eq!(subject.ready(), Some(1));
    let members = &subject.group().members;
    let pids = procs(&members[0].dir);
    assert_eq!(pids.len(), 2, "PID 1 and its child: {pids:?}");
    for member in members {
        assert_eq!(procs(&member.dir), pids, "{}", member.dir.display());
    }
    let cgroup_file = fs::read(Path::new(&format!("/proc/{}/cgroup", pids[0]))).unwrap();
    assert!(
        cgroup_file.contains(subject.group().name()),
        "{cgroup_file}"
    );

    for &pid in &pids {
        // SAFETY: sends SIGTERM to a process of this test's own group.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(procs(&members[0].dir), pids, "SIGTERM is ignored");

    kill(subject.group());
    for member in &subject.group().members {
        assert!(procs(&member.dir).is_empty(), "{}", member.dir.display());
    }
    assert_eq!(subject.wait(), 128 + libc::SIGKILL);
    subject.group.take().unwrap().remove().unwrap();
    assert_removed(&dirs);
}

#[test]
fn kill_all_kills_what_ignores_sigterm() {
    let _groups = Groups::read();
    join_and_kill(cgroups(), |group| group.kill_all().unwrap());
}

/// Removes the freezer's `isolated` parent that [`v1_only`] made, unless another test is
/// using it (a test that finds it gone makes it again).
fn remove_freezer_parent(cgroups: &Cgroups) {
    for hierarchy in cgroups.hierarchies.iter().filter(|h| h.freezer) {
        let _ = fs::rmdir(&hierarchy.parent);
    }
}

/// Kills through each freezer this machine has: v1's `freezer.state` (v1 and hybrid
/// machines) and v2's `cgroup.freeze` as if there were no `cgroup.kill` (every cgroup2 mount).
#[test]
fn kill_all_with_each_freezer_this_machine_has() {
    let _groups = Groups::read();
    let mut tried = Vec::new();
    if let Some(v1) = v1_only(1_000_000) {
        join_and_kill(&v1, |group| {
            assert!(group.killer().unwrap().freezer);
            group.kill_all().unwrap()
        });
        remove_freezer_parent(&v1);
        tried.push("v1");
    }
    if cgroups().hierarchies.iter().any(|h| h.unified) {
        join_and_kill(cgroups(), |group| {
            let member = group.killer().unwrap();
            assert!(member.unified && member.dir.join("cgroup.freeze").exists());
            let no_kill_file = Means {
                kill_file: false,
                ..Means::ALL
            };
            kill_through(member, no_kill_file).unwrap();
        });
        tried.push("v2");
    }
    assert!(!tried.is_empty(), "this machine's cgroups have no freezer");
    eprintln!("freezers tried: {}", tried.join(", "));
}

/// Kills in plain rounds of SIGKILL, as on a hierarchy without a freezer or `cgroup.kill`,
/// through whatever member this machine's groups have.
#[test]
fn kill_all_without_a_freezer() {
    let _groups = Groups::read();
    join_and_kill(cgroups(), |group| {
        let nothing = Means {
            kill_file: false,
            freezer: false,
        };
        kill_through(group.killer().unwrap(), nothing).unwrap()
    });
}

#[test]
fn an_oom_kill_is_counted() {
    let _groups = Groups::read();
    assert!(
        cgroups().has(Controller::Memory),
        "no memory controller here"
    );
    let limits = ResolvedLimits {
        memory: Some(32 << 20),
        ..ResolvedLimits::default()
    };
    let group = cgroups().create(&limits).unwrap();
    assert_eq!(group.oom_kills(), 0);
    let mut subject = Subject::start(group, Scenario::Hog(256 << 20));
    assert_eq!(subject.ready(), None, "touched 256M under a 32M limit");
    assert_eq!(subject.wait(), 128 + libc::SIGKILL);
    assert!(subject.group().oom_kills() >= 1);
    assert!(!subject.group().pids_limit_hit());
}

#[test]
fn a_refused_fork_is_noticed() {
    let _groups = Groups::read();
    assert!(cgroups().has(Controller::Pids), "no pids controller here");
    let limits = ResolvedLimits {
        pids: Some(16),
        ..ResolvedLimits::default()
    };
    let group = cgroups().create(&limits).unwrap();
    assert!(!group.pids_limit_hit());
    let mut subject = Subject::start(group, Scenario::ForkLoop);
    assert_eq!(subject.ready(), Some(libc::EAGAIN as u8));
    assert!(subject.group().pids_limit_hit());
    let pids_dir = subject
        .group()
        .members
        .iter()
        .find(|m| m.controllers.contains(&Controller::Pids));
    assert_eq!(procs(&pids_dir.unwrap().dir).len(), 16);
    subject.group().kill_all().unwrap();
    assert_eq!(subject.wait(), 128 + libc::SIGKILL);
    assert_eq!(subject.group().oom_kills(), 0);
}

/// A group directory made by hand in every hierarchy, removed on drop.
struct Planted(Vec<PathBuf>);

impl Planted {
    fn new(name: &str) -> Planted {
        let dirs: Vec<PathBuf> = cgroups()
            .hierarchies
            .iter()
            .map(|h| h.parent.join(name))
            .collect();
        let planted = Planted(dirs);
        for hierarchy in &cgroups().hierarchies {
            super::parent::ensure(hierarchy).unwrap();
        }
        for dir in &planted.0 {
            assert!(fs::mkdir(dir).unwrap(), "{} existed", dir.display());
        }
        planted
    }
}

impl Drop for Planted {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = fs::rmdir(dir);
        }
    }
}

#[test]
fn remove_stale_removes_groups_of_dead_runners_only() {
    let _groups = Groups::write();
    let mut dead = std::process::Command::new("true").spawn().unwrap();
    dead.wait().unwrap();
    let mut alive = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let stale = Planted::new(&format!("{}-7", dead.id()));
    let live = Planted::new(&format!("{}-7", alive.id()));
    let foreign = Planted::new("not-ours");

    let removed = cgroups().remove_stale(&[]).unwrap();
    assert!(removed >= stale.0.len(), "{removed}");
    assert_removed(&stale.0);
    for dir in live.0.iter().chain(&foreign.0) {
        assert!(dir.exists(), "{} was removed", dir.display());
    }
    alive.kill().unwrap();
    alive.wait().unwrap();
}
