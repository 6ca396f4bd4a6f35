//! What the kernel counted in a test's group: OOM kills, forks refused by the pids limit.

use super::fs;
use super::group::{Member, TestCgroup, LEAF};
use super::settings::Controller;

impl TestCgroup {
    /// How many processes the OOM killer killed because the group reached its memory limit.
    ///
    /// v2: `oom_kill` of `memory.events`. v1: `oom_kill` of `memory.oom_control` (Linux 4.13+);
    /// on older kernels, `memory.failcnt`, which counts how often usage hit the limit (reclaim
    /// included), so it can be non-zero without a kill: good enough to explain a test killed by
    /// SIGKILL. 0 when the group has no memory limit.
    pub(crate) fn oom_kills(&self) -> u64 {
        let Some(member) = self.member_with(Controller::Memory) else {
            return 0;
        };
        counted(member, |read| {
            if member.unified {
                return read("memory.events").and_then(|t| keyed(&t, "oom_kill"));
            }
            read("memory.oom_control")
                .and_then(|t| keyed(&t, "oom_kill"))
                .or_else(|| read("memory.failcnt").and_then(|t| t.trim().parse().ok()))
        })
    }

    /// Whether a fork or clone failed because the group had reached `pids.max` (`max` in
    /// `pids.events`, both versions). False when the group has no pids limit.
    pub(crate) fn pids_limit_hit(&self) -> bool {
        self.member_with(Controller::Pids).is_some_and(|member| {
            counted(member, |read| {
                read("pids.events").and_then(|t| keyed(&t, "max"))
            }) > 0
        })
    }

    fn member_with(&self, controller: Controller) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.controllers.contains(&controller))
    }
}

/// A count of the group, read by `count` in the group and in its [`LEAF`]: the larger. v2
/// counts events hierarchically (the group's count holds the leaf's); v1 counts some where
/// they happened (the leaf, where the processes are), others where the limit is (the group).
fn counted(member: &Member, count: impl Fn(&dyn Fn(&str) -> Option<String>) -> Option<u64>) -> u64 {
    [member.dir.clone(), member.dir.join(LEAF)]
        .iter()
        .filter_map(|dir| count(&|file| fs::read(&dir.join(file)).ok()))
        .max()
        .unwrap_or(0)
}

/// The number after `key` in a flat keyed file (`oom_kill 2` in `memory.events`).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::keyed;

    #[test]
    fn reads_flat_keyed_files() {
        let v2 = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed(v2, "oom_kill"), Some(1));
        assert_eq!(keyed(v2, "max"), Some(12));
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed(v1, "oom_kill"), Some(3));
        assert_eq!(keyed(v1, "oom"), None);
    }
}
