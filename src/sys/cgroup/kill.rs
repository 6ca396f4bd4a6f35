//! Killing every process of a test's group, a fork bomb's included.

use std::path::Path;
use std::time::{Duration, Instant};

use super::fs;
use super::group::{Member, TestCgroup};
use crate::sys::error::{Errno, SysError, SysResult};

/// How long to keep killing before giving up on a group that will not empty.
const KILL_PATIENCE: Duration = Duration::from_secs(5);
/// How long to wait for a freezer to report the group frozen.
const FREEZE_PATIENCE: Duration = Duration::from_millis(500);

impl TestCgroup {
    /// Kills every process in the group and waits until it is empty.
    ///
    /// v2: writes `cgroup.kill` (Linux 5.14+); on older kernels, freezes the group
    /// (`cgroup.freeze`, 5.2+), SIGKILLs each process in `cgroup.procs` and thaws it. v1:
    /// the same with the freezer hierarchy (`freezer.state` FROZEN, then THAWED); without a
    /// freezer, SIGKILLs what is in `cgroup.procs` until nothing is. A frozen group cannot
    /// fork, so no new process escapes the round of kills.
    pub(crate) fn kill_all(&self) -> SysResult<()> {
        match self.killer() {
            Some(member) => kill_through(member, Means::ALL),
            None => Ok(()),
        }
    }

    /// The member to kill through: the unified hierarchy's, else the v1 freezer's, else any
    /// (every process of the test is in every member).
    pub(super) fn killer(&self) -> Option<&Member> {
        let members = || self.members.iter();
        members()
            .find(|m| m.unified)
            .or_else(|| members().find(|m| m.freezer))
            .or_else(|| members().next())
    }
}

/// What [`kill_through`] may use where the group has it: tests take some away, to try the
/// paths of older kernels and of hierarchies without a freezer on any machine.
#[derive(Debug, Clone, Copy)]
pub(super) struct Means {
    /// v2's `cgroup.kill` (Linux 5.14+).
    pub kill_file: bool,
    /// `cgroup.freeze` (v2) or `freezer.state` (the v1 freezer hierarchy).
    pub freezer: bool,
}

impl Means {
    pub(super) const ALL: Means = Means {
        kill_file: true,
        freezer: true,
    };
}

/// Kills everything in `member`'s group, with `cgroup.kill` if `means` allow it and the
/// kernel has it, else in rounds of freeze (where there is a freezer), kill, thaw.
pub(super) fn kill_through(member: &Member, means: Means) -> SysResult<()> {
    let deadline = Instant::now() + KILL_PATIENCE;
    let kill_file = member.dir.join("cgroup.kill");
    let one_write = means.kill_file && member.unified && kill_file.exists();
    loop {
        let pids = pids_in(&member.dir)?;
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(SysError::at("kill_all", &member.dir, Errno::EBUSY));
        }
        // Processes that got SIGKILL stay listed until they have exited: kill again only
        // what is still there.
        match one_write {
            true => fs::write(&kill_file, "1")?,
            false => kill_frozen(member, &pids, means.freezer)?,
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One round: freeze (when the hierarchy can), SIGKILL each of `pids`, thaw.
fn kill_frozen(member: &Member, pids: &[i32], may_freeze: bool) -> SysResult<()> {
    let freezer = Freezer::of(member).filter(|_| may_freeze);
    // Even a failed freeze may have frozen some: whatever happens, thaw below.
    let frozen = freezer.as_ref().map_or(Ok(()), Freezer::freeze);
    let killed = pids.iter().try_for_each(|&pid| fs::kill(pid));
    // Thaw even after a failed kill: SIGKILLed processes only die once thawed.
    if let Some(freezer) = &freezer {
        freezer.thaw()?;
    }
    frozen.and(killed)
}

/// The processes in the group `dir` and every group below it (their pids in our PID
/// namespace).
fn pids_in(dir: &Path) -> SysResult<Vec<i32>> {
    let mut pids = Vec::new();
    add_pids(dir, &mut pids)?;
    Ok(pids)
}

fn add_pids(dir: &Path, pids: &mut Vec<i32>) -> SysResult<()> {
    let text = match fs::read(&dir.join("cgroup.procs")) {
        Err(e) if e.errno == Errno::ENOENT || e.errno == Errno::ENODEV => return Ok(()),
        other => other?,
    };
    pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
    for name in fs::subdirs(dir)? {
        add_pids(&dir.join(name), pids)?;
    }
    Ok(())
}

/// A group's freezer: `cgroup.freeze` (v2) or `freezer.state` (v1).
struct Freezer<'a> {
    dir: &'a Path,
    unified: bool,
}

impl<'a> Freezer<'a> {
    fn of(member: &'a Member) -> Option<Freezer<'a>> {
        let file = if member.unified {
            "cgroup.freeze"
        } else {
            "freezer.state"
        };
        member.dir.join(file).exists().then_some(Freezer {
            dir: &member.dir,
            unified: member.unified,
        })
    }

    /// Freezes the group and waits (briefly) until every process is frozen.
    fn freeze(&self) -> SysResult<()> {
        let (file, value) = self.file("1", "FROZEN");
        fs::write(&self.dir.join(file), value)?;
        let deadline = Instant::now() + FREEZE_PATIENCE;
        while !self.frozen()? && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    fn thaw(&self) -> SysResult<()> {
        let (file, value) = self.file("0", "THAWED");
        fs::write(&self.dir.join(file), value)
    }

    fn frozen(&self) -> SysResult<bool> {
        Ok(if self.unified {
            fs::read(&self.dir.join("cgroup.events"))?
                .lines()
                .any(|l| l == "frozen 1")
        } else {
            fs::read(&self.dir.join("freezer.state"))?.trim() == "FROZEN"
        })
    }

    fn file(&self, v2: &'static str, v1: &'static str) -> (&'static str, &'static str) {
        match self.unified {
            true => ("cgroup.freeze", v2),
            false => ("freezer.state", v1),
        }
    }
}
