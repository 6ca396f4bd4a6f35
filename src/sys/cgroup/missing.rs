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
}

impl Missing {
    /// The controller that is missing.
    pub(crate) fn controller(&self) -> Controller {
        match self {
            Missing::Absent { controller, .. } | Missing::NotEnabled { controller, .. } => {
                *controller
            }
            Missing::NoCpuQuota { .. } => Controller::Cpu,
        }
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
    }
}
