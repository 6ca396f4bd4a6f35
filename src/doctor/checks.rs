//! One function per check, each a pure function of what was read from the host.

use super::{Check, Status};

pub(super) const PIDFD: (&str, &str) = (
    "every test: the runner holds each test by a pidfd (CLONE_PIDFD)",
    "Linux 5.3 or newer",
);
pub(super) const CLOSE_RANGE: (&str, &str) = (
    "closing the runner's inherited descriptors in a test (they stay close-on-exec)",
    "Linux 5.9 or newer",
);
pub(super) const MOUNT_SETATTR: (&str, &str) = (
    "a read-only host root at every level (rootfs = \"host\" falls back to the top mount)",
    "Linux 5.12 or newer",
);

pub(super) fn check(
    name: &'static str,
    ok: bool,
    found: String,
    disables: &'static str,
    fix: &str,
) -> Check {
    Check {
        name,
        status: if ok { Status::Ok } else { Status::Missing },
        found,
        disables,
        fix: if ok { String::new() } else { fix.to_string() },
        required: false,
    }
}

fn required(check: Check) -> Check {
    Check {
        required: true,
        ..check
    }
}

fn status_field<'a>(status: &'a str, field: &str) -> Option<&'a str> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(str::trim)
}

pub(super) fn root(status: Option<&str>) -> Check {
    let status = status.unwrap_or_default();
    let euid = status_field(status, "Uid:").and_then(|uids| uids.split_whitespace().nth(1));
    let sys_admin = status_field(status, "CapEff:")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .is_some_and(|caps| caps & (1 << 21) != 0);
    let found = match (euid, sys_admin) {
        (Some(uid), true) => format!("uid {uid}, with CAP_SYS_ADMIN"),
        (Some(uid), false) => format!("uid {uid}, without CAP_SYS_ADMIN"),
        (None, _) => "cannot read /proc/self/status".to_string(),
    };
    required(check(
        "root",
        euid == Some("0") && sys_admin,
        found,
        "every test, unless user namespaces allow rootless mode (without net = \"veth\", and \
         limits only in a cgroup delegated to the user: see `mode`)",
        "run the tests as root: `sudo -E cargo test`, or as root in CI; in a container, give it \
         CAP_SYS_ADMIN (`docker run --privileged`)",
    ))
}

pub(super) fn namespaces(exists: impl Fn(&str) -> bool) -> Check {
    let (have, lack): (Vec<&str>, Vec<&str>) = ["mnt", "pid", "uts", "ipc", "net"]
        .iter()
        .partition(|ns| exists(ns));
    let found = match lack.is_empty() {
        true => format!("{} (/proc/self/ns)", have.join(", ")),
        false => format!("no {} namespace (/proc/self/ns)", lack.join(", ")),
    };
    required(check(
        "namespaces",
        lack.is_empty(),
        found,
        "every test: each runs in new mount, PID, UTS, IPC and network namespaces",
        "a kernel built with CONFIG_NAMESPACES, CONFIG_PID_NS, CONFIG_UTS_NS, CONFIG_IPC_NS and \
         CONFIG_NET_NS",
    ))
}

/// pivot_root(2) cannot move the initramfs: `/` must be a real mount.
pub(super) fn pivot_root(mountinfo: &str) -> Check {
    // The last mount at `/` is the one on top.
    let root_fs = mountinfo
        .lines()
        .rev()
        .filter(|l| l.split(' ').nth(4) == Some("/"))
        .find_map(|l| l.split(" - ").nth(1)?.split(' ').next())
        .unwrap_or("unknown");
    let ok = root_fs != "rootfs";
    required(check(
        "pivot_root",
        ok,
        format!("/ is {root_fs}; mount namespaces (/proc/self/ns/mnt)"),
        "every test: each pivots into its own root",
        "/ is the initramfs, which pivot_root cannot move: boot with a real root filesystem, or \
         switch_root into a tmpfs first",
    ))
}

pub(super) fn kernel_filesystems(filesystems: &str) -> Check {
    let known: Vec<&str> = filesystems
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    let lack: Vec<&str> = ["proc", "sysfs", "tmpfs", "devpts"]
        .into_iter()
        .filter(|fs| !known.contains(fs))
        .collect();
    let found = match lack.is_empty() {
        true => "proc, sysfs, tmpfs, devpts (/proc/filesystems)".to_string(),
        false => format!("no {} in /proc/filesystems", lack.join(", ")),
    };
    required(check(
        "filesystems",
        lack.is_empty(),
        found,
        "every test: each gets a fresh /proc, /sys, /dev, /dev/pts, /tmp and /run",
        "a kernel with CONFIG_PROC_FS, CONFIG_SYSFS, CONFIG_TMPFS and CONFIG_UNIX98_PTYS",
    ))
}

/// `6.18.44-fc-v669` → (6, 18).
pub(super) fn version(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

pub(super) fn kernel_feature(
    name: &'static str,
    kernel: Option<(u32, u32)>,
    since: (u32, u32),
    (disables, fix): (&'static str, &str),
) -> Check {
    let Some((major, minor)) = kernel else {
        return Check {
            status: Status::Unknown,
            ..check(name, false, "kernel version unknown".into(), disables, fix)
        };
    };
    let ok = (major, minor) >= since;
    let found = format!("Linux {major}.{minor} (needs {}.{})", since.0, since.1);
    let check = check(name, ok, found, disables, fix);
    match name {
        "pidfd" => required(check),
        _ => check,
    }
}

pub(super) fn overlayfs(filesystems: &str) -> Check {
    let ok = filesystems
        .lines()
        .any(|l| l.split_whitespace().last() == Some("overlay"));
    check(
        "overlayfs",
        ok,
        match ok {
            true => "overlay (/proc/filesystems)".into(),
            false => "no overlay in /proc/filesystems".into(),
        },
        "fixture root filesystems (rootfs = \"alpine\", …); rootfs = \"host\" still works",
        "`modprobe overlay`, or a kernel with CONFIG_OVERLAY_FS",
    )
}

/// cgroup v1 controllers (a mount's super options also hold flags like `xattr`).
pub(super) const V1_CONTROLLERS: [&str; 14] = [
    "blkio",
    "cpu",
    "cpuacct",
    "cpuset",
    "devices",
    "freezer",
    "hugetlb",
    "memory",
    "misc",
    "net_cls",
    "net_prio",
    "perf_event",
    "pids",
    "rdma",
];

/// Where cgroup2 is mounted, from mountinfo.
pub(super) fn cgroup2_mount(mountinfo: &str) -> Option<&str> {
    mountinfo
        .lines()
        .find(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|r| r.starts_with("cgroup2 "))
        })
        .and_then(|l| l.split(' ').nth(4))
}

pub(super) fn cgroups(mountinfo: &str, v2_controllers: &str) -> Check {
    let mut v1: Vec<&str> = mountinfo
        .lines()
        .filter_map(|l| l.split(" - ").nth(1))
        .filter(|rest| rest.starts_with("cgroup "))
        .filter_map(|rest| rest.split(' ').nth(2))
        .flat_map(|options| options.split(','))
        .filter(|o| V1_CONTROLLERS.contains(o))
        .collect();
    v1.sort_unstable();
    v1.dedup();
    let v2: Vec<&str> = v2_controllers.split_whitespace().collect();
    let v2_at = cgroup2_mount(mountinfo);
    let v2_text = |at: &str| match v2.is_empty() {
        true => format!("cgroup2 at {at} (no controllers)"),
        false => format!("cgroup2 at {at} ({})", v2.join(", ")),
    };
    let found = match (v1.is_empty(), v2_at) {
        (true, None) => "no cgroup filesystem mounted".to_string(),
        (true, Some(at)) => format!("v2: {}", v2_text(at)),
        (false, None) => format!("v1: {}", v1.join(", ")),
        (false, Some(at)) => format!("hybrid: v1 {}; {}", v1.join(", "), v2_text(at)),
    };
    let lack: Vec<&str> = ["cpu", "memory", "pids"]
        .into_iter()
        .filter(|c| !v1.contains(c) && !v2.contains(c))
        .collect();
    let fix = match v2_at {
        Some(at) if v1.is_empty() => format!(
            "enable the controllers for our subtree: `echo '+{}' > {at}/cgroup.subtree_control` \
             (or a kernel with CONFIG_MEMCG, CONFIG_CGROUP_PIDS, CONFIG_CGROUP_SCHED)",
            lack.join(" +"),
        ),
        _ => "mount cgroup2 (`mount -t cgroup2 none /sys/fs/cgroup`) or the v1 cpu, memory and \
              pids hierarchies"
            .to_string(),
    };
    let found = match lack.is_empty() || (v1.is_empty() && v2_at.is_none()) {
        true => found,
        false => format!("{found}; no {}", lack.join(", ")),
    };
    let disables = "the memory, pids and cpu limits";
    check("cgroups", lack.is_empty(), found, disables, &fix)
}

/// For rootless mode: may an unprivileged user create a user namespace?
pub(super) fn user_namespaces(has_ns: bool, read: &dyn Fn(&str) -> Option<String>) -> Check {
    let value = |path: &str| read(path).map(|v| v.trim().to_string());
    let max = value("/proc/sys/user/max_user_namespaces");
    let (ok, found, fix) = if !has_ns {
        (
            false,
            "no user namespaces (/proc/self/ns/user)".into(),
            "a kernel with CONFIG_USER_NS",
        )
    } else if let Some((why, fix)) = crate::sys::user_namespaces_blocked(read) {
        (false, why.to_string(), fix)
    } else {
        let max = max.unwrap_or_else(|| "?".into());
        (
            true,
            format!("allowed (user.max_user_namespaces = {max})"),
            "",
        )
    };
    check(
        "user namespaces",
        ok,
        found,
        "rootless mode: running the tests as a normal user",
        fix,
    )
}
