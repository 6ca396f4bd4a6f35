//! Tests that try something hostile and check it was contained. `tests/adversarial.rs` runs
//! this suite and checks what the runner printed and that the host is unchanged.
//!
//! Two fail on purpose: `a_child_kills_every_process_it_sees` (the body is one of the processes
//! killed) and `reboots_with_sys_boot` (the kernel kills the test's PID 1).

use std::io::Error;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::Command;

use isolated::isolated;

/// A capability set from `/proc/self/status` (`CapEff`, `CapBnd`, …).
fn caps(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"));
    u64::from_str_radix(hex.trim(), 16).unwrap()
}

const CAP_SYS_MODULE: u64 = 1 << 16;
const CAP_SYS_ADMIN: u64 = 1 << 21;
const CAP_SYS_BOOT: u64 = 1 << 22;
const CAP_SYS_TIME: u64 = 1 << 25;

/// The errno of the last failed libc call.
fn errno() -> i32 {
    Error::last_os_error().raw_os_error().unwrap()
}

/// A reboot inside a PID namespace is safe only because it is one: PID 2 exists in the host's
/// namespace too (kthreadd), but there it is never a userspace process whose parent is PID 1.
fn assert_in_the_tests_pid_namespace() {
    assert_eq!(
        std::process::id(),
        2,
        "not the test body: refusing to reboot"
    );
    assert_eq!(std::os::unix::process::parent_id(), 1);
}

/// The body is spared by `kill(-1)`: only its namespace's other processes (not PID 1) die.
#[isolated(rootfs = "alpine")]
fn kills_every_process_it_sees() {
    let mut sleepers: Vec<_> = (0..3)
        .map(|_| Command::new("sleep").arg("1000").spawn().unwrap())
        .collect();
    // SAFETY: kill(2) with plain integers.
    let rc = unsafe { libc::kill(-1, libc::SIGKILL) };
    assert_eq!(rc, 0, "{}", Error::last_os_error());
    for sleeper in &mut sleepers {
        assert_eq!(sleeper.wait().unwrap().signal(), Some(libc::SIGKILL));
    }
    assert_eq!(std::os::unix::process::parent_id(), 1, "our init survives");
    let left: Vec<_> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect();
    assert_eq!(left, [1, 2], "only the init and the body are left");
}

/// `kill -9 -1` from a shell kills the body too; the init survives to report it.
#[isolated(rootfs = "alpine")]
fn a_child_kills_every_process_it_sees() {
    let _ = Command::new("sh").args(["-c", "kill -9 -1"]).status();
    std::thread::sleep(std::time::Duration::from_secs(5));
    unreachable!("the body should have been killed");
}

/// Without CAP_SYS_ADMIN the read-only host root cannot be remounted at all.
#[isolated(rootfs = "host-ro", caps = ["-SYS_ADMIN"])]
fn remounts_the_hosts_root_without_sys_admin() {
    assert_eq!(caps("CapBnd:") & CAP_SYS_ADMIN, 0);
    let out = Command::new("mount")
        .args(["-o", "remount,rw", "/"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "mount -o remount,rw / succeeded");
    // SAFETY: mount(2) with a NUL-terminated target and null source, type and data.
    let rc = unsafe {
        libc::mount(
            std::ptr::null(),
            c"/".as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT,
            std::ptr::null(),
        )
    };
    assert_eq!((rc, errno()), (-1, libc::EPERM));
    let write = std::fs::write("/isolated-adversarial-probe", "x").unwrap_err();
    assert_eq!(write.raw_os_error(), Some(libc::EROFS), "{write}");
}

/// CAP_SYS_MODULE is dropped: EPERM (ENOSYS on a kernel built without module support).
#[isolated(rootfs = "alpine")]
fn loads_a_kernel_module() {
    assert_eq!(caps("CapBnd:") & CAP_SYS_MODULE, 0);
    let modules = Path::new("/proc/modules").exists();
    let allowed = |errno| errno == libc::EPERM || (!modules && errno == libc::ENOSYS);
    let image = [0u8; 64];
    // SAFETY: init_module(2) with a valid buffer, its length and an empty parameter string.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_init_module,
            image.as_ptr(),
            image.len(),
            c"".as_ptr(),
        )
    };
    assert!(
        rc == -1 && allowed(errno()),
        "init_module: {}",
        Error::last_os_error()
    );
    let file = std::fs::File::open("/etc/alpine-release").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
    // SAFETY: finit_module(2) with an open descriptor, an empty parameter string, no flags.
    let rc = unsafe { libc::syscall(libc::SYS_finit_module, fd, c"".as_ptr(), 0) };
    assert!(
        rc == -1 && allowed(errno()),
        "finit_module: {}",
        Error::last_os_error()
    );
    let insmod = Command::new("insmod")
        .arg("/etc/alpine-release")
        .output()
        .unwrap();
    assert!(!insmod.status.success());
}

/// CAP_SYS_BOOT is dropped: reboot(2) is refused before the kernel looks at the namespace.
#[isolated(rootfs = "alpine")]
fn reboots() {
    assert_in_the_tests_pid_namespace();
    assert_eq!(caps("CapBnd:") & CAP_SYS_BOOT, 0);
    // SAFETY: reboot(2) with a valid command; it fails with EPERM here (checked above).
    let rc = unsafe { libc::reboot(libc::RB_AUTOBOOT) };
    assert_eq!((rc, errno()), (-1, libc::EPERM));
}

/// With CAP_SYS_BOOT given back (over the host's user namespace: `privileged`), reboot(2) in a
/// PID namespace kills that namespace's init: the runner reports the environment gone, and
/// nothing else happens.
#[isolated(rootfs = "alpine", privileged = true, caps = ["+SYS_BOOT"])]
fn reboots_with_sys_boot() {
    assert_in_the_tests_pid_namespace();
    assert_ne!(caps("CapEff:") & CAP_SYS_BOOT, 0);
    // SAFETY: reboot(2) in the test's own PID namespace (checked above): the kernel kills
    // this namespace's init instead of restarting the machine.
    unsafe { libc::reboot(libc::RB_AUTOBOOT) };
    unreachable!("reboot returned: {}", Error::last_os_error());
}

/// A file of the host's checkout, which `crate_dir = false` leaves out of a fixture root.
const CHECKOUT_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");

/// PID 1 is our init, whose root is the test's root: nothing of the host behind it.
#[isolated(rootfs = "alpine", crate_dir = false)]
fn reaches_the_host_through_proc_1_root() {
    let root = Path::new("/proc/1/root");
    assert_eq!(std::fs::read_link(root).unwrap(), Path::new("/"));
    assert!(root.join("etc/alpine-release").exists());
    let host_file = root.join(CHECKOUT_FILE.trim_start_matches('/'));
    assert!(!host_file.exists(), "{} is reachable", host_file.display());
    assert!(!Path::new(CHECKOUT_FILE).exists());
}

/// The classic escape: chroot into a subdirectory while the working directory stays outside
/// it, climb with `..`, chroot there. After pivot_root and a detached old root, the climb ends
/// at the test's own root.
#[isolated(rootfs = "alpine", crate_dir = false)]
fn escapes_the_chroot() {
    std::fs::create_dir_all("/jail").unwrap();
    std::os::unix::fs::chroot("/jail").unwrap();
    for _ in 0..64 {
        std::env::set_current_dir("..").unwrap();
    }
    std::os::unix::fs::chroot(".").unwrap();
    std::env::set_current_dir("/").unwrap();
    assert!(
        Path::new("/etc/alpine-release").exists(),
        "not the test's root"
    );
    assert!(!Path::new(CHECKOUT_FILE).exists(), "reached the host");
}

/// CAP_SYS_TIME is dropped: the clock is the host's, and stays so.
#[isolated(rootfs = "alpine")]
fn sets_the_clock() {
    assert_eq!(caps("CapBnd:") & CAP_SYS_TIME, 0);
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) into a valid timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
    assert_eq!(rc, 0);
    // The current time: even a success would not move the host's clock.
    // SAFETY: clock_settime(2) from a valid timespec.
    let rc = unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &now) };
    assert_eq!((rc, errno()), (-1, libc::EPERM));
    // busybox's `date -s` reports the failure but exits 0.
    let date = Command::new("date")
        .args(["-s", "2001-01-01"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&date.stderr);
    assert!(
        stderr.contains("Operation not permitted"),
        "date -s: {stderr}"
    );
}

/// `caps = ["+SYS_TIME"]` gives it back (and the test only reads it); over the host's clock
/// only with `privileged`.
#[isolated(rootfs = "alpine", privileged = true, caps = ["+SYS_TIME", "-NET_RAW"])]
fn caps_key_adds_and_drops() {
    assert_ne!(caps("CapEff:") & CAP_SYS_TIME, 0);
    assert_eq!(caps("CapBnd:") & (1 << 13), 0, "NET_RAW dropped");
}

/// no_new_privs: a setuid-root program run by an unprivileged user stays unprivileged.
#[isolated(rootfs = "alpine")]
fn setuid_binary_cannot_regain_capabilities() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    assert!(status.contains("\nNoNewPrivs:\t1\n"), "{status}");
    assert_eq!(caps("CapInh:"), 0);
    assert_eq!(caps("CapAmb:"), 0);
    assert_eq!(caps("CapEff:"), caps("CapBnd:"));
    // A setuid-root copy of a program that prints a file (busybox drops privileges itself).
    let suid = Path::new("/usr/local/bin/suid-iconv");
    std::fs::copy("/usr/bin/iconv", suid).unwrap();
    std::fs::set_permissions(suid, std::fs::Permissions::from_mode(0o4755)).unwrap();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let root = mountinfo
        .lines()
        .find(|l| l.split(' ').nth(4) == Some("/"))
        .unwrap();
    assert!(
        !root.contains("nosuid"),
        "setuid bits would be ignored anyway: {root}"
    );
    let out = Command::new(suid)
        .args(["-f", "UTF-8", "-t", "UTF-8", "/proc/self/status"])
        .uid(65534)
        .gid(65534)
        .output()
        .unwrap();
    let child = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{child}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        child.contains("\nUid:\t65534\t65534\t65534\t65534\n"),
        "{child}"
    );
    assert!(child.contains("\nCapEff:\t0000000000000000\n"), "{child}");
}

/// mount(2) of a fresh filesystem of `fstype` at `target`: Ok, or the errno.
fn mount_fresh(fstype: &str, target: &str, flags: libc::c_ulong, data: &str) -> Result<(), i32> {
    std::fs::create_dir_all(target).unwrap();
    let c = |s: &str| std::ffi::CString::new(s).unwrap();
    let (fstype, target, data) = (c(fstype), c(target), c(data));
    // SAFETY: mount(2) with valid NUL-terminated strings.
    let rc = unsafe {
        libc::mount(
            fstype.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            flags,
            data.as_ptr().cast(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(errno())
    }
}

/// Files written through the copy-on-write host root, which `tests/adversarial.rs` looks for on
/// the host afterwards.
pub const HOST_PROBES: [&str; 3] = [
    "/etc/isolated-cow-probe",
    "/usr/bin/isolated-cow-probe",
    "/root/isolated-cow-probe",
];

/// `rootfs = "host"` is the host's, copy-on-write: every write succeeds and stays the test's.
#[isolated]
fn writes_the_hosts_files_through_the_copy_on_write_root() {
    for path in HOST_PROBES {
        std::fs::write(path, "written inside").unwrap();
        assert_eq!(std::fs::read_to_string(path).unwrap(), "written inside");
    }
    std::fs::remove_file("/etc/hostname").unwrap();
    let checkout = env!("CARGO_MANIFEST_DIR");
    std::fs::write(format!("{checkout}/isolated-cow-probe"), "x").unwrap();
}

/// A unix socket the host listens on (`tests/adversarial.rs` makes it, in the checkout): the
/// copy-on-write root shows its file, but a connection through the overlay reaches nothing.
#[isolated]
fn connects_to_a_host_unix_socket() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.isolated-host.sock");
    let err = std::os::unix::net::UnixStream::connect(path).unwrap_err();
    let errno = err.raw_os_error();
    // ENOENT where the checkout lies under /tmp or /run, which every test gets fresh.
    assert!(
        errno == Some(libc::ECONNREFUSED) || errno == Some(libc::ENOENT),
        "{err}"
    );
}

/// The same socket, in the crate directory every fixture root gets: read-only and through an
/// overlay, so its file shows and a connection reaches nothing.
#[isolated(rootfs = "alpine")]
fn connects_to_a_host_unix_socket_in_the_crate_dir() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/.isolated-host.sock");
    assert!(Path::new(path).exists(), "the crate directory is there");
    let err = std::os::unix::net::UnixStream::connect(path).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ECONNREFUSED), "{err}");
}

/// Every path under `dir`, not following symbolic links.
fn walk(dir: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![std::path::PathBuf::from(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            }
            found.push(entry.path());
        }
    }
    found
}

/// The attempts of a test that means to reach the host's kernel through a filesystem: each is
/// refused, and `tests/adversarial.rs` checks the host afterwards.
mod host_kernel {
    use super::*;

    /// A v1 cgroup hierarchy (its `release_agent` runs as the host's root): a new one is not
    /// mountable in a user namespace; an existing one mounts with the test's own group as its
    /// root (its cgroup namespace), which has no `release_agent` and not the group that holds
    /// the test's limits.
    #[isolated(rootfs = "alpine")]
    fn mounts_a_v1_cgroup_for_its_release_agent() {
        assert_eq!(
            mount_fresh("cgroup", "/mnt/cg", 0, "none,name=isolated"),
            Err(libc::EPERM)
        );
        if mount_fresh("cgroup", "/mnt/cg", 0, "memory").is_ok() {
            assert!(!std::path::Path::new("/mnt/cg/release_agent").exists());
            let subgroups = std::fs::read_dir("/mnt/cg")
                .unwrap()
                .filter(|e| e.as_ref().unwrap().path().is_dir())
                .count();
            assert_eq!(subgroups, 0, "the test's group is a leaf");
        }
    }

    /// A fresh, writable procfs would make `core_pattern` and `vm.*` writable (root inside is
    /// root to the sysctl files): refused. A read-only one, in a PID namespace of the test's
    /// own, is allowed, and read-only it stays.
    #[isolated(rootfs = "alpine")]
    fn mounts_a_fresh_proc_to_write_core_pattern_and_vm_sysctls() {
        assert_eq!(mount_fresh("proc", "/mnt/proc", 0, ""), Err(libc::EPERM));
        for sysctl in ["kernel/core_pattern", "vm/drop_caches", "vm/swappiness"] {
            let err = std::fs::write(format!("/proc/sys/{sysctl}"), "|/tmp/payload").unwrap_err();
            assert_eq!(err.raw_os_error(), Some(libc::EROFS), "{sysctl}: {err}");
        }
        let script = "mount -t proc -o ro proc /mnt/proc && \
                      ! echo 1 > /mnt/proc/sys/vm/drop_caches && \
                      ! mount -o remount,rw /mnt/proc && echo contained";
        let out = Command::new("unshare")
            .args(["-p", "-f", "sh", "-c", script])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("contained"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// binfmt_misc: refused, or (Linux 6.7+) an instance of the test's own user namespace,
    /// gone with it. The host's list of handlers is checked afterwards.
    #[isolated(rootfs = "alpine")]
    fn registers_a_binfmt_misc_handler() {
        match mount_fresh("binfmt_misc", "/mnt/binfmt", 0, "") {
            Err(errno) => assert!(errno == libc::EPERM || errno == libc::ENODEV, "{errno}"),
            Ok(()) => {
                let rule = ":isolated-probe:E::isoprobe::/bin/true:";
                let _ = std::fs::write("/mnt/binfmt/register", rule);
            }
        }
    }

    /// devtmpfs is the host's own /dev: not mountable in a user namespace.
    #[isolated(rootfs = "alpine")]
    fn mounts_devtmpfs() {
        assert_eq!(mount_fresh("devtmpfs", "/mnt/dev", 0, ""), Err(libc::EPERM));
    }

    /// Device nodes of the host's disks and kernel log cannot be made, nor a block device
    /// mounted.
    #[isolated(rootfs = "alpine")]
    fn mknods_the_host_disk_and_kmsg() {
        for (path, kind, major, minor) in [
            ("/tmp/sda", libc::S_IFBLK, 8, 0),
            ("/tmp/vda", libc::S_IFBLK, 253, 0),
            ("/tmp/kmsg", libc::S_IFCHR, 1, 11),
            ("/tmp/mem", libc::S_IFCHR, 1, 1),
        ] {
            let c = std::ffi::CString::new(path).unwrap();
            // SAFETY: mknod(2) with a valid path.
            let rc = unsafe { libc::mknod(c.as_ptr(), kind | 0o600, libc::makedev(major, minor)) };
            assert_eq!((rc, errno()), (-1, libc::EPERM), "mknod {path}");
        }
        assert_eq!(
            mount_fresh("ext4", "/mnt/disk", libc::MS_RDONLY, ""),
            Err(libc::EPERM)
        );
        // fsopen(2) of ext4 succeeds in a user namespace, but making its superblock needs a
        // block device node, and there is none to give it.
        use std::os::unix::fs::FileTypeExt;
        for entry in walk("/dev") {
            let kind = std::fs::symlink_metadata(&entry).unwrap().file_type();
            assert!(!kind.is_block_device(), "{}", entry.display());
        }
        assert!(std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/kmsg")
            .is_err());
    }

    /// Root's user keyring would outlive the test on the host: the key calls are filtered.
    #[isolated(rootfs = "alpine")]
    fn adds_a_key_to_roots_keyring() {
        const KEY_SPEC_USER_KEYRING: libc::c_long = -4;
        let payload = b"secret";
        // SAFETY: add_key(2) with valid strings and payload.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                c"user".as_ptr(),
                c"isolated-probe".as_ptr(),
                payload.as_ptr(),
                payload.len(),
                KEY_SPEC_USER_KEYRING,
            )
        };
        assert_eq!((rc, errno()), (-1, libc::EPERM), "add_key");
        // SAFETY: keyctl(2) KEYCTL_GET_KEYRING_ID with plain integers.
        let rc = unsafe { libc::syscall(libc::SYS_keyctl, 0, KEY_SPEC_USER_KEYRING, 1) };
        assert_eq!((rc, errno()), (-1, libc::EPERM), "keyctl");
    }

    /// The host's cgroups: not visible (a cgroup namespace), v1 hierarchies not mountable, and
    /// a cgroup2 mount shows the test's own group as its root.
    #[isolated(rootfs = "alpine")]
    fn leaves_its_cgroup_or_kills_a_host_group() {
        let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
        assert!(own.lines().all(|l| l.ends_with(":/")), "{own}");
        for controller in ["memory", "pids", "cpu", "freezer"] {
            if mount_fresh("cgroup", "/mnt/v1", 0, controller).is_ok() {
                match std::fs::write("/mnt/v1/cgroup.procs", "0") {
                    // Its root is the test's own group: moving there moves nowhere.
                    Ok(()) => assert!(std::fs::read_dir("/mnt/v1")
                        .unwrap()
                        .all(|e| !e.unwrap().path().is_dir())),
                    // Rootless: the groups are root's, and root inside is not root outside.
                    Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EACCES), "{e}"),
                }
                // SAFETY: umount2(2) of the mount just made.
                unsafe { libc::umount2(c"/mnt/v1".as_ptr(), 0) };
            }
        }
        if mount_fresh("cgroup2", "/mnt/v2", 0, "").is_ok() {
            // Its root is the test's own group: no host group below it. (Rootless in a
            // cgroup of nobody's own, the hierarchy's root as in a container, the root is that
            // one's, and other groups show: none is the test's to move into, or to kill.)
            for entry in std::fs::read_dir("/mnt/v2").unwrap().flatten() {
                if !entry.path().is_dir() {
                    continue;
                }
                let moved = std::fs::write(entry.path().join("cgroup.procs"), "0");
                let refused = moved.as_ref().err().and_then(|e| e.raw_os_error());
                assert!(
                    matches!(refused, Some(libc::EACCES | libc::EPERM | libc::ENOENT)),
                    "{}: {moved:?}",
                    entry.path().display()
                );
            }
        }
    }

    /// The read-only host root stays read-only: its mounts are locked in the test's user
    /// namespace.
    #[isolated(rootfs = "host-ro")]
    fn unmounts_tmp_and_remounts_the_hosts_root_read_write() {
        // SAFETY: umount2(2) with a valid path.
        let rc = unsafe { libc::umount2(c"/tmp".as_ptr(), libc::MNT_DETACH) };
        assert_eq!((rc, errno()), (-1, libc::EINVAL), "umount /tmp");
        let flags = libc::MS_REMOUNT | libc::MS_BIND;
        // SAFETY: mount(2) with a NUL-terminated target and null source, type and data.
        let rc = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                flags,
                std::ptr::null(),
            )
        };
        assert_eq!((rc, errno()), (-1, libc::EPERM), "remount,bind,rw /");
    }

    /// Global sysctls outside /proc/sys/net stay read-only, and so does the host's clock.
    #[isolated(rootfs = "alpine", caps = ["+SYS_TIME"])]
    fn a_host_wide_capability_added_without_privileged_acts_on_nothing() {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime/settime(2) with a valid timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut now) };
        // SAFETY: as above.
        let rc = unsafe { libc::clock_settime(libc::CLOCK_REALTIME, &now) };
        assert_eq!((rc, errno()), (-1, libc::EPERM));
    }
}

isolated::main!();
