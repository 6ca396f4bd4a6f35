//! Why the cgroups of a run or a test could not be set up.

use std::path::PathBuf;

use crate::sys::error::{Errno, SysError};

/// Cgroups cannot be used for this run, or one test's group could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CgroupError {
    #[error(
        "no cgroup filesystem is mounted (none in /proc/self/mountinfo){}",
        if *.kernel_has_cgroup2 {
            ": mount the unified hierarchy with `mount -t cgroup2 none /sys/fs/cgroup`"
        } else {
            ", and this kernel lists no cgroup2 in /proc/filesystems: it was built without \
             cgroups"
        }
    )]
    NotMounted { kernel_has_cgroup2: bool },
    #[error("failed to read the mounted cgroup hierarchies")]
    Mounts(#[source] SysError),
    #[error("failed to prepare the parent cgroup {}{}", .path.display(), hint(.source))]
    Parent {
        path: PathBuf,
        #[source]
        source: SysError,
    },
    #[error("failed to create the test's cgroup{}", hint(.0))]
    Create(#[source] SysError),
    #[error("failed to set the test's {what} limit")]
    Limit {
        what: &'static str,
        #[source]
        source: SysError,
    },
}

/// The fix, when a cgroup operation fails for a reason of the machine's.
fn hint(error: &SysError) -> &'static str {
    match error.errno {
        Errno::EROFS => {
            " (the cgroup filesystem is mounted read-only, as in a container started without \
             --privileged: mount it read-write, or run the tests outside the container)"
        }
        Errno::EACCES | Errno::EPERM => {
            " (permission denied although this runs as root: a container or security module \
             forbids creating cgroups; allow it, e.g. docker run --privileged)"
        }
        _ => "",
    }
}
