//! `isolated::doctor()` and `--isolated-doctor`: what this machine supports, what each missing
//! piece disables, and how to fix it. Reads files under `/proc` and `/sys` only: no namespace
//! is created, nothing is mounted or loaded.

mod checks;
mod drivers;
mod mode;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;

use checks::{
    cgroup2_mount, cgroups, kernel_feature, kernel_filesystems, namespaces, overlayfs, pivot_root,
    root, user_namespaces, version, CLOSE_RANGE, MOUNT_SETATTR, PIDFD,
};
use drivers::{driver, kernel_config, netem, veth};
use mode::{mode, Delegation};

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The machine has it.
    Ok,
    /// The machine lacks it: see [`Check::disables`] and [`Check::fix`].
    Missing,
    /// The machine does not say (no kernel config to read, say).
    Unknown,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Check {
    /// What was checked: `root`, `overlayfs`, `cgroups`, …
    pub name: &'static str,
    /// Whether the machine has it.
    pub status: Status,
    /// What was found, e.g. `hybrid: v1 cpu, memory, pids; cgroup2 at /sys/fs/cgroup/unified`.
    pub found: String,
    /// What does not work without it.
    pub disables: &'static str,
    /// How to get it; empty when the check passed.
    pub fix: String,
    /// Whether every test needs it (rather than one feature).
    pub required: bool,
}

/// What [`doctor`] found, one [`Check`] per feature; `Display`s as a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// In the order they are printed.
    pub checks: Vec<Check>,
}

impl Report {
    /// The check named `name`.
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// Whether every check that all tests need passed.
    pub fn ready(&self) -> bool {
        self.checks
            .iter()
            .all(|c| !c.required || c.status == Status::Ok)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "isolated doctor: what this machine supports")?;
        for check in &self.checks {
            let status = match check.status {
                Status::Ok => "ok",
                Status::Missing => "MISSING",
                Status::Unknown => "unknown",
            };
            writeln!(f, "  {status:<8} {:<16} {}", check.name, check.found)?;
            if check.status != Status::Ok {
                writeln!(f, "  {:<8} {:<16} disables: {}", "", "", check.disables)?;
                writeln!(f, "  {:<8} {:<16} fix: {}", "", "", check.fix)?;
            }
        }
        match self.ready() {
            true => write!(f, "ready: isolated tests can run here"),
            false => write!(
                f,
                "NOT READY: fix the MISSING lines that disable every test"
            ),
        }
    }
}

/// Checks what this machine supports. Cheap and free of side effects: it only reads files.
pub fn doctor() -> Report {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let exists = |path: &str| Path::new(path).symlink_metadata().is_ok();
    let release = read("/proc/sys/kernel/osrelease").unwrap_or_default();
    let release = release.trim();
    let config = kernel_config(release);
    let filesystems = read("/proc/filesystems").unwrap_or_default();
    let mountinfo = read("/proc/self/mountinfo").unwrap_or_default();
    let kernel = version(release);
    let v2_controllers = cgroup2_mount(&mountinfo)
        .and_then(|mnt| read(&format!("{mnt}/cgroup.controllers")))
        .unwrap_or_default();
    let driver = |name: &str, option: &str| driver(name, option, config.as_deref(), release);
    let user_namespaces = user_namespaces(exists("/proc/self/ns/user"), &|p| read(p));
    // Without root, the runner goes rootless where user namespaces allow it.
    let root = Check {
        required: user_namespaces.status != Status::Ok,
        ..root(read("/proc/self/status").as_deref())
    };
    let is_root = root.status == Status::Ok;
    let rootless = !is_root && user_namespaces.status == Status::Ok;
    let delegation = match rootless {
        true => Delegation::of_this_user(),
        false => Delegation::default(),
    };
    let mode = mode(is_root, user_namespaces.status == Status::Ok, &delegation);
    Report {
        checks: vec![
            root,
            namespaces(|ns| exists(&format!("/proc/self/ns/{ns}"))),
            pivot_root(&mountinfo),
            kernel_filesystems(&filesystems),
            kernel_feature("pidfd", kernel, (5, 3), PIDFD),
            kernel_feature("close_range", kernel, (5, 9), CLOSE_RANGE),
            kernel_feature("mount_setattr", kernel, (5, 12), MOUNT_SETATTR),
            overlayfs(&filesystems),
            cgroups(&mountinfo, &v2_controllers),
            veth(exists("/proc/self/ns/net"), driver("veth", "CONFIG_VETH")),
            netem(driver("sch_netem", "CONFIG_NET_SCH_NETEM")),
            user_namespaces,
            mode,
        ],
    }
}

/// `--isolated-doctor`: prints the report and exits, 0 when every test can run, else 1.
pub(crate) fn run_if_asked() {
    if std::env::args().skip(1).any(|a| a == "--isolated-doctor") {
        let report = doctor();
        println!("{report}");
        std::process::exit(if report.ready() { 0 } else { 1 })
    }
}
