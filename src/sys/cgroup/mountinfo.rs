//! Reading `/proc/self/mountinfo` for the cgroup hierarchies mounted here.

use std::path::PathBuf;

/// One cgroup filesystem mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CgroupMount {
    /// Where it is mounted: `/sys/fs/cgroup/memory`, `/sys/fs/cgroup`.
    pub mount_point: PathBuf,
    /// `cgroup2` (the unified hierarchy) or `cgroup` (a v1 hierarchy).
    pub unified: bool,
    /// For v1: the controllers bound to it (`memory`, `cpu`, `cpuacct`…), from the super
    /// options. Empty for v2, and for a v1 hierarchy with only a name (`name=systemd`).
    pub controllers: Vec<String>,
    /// Whether it shows the hierarchy's root (`/`), not a subtree bind-mounted in.
    pub at_root: bool,
    /// The group of the hierarchy it shows (`/`, or `/docker/abc` for a subtree): paths in
    /// `/proc/self/cgroup` are below the hierarchy's root, so below this one at the mount point.
    pub root: PathBuf,
    /// v2's `nsdelegate`: a cgroup namespace's root group's files (but `cgroup.procs`,
    /// `cgroup.threads`, `cgroup.subtree_control`) cannot be written from inside it.
    pub nsdelegate: bool,
}

/// Every cgroup and cgroup2 mount in `mountinfo`, in order.
pub(super) fn cgroup_mounts(mountinfo: &str) -> Vec<CgroupMount> {
    mountinfo.lines().filter_map(parse_line).collect()
}

/// `36 25 0:31 / /sys/fs/cgroup/memory rw,relatime shared:15 - cgroup cgroup rw,memory`
fn parse_line(line: &str) -> Option<CgroupMount> {
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let root = fields.nth(3)?;
    let mount_point = fields.next()?;
    let mut after = after.split(' ');
    let fstype = after.next()?;
    let super_opts = after.nth(1).unwrap_or("");
    let unified = match fstype {
        "cgroup2" => true,
        "cgroup" => false,
        _ => return None,
    };
    let controllers = if unified {
        Vec::new()
    } else {
        super_opts
            .split(',')
            .filter(|o| !NOT_CONTROLLERS.contains(o) && !o.contains('='))
            .map(str::to_owned)
            .collect()
    };
    Some(CgroupMount {
        mount_point: PathBuf::from(unescape_mountinfo(mount_point)),
        unified,
        controllers,
        at_root: root == "/",
        root: PathBuf::from(unescape_mountinfo(root)),
        nsdelegate: unified && super_opts.split(',').any(|o| o == "nsdelegate"),
    })
}

/// Super options of a v1 cgroup mount that are not controller names.
const NOT_CONTROLLERS: &[&str] = &[
    "rw",
    "ro",
    "noprefix",
    "clone_children",
    "xattr",
    "cpuset_v2_mode",
];

/// Undoes mountinfo's octal escapes (`\040` is a space; space, tab, newline and backslash are
/// escaped).
pub(crate) fn unescape_mountinfo(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
50 23 0:40 /docker/abc /mnt/my\\040cg rw - cgroup cgroup rw,pids
";

    #[test]
    fn finds_v1_controllers_and_the_unified_mount() {
        let mounts = cgroup_mounts(HYBRID);
        assert_eq!(mounts.len(), 5, "{mounts:#?}");
        assert_eq!(
            mounts[0].mount_point,
            PathBuf::from("/sys/fs/cgroup/cpu,cpuacct")
        );
        assert_eq!(mounts[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(mounts[1].controllers, ["memory"]);
        assert!(
            mounts[2].controllers.is_empty(),
            "name=systemd is no controller"
        );
        assert!(mounts[3].unified && mounts[3].controllers.is_empty());
        assert!(mounts[3].nsdelegate && !mounts[1].nsdelegate);
        assert_eq!(mounts[4].mount_point, PathBuf::from("/mnt/my cg"));
        assert!(!mounts[4].at_root);
        assert_eq!(mounts[4].root, PathBuf::from("/docker/abc"));
    }

    #[test]
    fn pure_v2() {
        let mounts = cgroup_mounts(
            "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
        );
        assert_eq!(mounts.len(), 1);
        assert!(mounts[0].unified && mounts[0].at_root);
    }
}
