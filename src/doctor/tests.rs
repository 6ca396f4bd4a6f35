use super::checks::*;
use super::*;

const HYBRID: &str = "\
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,xattr,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

#[test]
fn cgroups_tell_v1_v2_and_hybrid_apart() {
    let hybrid = cgroups(HYBRID, "hugetlb\n");
    assert_eq!(hybrid.status, Status::Ok);
    assert_eq!(
        hybrid.found,
        "hybrid: v1 cpu, memory, pids; cgroup2 at /sys/fs/cgroup/unified (hugetlb)"
    );
    let v2 = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    let unified = cgroups(v2, "cpuset cpu io memory pids\n");
    assert_eq!(unified.status, Status::Ok, "{unified:?}");
    assert!(unified.found.starts_with("v2: cgroup2 at /sys/fs/cgroup"));
    let partial = cgroups(v2, "io memory\n");
    assert_eq!(partial.status, Status::Missing);
    assert!(
        partial.found.ends_with("; no cpu, pids"),
        "{}",
        partial.found
    );
    assert!(partial
        .fix
        .contains("'+cpu +pids' > /sys/fs/cgroup/cgroup.subtree_control"));
    assert_eq!(cgroups("", "").found, "no cgroup filesystem mounted");
}

#[test]
fn root_needs_uid_0_and_cap_sys_admin() {
    let root = "Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n";
    assert_eq!(super::root(Some(root)).status, Status::Ok);
    let user = "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n";
    let check = super::root(Some(user));
    assert_eq!(check.found, "uid 1000, without CAP_SYS_ADMIN");
    assert!(check.fix.contains("sudo -E cargo test"), "{check:?}");
}

#[test]
fn user_namespaces_name_the_sysctl_that_blocks_them() {
    let files = |restricted: &'static str| {
        move |path: &str| match path {
            "/proc/sys/user/max_user_namespaces" => Some("15000\n".to_string()),
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns" => {
                Some(restricted.to_string())
            }
            _ => None,
        }
    };
    let blocked = user_namespaces(true, &files("1\n"));
    assert_eq!(blocked.status, Status::Missing);
    assert!(blocked
        .fix
        .contains("apparmor_restrict_unprivileged_userns=0"));
    assert_eq!(user_namespaces(true, &files("0\n")).status, Status::Ok);
    assert!(!user_namespaces(true, &files("0")).required);
}

#[test]
fn kernel_versions_and_the_initramfs() {
    assert_eq!(version("6.18.44-fc-v669"), Some((6, 18)));
    assert_eq!(version("5.4.0-150-generic"), Some((5, 4)));
    let old = kernel_feature("mount_setattr", Some((5, 4)), (5, 12), MOUNT_SETATTR);
    assert_eq!(old.status, Status::Missing);
    assert!(!old.required);
    assert!(kernel_feature("pidfd", Some((5, 4)), (5, 3), PIDFD).required);
    let initramfs = "1 1 0:1 / / rw - rootfs rootfs rw\n";
    assert_eq!(pivot_root(initramfs).status, Status::Missing);
    assert_eq!(pivot_root(HYBRID).status, Status::Ok);
}

/// This machine, checked against what it has: root, overlayfs, its cgroup layout (v1, v2 or
/// hybrid, read here from mountinfo), and netem (tried for real in a network namespace).
#[test]
fn reports_this_machine() {
    let report = doctor();
    let text = report.to_string();
    let status = |name: &str| report.check(name).unwrap().status;
    for name in [
        "root",
        "namespaces",
        "pivot_root",
        "filesystems",
        "pidfd",
        "overlayfs",
    ] {
        assert_eq!(status(name), Status::Ok, "{name}:\n{text}");
    }
    assert!(report.ready(), "{text}");
    assert!(text.contains("\n  ok       overlayfs        overlay (/proc/filesystems)\n"));

    let (v1_memory, v2_at) = cgroup_layout();
    let cgroups = report.check("cgroups").unwrap();
    let layout = match (v1_memory.is_some(), &v2_at) {
        (true, Some(_)) => "hybrid: v1 ",
        (true, None) => "v1: ",
        (false, _) => "v2: ",
    };
    assert!(cgroups.found.starts_with(layout), "{layout}\n{text}");
    let v2_memory = v2_at.is_some_and(|at| {
        std::fs::read_to_string(format!("{at}/cgroup.controllers"))
            .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"))
    });
    if v1_memory == Some(true) || v2_memory {
        assert!(cgroups.found.contains("memory"), "{text}");
    }
    assert_eq!(status("veth"), Status::Ok, "{text}");

    match netem_works() {
        true => assert_eq!(status("netem"), Status::Ok, "{text}"),
        false => {
            assert_eq!(status("netem"), Status::Missing, "{text}");
            assert!(
                text.contains("fix: a kernel with CONFIG_NET_SCH_NETEM"),
                "{text}"
            );
        }
    }
}

/// From /proc/self/mountinfo: whether a v1 hierarchy is mounted (and whether one has the
/// memory controller), and where cgroup2 is mounted.
fn cgroup_layout() -> (Option<bool>, Option<String>) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let (mut v1_memory, mut v2_at) = (None, None);
    for line in mountinfo.lines() {
        let (mount, fs) = line.split_once(" - ").unwrap();
        let mount_point = mount.split(' ').nth(4).unwrap();
        let mut fs = fs.split(' ');
        match fs.next() {
            Some("cgroup") => {
                let options: Vec<&str> = fs.nth(1).unwrap().split(',').collect();
                // A named hierarchy (systemd's) holds no controller: it makes no v1 layout.
                if options.iter().any(|o| V1_CONTROLLERS.contains(o)) {
                    let memory = options.contains(&"memory");
                    v1_memory = Some(v1_memory.unwrap_or(false) || memory);
                }
            }
            Some("cgroup2") => v2_at = Some(mount_point.to_string()),
            _ => {}
        }
    }
    (v1_memory, v2_at)
}

/// Whether a netem qdisc can be put on a veth in a network namespace of our own.
fn netem_works() -> bool {
    std::thread::spawn(|| {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let mut netlink = crate::sys::Netlink::open().unwrap();
        netlink.add_veth("dr-a", "dr-b", None).unwrap();
        let delay = std::time::Duration::from_millis(1);
        netlink
            .set_netem("dr-a", delay, std::time::Duration::ZERO, 0.0)
            .is_ok()
    })
    .join()
    .unwrap()
}

#[test]
fn the_mode_names_where_rootless_limits_go() {
    use super::mode::{mode, Delegation};
    use crate::sys::cgroup::{Controller, Missing};
    use std::path::PathBuf;

    assert!(mode(true, true, &Delegation::default())
        .found
        .starts_with("root: "));
    let scope =
        "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope";
    let delegated = Delegation {
        places: vec![(PathBuf::from(scope), Controller::ALL.to_vec())],
        ..Delegation::default()
    };
    let check = mode(false, true, &delegated);
    assert_eq!(check.status, Status::Ok);
    assert_eq!(
        check.found,
        format!("rootless: no veth, limits through the delegated cgroup {scope}")
    );
    let refused = |controller| Missing::NotDelegated {
        controller,
        unified: true,
        why: "uid 1000's cgroup /sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope is \
              not delegated to it (its cgroup.procs is not writable)"
            .into(),
    };
    let none = Delegation {
        refused: Controller::ALL.map(refused).to_vec(),
        ..Delegation::default()
    };
    let check = mode(false, true, &none);
    assert_eq!(check.status, Status::Missing);
    assert!(
        check
            .found
            .starts_with("rootless: no veth, no limits (no delegated cgroup: uid 1000's cgroup"),
        "{check:?}"
    );
    assert!(
        check
            .fix
            .contains("systemd-run --user --scope -p Delegate=yes"),
        "{check:?}"
    );
    let partial = Delegation {
        places: vec![(PathBuf::from(scope), vec![Controller::Memory])],
        refused: vec![refused(Controller::Cpu)],
        ..Delegation::default()
    };
    let check = mode(false, true, &partial);
    assert!(
        check.found.contains(&format!("{scope}; no cpu limits (")),
        "{check:?}"
    );
}
