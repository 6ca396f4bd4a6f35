//! A test's resource limits: from the attribute to the numbers its cgroup gets, and from what
//! its cgroup counted to the words of its verdict.

// Until launch and verdict use it (issue 5: the wiring).

use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::context::error_chain;
use crate::registry::{Limit, Limits};
use crate::sys::cgroup::{
    physical_memory, Cgroups, Controller, Missing, Placement, ResolvedLimits, TestCgroup,
};
use crate::sys::SysResult;

/// The cgroups of this run: detected once, after removing the groups killed runs left (but
/// those of environments kept for a while after their run). `Err` says why there are none (no
/// cgroup filesystem): tests then run without limits.
pub(crate) fn cgroups_for_run(placement: Placement) -> Result<Cgroups, String> {
    let cgroups = Cgroups::detect(placement).map_err(|e| error_chain(&e))?;
    let spare = crate::kept::sweep();
    if let Err(e) = cgroups.remove_stale(&spare) {
        eprintln!("warning: failed to remove the cgroups an earlier, killed run left: {e}");
    }
    Ok(cgroups)
}

/// Physical memory, for the default memory limit; 8 GiB if it cannot be read.
pub(super) fn physical() -> u64 {
    physical_memory().unwrap_or(8 << 30)
}

/// One test's cgroup, and the limits it enforces.
#[derive(Debug)]
pub(super) struct Confinement {
    group: Option<TestCgroup>,
    resolved: ResolvedLimits,
    /// Whether [`Confinement::kill_all`] ran: such a group is never reused.
    killed: AtomicBool,
}

impl Confinement {
    /// Makes the test's group with its limits, before the test starts. Without cgroups in this
    /// run, the test runs unconfined (said once per run, if a test asked for a limit).
    pub(super) fn new(
        cgroups: &Result<Cgroups, String>,
        limits: &Limits,
        physical: u64,
    ) -> Result<Confinement, String> {
        let cgroups = match cgroups {
            Ok(cgroups) => cgroups,
            Err(why) => {
                static WARNED: AtomicBool = AtomicBool::new(false);
                let asked = *limits != Limits::DEFAULT;
                if asked && !WARNED.swap(true, Ordering::Relaxed) {
                    eprintln!("warning: `memory`, `pids` and `cpu` limits are not enforced in this run: {why}");
                }
                return Ok(Confinement {
                    group: None,
                    resolved: ResolvedLimits::default(),
                    killed: AtomicBool::new(false),
                });
            }
        };
        let resolved = delegated_only(resolve(limits, physical), limits, cgroups)?;
        let resolved = enforceable(resolved, cgroups);
        let group = cgroups.create(&resolved).map_err(|e| error_chain(&e))?;
        Ok(Confinement {
            group: Some(group),
            resolved,
            killed: AtomicBool::new(false),
        })
    }

    /// The `cgroup.procs` files the test's PID 1 writes "0" to before it execs.
    pub(super) fn procs(&self) -> Vec<RawFd> {
        let files = self.group.as_ref().map(TestCgroup::procs_files);
        files
            .unwrap_or_default()
            .iter()
            .map(AsRawFd::as_raw_fd)
            .collect()
    }

    /// Kills every process of the test: at its timeout.
    pub(super) fn kill_all(&self) -> SysResult<()> {
        self.killed.store(true, Ordering::Relaxed);
        self.group.as_ref().map_or(Ok(()), TestCgroup::kill_all)
    }

    /// What the limits are and have done so far, for a test whose environment is still there.
    pub(super) fn so_far(&self) -> (ResolvedLimits, Breaches) {
        let breaches = self.group.as_ref().map(Breaches::of).unwrap_or_default();
        (self.resolved, breaches)
    }

    /// The group's directories, one per hierarchy (none without cgroups).
    pub(super) fn dirs(&self) -> Vec<std::path::PathBuf> {
        self.group
            .as_ref()
            .map(TestCgroup::paths)
            .unwrap_or_default()
    }

    /// Leaves the group on the host, not removed: a kept environment that outlives the run
    /// (the next run, or `isolated clean`, removes it once the environment is gone).
    pub(super) fn leave(self) {
        if let Some(group) = self.group {
            group.leave();
        }
    }

    /// Once the test has ended: what its limits did. The group is given back for the next
    /// test when its counters are clean and it was not killed, else removed. `confined`: the
    /// test ran in a user namespace of its own (not `privileged`).
    pub(super) fn end(
        self,
        cgroups: &Result<Cgroups, String>,
        confined: bool,
    ) -> (ResolvedLimits, Breaches) {
        let (Some(group), Ok(cgroups)) = (self.group, cgroups) else {
            return (self.resolved, Breaches::default());
        };
        let breaches = Breaches::of(&group);
        let name = group.name().to_string();
        let reusable = breaches.clean() && !self.killed.load(Ordering::Relaxed);
        let ended = match reusable {
            true => cgroups
                .give_back(group, confined)
                .map_err(|e| error_chain(&e)),
            false => group.remove().map_err(|e| e.to_string()),
        };
        if let Err(e) = ended {
            eprintln!("warning: failed to remove the test's cgroup isolated/{name}: {e}");
        }
        (self.resolved, breaches)
    }
}

/// The default `pids` limit: far more than a test's processes and threads, few enough that a
/// fork bomb stops long before it takes the machine down.
pub(super) const DEFAULT_PIDS: u64 = 1024;

/// The default `memory` limit is half of physical memory, at most this (4 GiB): the other half
/// stays for the runner, the other tests and the machine, and no hermetic test needs more than
/// 4 GiB, so a leak is stopped early. No swap, like any memory limit. Whole MiB, for messages.
pub(super) fn default_memory(physical: u64) -> u64 {
    const CAP: u64 = 4 << 30;
    (physical / 2).min(CAP) & !((1 << 20) - 1)
}

/// Turns the attribute's limits into numbers: `Default` into the defaults above (memory from
/// `physical` bytes of RAM), `Unlimited` into none. The CPU has no default limit.
pub(super) fn resolve(limits: &Limits, physical: u64) -> ResolvedLimits {
    let pick = |limit: Limit, default: u64| match limit {
        Limit::Default => Some(default),
        Limit::Unlimited => None,
        Limit::Max(max) => Some(max),
    };
    ResolvedLimits {
        memory: pick(limits.memory, default_memory(physical)),
        pids: pick(limits.pids, DEFAULT_PIDS),
        cpu_millis: limits.cpu_millis,
        cpu_weight: Some(DEFAULT_CPU_WEIGHT),
    }
}

/// Every test's CPU weight: half an ordinary group's (`cpu.weight` 50, `cpu.shares` 512). A
/// test's processes share one group's part of a contended CPU however many there are (a fork
/// bomb at its pids limit gets no more than one quiet test), and yield to the machine's
/// ordinary groups. A share, not a quota: an idle machine still runs a test at full speed.
pub(super) const DEFAULT_CPU_WEIGHT: u32 = 50;

/// `limits` without those this machine cannot enforce. Each such controller is reported once
/// per run, on stderr, with the reason and the fix: the tests still run, unlimited.
pub(super) fn enforceable(limits: ResolvedLimits, cgroups: &Cgroups) -> ResolvedLimits {
    static WARNED: Mutex<Vec<Controller>> = Mutex::new(Vec::new());
    let mut limits = limits;
    for missing in cgroups.missing() {
        let controller = missing.controller();
        if !limits.needs(controller) {
            continue;
        }
        let only_the_default_weight = controller == Controller::Cpu && limits.cpu_millis.is_none();
        limits = limits.without(controller);
        if only_the_default_weight {
            continue; // no CPU controller: tests share the CPU as ordinary processes do
        }
        let mut warned = WARNED.lock().unwrap_or_else(|e| e.into_inner());
        if !warned.contains(&controller) {
            warned.push(controller);
            eprintln!("{}", warning(controller, &missing.to_string()));
        }
    }
    limits
}

/// Rootless, `limits` without those whose cgroup is not delegated to this user. A limit the
/// attribute sets (`memory = "64M"`) is refused: the test fails with the sentence saying why
/// and how to get a delegated cgroup. A default one is dropped, with one warning per run.
fn delegated_only(
    resolved: ResolvedLimits,
    limits: &Limits,
    cgroups: &Cgroups,
) -> Result<ResolvedLimits, String> {
    static WARNED: AtomicBool = AtomicBool::new(false);
    let refused: Vec<&Missing> = cgroups
        .missing()
        .iter()
        .filter(|m| matches!(m, Missing::NotDelegated { .. }))
        .collect();
    let mut resolved = resolved;
    let mut dropped_a_default = false;
    for missing in &refused {
        let controller = missing.controller();
        if let Some(what) = set_by_attribute(limits, controller) {
            return Err(missing.needs_delegation(&what).unwrap_or_default());
        }
        dropped_a_default |= controller != Controller::Cpu && resolved.needs(controller);
        resolved = resolved.without(controller);
    }
    if dropped_a_default && !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!("{}", defaults_warning(&refused));
    }
    Ok(resolved)
}

/// How the attribute wrote the limit enforced by `controller`, if it set one: `memory =
/// "64M"`, `pids = 16`, `cpu = 0.5`.
fn set_by_attribute(limits: &Limits, controller: Controller) -> Option<String> {
    match controller {
        Controller::Memory => match limits.memory {
            Limit::Max(bytes) => Some(format!("memory = \"{}\"", format_bytes(bytes))),
            _ => None,
        },
        Controller::Pids => match limits.pids {
            Limit::Max(pids) => Some(format!("pids = {pids}")),
            _ => None,
        },
        Controller::Cpu => limits
            .cpu_millis
            .map(|millis| format!("cpu = {}", f64::from(millis) / 1000.0)),
    }
}

/// The line printed once per rootless run whose default limits cannot be enforced.
fn defaults_warning(refused: &[&Missing]) -> String {
    let names: Vec<&str> = refused
        .iter()
        .map(|m| m.controller())
        .filter(|&c| c != Controller::Cpu)
        .map(Controller::name)
        .collect();
    let why = refused
        .first()
        .and_then(|m| m.needs_delegation("each"))
        .unwrap_or_default();
    format!(
        "warning: the default {} limits are not enforced in this rootless run: {why}",
        names.join(" and ")
    )
}

/// The line printed once per run for a limit that cannot be enforced.
fn warning(controller: Controller, why: &str) -> String {
    let name = controller.name();
    format!("warning: isolated cannot enforce `{name}` limits on this machine, so tests run without them: {why}")
}

/// What a test's cgroup counted while it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Breaches {
    /// Processes the OOM killer killed at the memory limit.
    pub oom_kills: u64,
    /// Whether a fork failed at the pids limit.
    pub pids_limit_hit: bool,
}

impl Breaches {
    /// Nothing was counted: the group's counters are as a new group's.
    fn clean(&self) -> bool {
        self.oom_kills == 0 && !self.pids_limit_hit
    }

    /// Reads the counters of `group`; call it after the test ended, before removing the group.
    pub(super) fn of(group: &TestCgroup) -> Breaches {
        Breaches {
            oom_kills: group.oom_kills(),
            pids_limit_hit: group.pids_limit_hit(),
        }
    }
}

/// The failure `reason` of a test, with what its limits did to it: `killed: memory limit 256M
/// exceeded` instead of the OOM killer's bare `killed by SIGKILL`, and a line for a fork the
/// pids limit refused. `limits` are the attribute's, `resolved` what the cgroup enforced.
pub(super) fn explain(
    reason: String,
    limits: &Limits,
    resolved: &ResolvedLimits,
    breaches: Breaches,
) -> String {
    let mut lines = Vec::new();
    if let (true, Some(bytes)) = (breaches.oom_kills > 0, resolved.memory) {
        let mut line = format!("killed: memory limit {} exceeded", format_bytes(bytes));
        if limits.memory == Limit::Default {
            line.push_str(
                " (the default limit; raise it with `memory = \"8G\"`, or `memory = \"none\"`)",
            );
        }
        lines.push(line);
    }
    if let (true, Some(pids)) = (breaches.pids_limit_hit, resolved.pids) {
        let mut line = format!("pids limit {pids} reached: a process could not fork");
        if limits.pids == Limit::Default {
            line.push_str(
                " (the default limit; raise it with `pids = 4096`, or `pids = \"none\"`)",
            );
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return reason;
    }
    // The OOM killer's SIGKILL is the whole story: say it instead.
    let oom_was_the_end = breaches.oom_kills > 0
        && (reason == "killed by SIGKILL"
            || reason.starts_with("the test environment ended unexpectedly"));
    if !oom_was_the_end && !reason.is_empty() {
        lines.insert(0, reason);
    }
    lines.join("\n")
}

/// `256M`, `4G`, `512K`, or bytes: the way the attribute writes sizes.
pub(super) fn format_bytes(bytes: u64) -> String {
    for (shift, unit) in [(30, "G"), (20, "M"), (10, "K")] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    bytes.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1 << 30;

    #[test]
    fn defaults() {
        assert_eq!(default_memory(2 * GIB), GIB);
        assert_eq!(default_memory(64 * GIB), 4 * GIB);
        assert_eq!(default_memory(3 * GIB + 12345), 1536 << 20, "whole MiB");
        let resolved = resolve(&Limits::DEFAULT, 16 * GIB);
        assert_eq!(
            resolved,
            ResolvedLimits {
                memory: Some(4 * GIB),
                pids: Some(1024),
                cpu_millis: None,
                cpu_weight: Some(DEFAULT_CPU_WEIGHT),
            }
        );
    }

    #[test]
    fn explicit_and_unlimited() {
        let limits = Limits {
            memory: Limit::Max(64 << 20),
            pids: Limit::Unlimited,
            cpu_millis: Some(200),
        };
        let resolved = resolve(&limits, 16 * GIB);
        assert_eq!(resolved.memory, Some(64 << 20));
        assert_eq!(resolved.pids, None);
        assert_eq!(resolved.cpu_millis, Some(200));
    }

    #[test]
    fn sizes_read_like_the_attribute() {
        assert_eq!(format_bytes(256 << 20), "256M");
        assert_eq!(format_bytes(4 * GIB), "4G");
        assert_eq!(format_bytes(1536 << 20), "1536M");
        assert_eq!(format_bytes(512 << 10), "512K");
        assert_eq!(format_bytes(1000), "1000");
    }

    fn limits(memory: u64, pids: u64) -> (Limits, ResolvedLimits) {
        let limits = Limits {
            memory: Limit::Max(memory),
            pids: Limit::Max(pids),
            cpu_millis: None,
        };
        (limits, resolve(&limits, 16 * GIB))
    }

    #[test]
    fn an_oom_kill_replaces_a_bare_sigkill() {
        let (limits, resolved) = limits(256 << 20, 64);
        let oom = Breaches {
            oom_kills: 1,
            pids_limit_hit: false,
        };
        let reason = explain("killed by SIGKILL".into(), &limits, &resolved, oom);
        assert_eq!(reason, "killed: memory limit 256M exceeded");
        let reason = explain(
            "test panicked at a.rs:1:1: x".into(),
            &limits,
            &resolved,
            oom,
        );
        assert_eq!(
            reason,
            "test panicked at a.rs:1:1: x\nkilled: memory limit 256M exceeded"
        );
    }

    #[test]
    fn a_refused_fork_is_added() {
        let (limits, resolved) = limits(256 << 20, 64);
        let pids = Breaches {
            oom_kills: 0,
            pids_limit_hit: true,
        };
        let reason = explain("timed out after 10s".into(), &limits, &resolved, pids);
        assert_eq!(
            reason,
            "timed out after 10s\npids limit 64 reached: a process could not fork"
        );
        let nothing = Breaches::default();
        assert_eq!(explain("x".into(), &limits, &resolved, nothing), "x");
    }

    #[test]
    fn defaults_say_how_to_change_them() {
        let resolved = resolve(&Limits::DEFAULT, 64 * GIB);
        let both = Breaches {
            oom_kills: 2,
            pids_limit_hit: true,
        };
        let reason = explain(
            "killed by SIGKILL".into(),
            &Limits::DEFAULT,
            &resolved,
            both,
        );
        assert!(reason.starts_with("killed: memory limit 4G exceeded (the default limit; raise it with `memory = \"8G\"`"), "{reason}");
        assert!(
            reason
                .contains("\npids limit 1024 reached: a process could not fork (the default limit"),
            "{reason}"
        );
    }

    #[test]
    fn the_warning_names_controller_and_fix() {
        let line = warning(
            Controller::Memory,
            "the `memory` cgroup controller is not available: …",
        );
        assert!(
            line.starts_with("warning: isolated cannot enforce `memory` limits"),
            "{line}"
        );
    }
}
