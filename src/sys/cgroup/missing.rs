//! A limit that cannot be enforced on this machine, and how to make it enforceable.

use std::fmt;
use std::path::PathBuf;

use super::settings::Controller;
use crate::sys::error::{Errno, SysError};

/// Why a controller is not available to the tests of this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Neither the unified hierarchy offers it nor is a v1 hierarchy of it mounted.
    Absent {
        controller: Controller,
        /// The unified hierarchy's mount point, if there is one.
        unified: Option<PathBuf>,
    },
    /// The unified hierarchy offers it, but enabling it for child groups failed.
    NotEnabled {
        controller: Controller,
        error: SysError,
    },
    /// A v1 `cpu` hierarchy without CFS bandwidth control (no `cpu.cfs_quota_us`).
    NoCpuQuota { mount: PathBuf },
    /// Rootless: the machine has the controller, but this user's own cgroup where it is (v2
    /// when `unified`) is not delegated to them, does not offer it, or could not be prepared.
    NotDelegated {
        controller: Controller,
        unified: bool,
        /// A clause: "uid 1000's cgroup … is not delegated to it (… is not writable)".
        why: String,
    },
}

impl Missing {
    /// The controller that is missing.
    pub(crate) fn controller(&self) -> Controller {
        match self {
            Missing::Absent { controller, .. }
            | Missing::NotEnabled { controller, .. }
            | Missing::NotDelegated { controller, .. } => *controller,
            Missing::NoCpuQuota { .. } => Controller::Cpu,
        }
    }

    /// Rootless, for a limit `what` (`memory = "64M"`, "the default `pids` limit") that needs
    /// a delegated cgroup: the sentence saying so, why there is none and how to get one. `None`
    /// when the controller is missing for another reason.
    pub(crate) fn needs_delegation(&self, what: &str) -> Option<String> {
        let Missing::NotDelegated { why, .. } = self else {
            return None;
        };
        let fix = self.delegation_fix()?;
        Some(format!(
            "{what} needs a cgroup this user may write, and {why}: {fix}"
        ))
    }

    /// Rootless: how to get a delegated cgroup for this controller's hierarchy.
    pub(crate) fn delegation_fix(&self) -> Option<&'static str> {
        let Missing::NotDelegated { unified, .. } = self else {
            return None;
        };
        Some(match unified {
            true => "run under `systemd-run --user --scope -p Delegate=yes cargo test`, or as root",
            false => {
                "have root make a cgroup of each of these hierarchies yours and run in it \
                 (`sudo cgcreate -a $USER -t $USER -g memory,pids,cpu:$USER`, then `cgexec -g \
                 memory,pids,cpu:$USER cargo test`), or as root"
            }
        })
    }
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Absent {
                controller,
                unified: Some(root),
            } => {
                let name = controller.name();
                write!(
                    f,
                    "the `{name}` cgroup controller is not available: it is not listed in {} \
                     and no cgroup v1 `{name}` hierarchy is mounted; enable it in the kernel \
                     (some kernels need the boot parameter cgroup_enable={name})",
                    root.join("cgroup.controllers").display()
                )
            }
            Missing::Absent {
                controller,
                unified: None,
            } => {
                let name = controller.name();
                write!(
                    f,
                    "the `{name}` cgroup controller is not available: no cgroup v1 `{name}` \
                     hierarchy is mounted and there is no cgroup2 mount; mount one (`mount -t \
                     cgroup -o {name} cgroup /sys/fs/cgroup/{name}`)"
                )
            }
            Missing::NotEnabled { controller, error } => {
                let name = controller.name();
                write!(
                    f,
                    "failed to enable the `{name}` cgroup controller: {error}"
                )?;
                if error.errno == Errno::EBUSY {
                    write!(
                        f,
                        " (cgroup v2 allows no controllers below a group that holds \
                         processes: this is a container whose cgroup root holds its \
                         processes; move them into a child group first, as the docker:dind \
                         entrypoint does)"
                    )?;
                }
                Ok(())
            }
            Missing::NotDelegated { controller, .. } => {
                let what = format!("a `{}` limit", controller.name());
                f.write_str(&self.needs_delegation(&what).unwrap_or_default())
            }
            Missing::NoCpuQuota { mount } => write!(
                f,
                "the `cpu` cgroup controller at {} has no cpu.cfs_quota_us: this kernel was \
                 built without CONFIG_CFS_BANDWIDTH",
                mount.display()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_names_the_controller_and_the_fix() {
        let absent = Missing::Absent {
            controller: Controller::Memory,
            unified: Some(PathBuf::from("/sys/fs/cgroup")),
        };
        let text = absent.to_string();
        assert!(text.contains("`memory`"), "{text}");
        assert!(text.contains("/sys/fs/cgroup/cgroup.controllers"), "{text}");
        assert!(text.contains("cgroup_enable=memory"), "{text}");

        let busy = Missing::NotEnabled {
            controller: Controller::Pids,
            error: SysError::at(
                "write",
                "/sys/fs/cgroup/cgroup.subtree_control",
                Errno::EBUSY,
            ),
        };
        let text = busy.to_string();
        assert!(text.starts_with("failed to enable the `pids` cgroup controller: write(/sys/fs/cgroup/cgroup.subtree_control) => EBUSY"), "{text}");
        assert!(text.contains("docker:dind"), "{text}");
        assert_eq!(busy.controller(), Controller::Pids);
        assert_eq!(busy.needs_delegation("pids = 16"), None);
    }

    #[test]
    fn rootless_names_the_delegation_to_get() {
        let v2 = Missing::NotDelegated {
            controller: Controller::Memory,
            unified: true,
            why: "uid 1000's cgroup /sys/fs/cgroup/user.slice is not delegated to it".into(),
        };
        assert_eq!(
            v2.needs_delegation("memory = \"64M\"").unwrap(),
            "memory = \"64M\" needs a cgroup this user may write, and uid 1000's cgroup \
             /sys/fs/cgroup/user.slice is not delegated to it: run under `systemd-run --user \
             --scope -p Delegate=yes cargo test`, or as root"
        );
        assert!(v2.to_string().starts_with("a `memory` limit needs"), "{v2}");
        let v1 = Missing::NotDelegated {
            controller: Controller::Pids,
            unified: false,
            why: "…".into(),
        };
        assert!(
            v1.to_string().contains("cgcreate -a $USER -t $USER"),
            "{v1}"
        );
    }
}
