//! What system tests do, and a default test may: each works inside its own namespaces, with
//! no key. The other side of `examples/adversarial.rs`: the same user namespace that keeps the
//! host's kernel out of reach must leave the test everything of its own.
//!
//! Some use the host's tools (`ip`, `nft`, `iptables`: `.ci/run` installs them) on the
//! read-only host root.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::process::Command;

use isolated::isolated;

/// Runs `script` with `sh -c`, and fails with its output unless it succeeds.
fn sh(script: &str) -> String {
    let out = Command::new("sh").args(["-c", script]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script}\n{text}");
    text
}

/// Runs `child` in a forked copy of this process and returns its exit code: for calls that
/// change the caller for good (unshare, setuid).
fn in_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the test is single-threaded here; the child only makes system calls and exits.
    match unsafe { libc::fork() } {
        0 => {
            let code = child();
            // SAFETY: ends the forked copy without running the parent's destructors.
            unsafe { libc::_exit(code) }
        }
        pid => {
            let mut status = 0;
            // SAFETY: waits for the child just forked.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            assert!(libc::WIFEXITED(status), "child status {status:#x}");
            libc::WEXITSTATUS(status)
        }
    }
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

mod filesystems {
    use super::*;

    /// tmpfs, overlay and bind mounts; a fresh /proc (read-only) in a PID namespace of its own.
    #[isolated(rootfs = "alpine")]
    fn mounts_tmpfs_overlay_bind_and_a_proc_of_its_own() {
        sh(
            "mount -t tmpfs scratch /mnt && cd /mnt && mkdir l u w m && echo low > l/f && \
            mount -t overlay o -o lowerdir=/mnt/l,upperdir=/mnt/u,workdir=/mnt/w /mnt/m && \
            echo up > m/g && test -f u/g && mount -o bind /mnt/m /srv && test -f /srv/f && \
            mount -o remount,bind,ro /srv && ! touch /srv/h 2>/dev/null && cd / && \
            umount /srv /mnt/m /mnt",
        );
        let ps = sh("unshare -p -f -m sh -c 'mount -t proc -o ro proc /proc && ps -o pid,comm'");
        assert!(ps.lines().any(|l| l.trim_start().starts_with("1 ")), "{ps}");
    }

    /// Ownership of any id, and setuid/setgid to any id: file ownership means what it means
    /// on the host (the ids are mapped one to one).
    #[isolated(rootfs = "alpine")]
    fn chowns_and_becomes_any_user() {
        fs::write("/tmp/theirs", "x").unwrap();
        std::os::unix::fs::chown("/tmp/theirs", Some(1234), Some(5678)).unwrap();
        let meta = fs::metadata("/tmp/theirs").unwrap();
        assert_eq!((meta.uid(), meta.gid()), (1234, 5678));
        fs::write("/tmp/roots", "secret").unwrap();
        fs::set_permissions(
            "/tmp/roots",
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let code = in_child(|| {
            let groups = [100, 200];
            // SAFETY: plain id calls with valid arguments.
            let ok = unsafe {
                libc::setgroups(2, groups.as_ptr()) == 0
                    && libc::setgid(5678) == 0
                    && libc::setuid(1000) == 0
            };
            if !ok || nix::unistd::getuid().as_raw() != 1000 {
                return 1;
            }
            // Now an ordinary user: root's file is closed to it.
            match fs::read("/tmp/roots") {
                Err(e) if e.raw_os_error() == Some(libc::EACCES) => 0,
                _ => 2,
            }
        });
        assert_eq!(code, 0);
    }

    /// fanotify's unprivileged mode (Linux 5.13+): inode marks, events with file handles.
    #[isolated(rootfs = "alpine")]
    fn watches_a_directory_with_fanotify() {
        const FAN_REPORT_FID: libc::c_uint = 0x200;
        // SAFETY: fanotify_init(2) with flags only.
        let fd = unsafe {
            libc::fanotify_init(
                libc::FAN_CLASS_NOTIF | FAN_REPORT_FID,
                libc::O_RDONLY as u32,
            )
        };
        assert!(fd >= 0, "fanotify_init: errno {}", errno());
        fs::create_dir("/tmp/watched").unwrap();
        // SAFETY: fanotify_mark(2) with a valid descriptor and path.
        let rc = unsafe {
            libc::fanotify_mark(
                fd,
                libc::FAN_MARK_ADD,
                libc::FAN_CREATE | libc::FAN_EVENT_ON_CHILD,
                libc::AT_FDCWD,
                c"/tmp/watched".as_ptr(),
            )
        };
        assert_eq!(rc, 0, "fanotify_mark: errno {}", errno());
        fs::write("/tmp/watched/new", "x").unwrap();
        let mut buf = [0u8; 256];
        // SAFETY: reads into a buffer of the given length from the fanotify descriptor.
        let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
        assert!(n > 0, "no fanotify event: errno {}", errno());
        // SAFETY: closes the descriptor opened above.
        unsafe { libc::close(fd) };
    }
}

mod processes {
    use super::*;

    /// A namespace of every kind, nested in the test's own.
    #[isolated(rootfs = "alpine")]
    fn unshares_every_kind_of_namespace() {
        for (name, flag) in [
            ("user", libc::CLONE_NEWUSER),
            ("mount", libc::CLONE_NEWNS),
            ("network", libc::CLONE_NEWNET),
            ("uts", libc::CLONE_NEWUTS),
            ("ipc", libc::CLONE_NEWIPC),
            ("pid", libc::CLONE_NEWPID),
            ("cgroup", libc::CLONE_NEWCGROUP),
            ("time", 0x80),
        ] {
            // SAFETY: unshare(2) in a single-threaded forked child.
            let code = in_child(|| match unsafe { libc::unshare(flag) } {
                0 => 0,
                _ => errno(),
            });
            assert_eq!(code, 0, "unshare of a {name} namespace: errno {code}");
        }
        // SAFETY: sethostname(2) with a valid buffer.
        let rc = unsafe { libc::sethostname(c"renamed".as_ptr(), 7) };
        assert_eq!(rc, 0);
        assert_eq!(nix::unistd::gethostname().unwrap(), "renamed");
    }

    /// ptrace of its own processes, as strace and gdb do.
    #[isolated(rootfs = "alpine")]
    fn traces_its_own_processes() {
        let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
        let pid = sleeper.id() as libc::pid_t;
        // SAFETY: PTRACE_SEIZE and PTRACE_DETACH of our own child, with no data pointers.
        unsafe {
            assert_eq!(
                libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0),
                0,
                "errno {}",
                errno()
            );
            assert_eq!(libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0), 0);
            let mut status = 0;
            libc::waitpid(pid, &mut status, libc::__WALL);
            assert_eq!(libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0), 0);
        }
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
    }

    /// Its capabilities are its to drop and raise again (a tool that sheds privileges).
    #[isolated(rootfs = "alpine")]
    fn drops_and_raises_its_capabilities() {
        const CAP_NET_RAW: libc::c_ulong = 13;
        let code = in_child(|| {
            // SAFETY: prctl(2) with integer arguments.
            let dropped = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, CAP_NET_RAW, 0, 0, 0) };
            // SAFETY: as above.
            let still = unsafe { libc::prctl(libc::PR_CAPBSET_READ, CAP_NET_RAW, 0, 0, 0) };
            i32::from(dropped != 0 || still != 0)
        });
        assert_eq!(code, 0);
        let status = sh("cat /proc/self/status");
        assert!(status.contains("CapEff:\t"), "{status}");
    }
}

mod network {
    use super::*;

    /// `ip netns add`, a veth pair between the test's namespace and a named one, `ip -n` (which
    /// mounts a /sys for the namespace it enters), traffic over the pair.
    #[isolated]
    fn makes_named_network_namespaces_and_veths() {
        sh(
            "ip netns add inner && ip link add v0 type veth peer name v1 && \
            ip link set v1 netns inner && ip addr add 10.9.0.1/24 dev v0 && ip link set v0 up && \
            ip -n inner addr add 10.9.0.2/24 dev v1 && ip -n inner link set v1 up && \
            ip -n inner link set lo up",
        );
        let listener = in_netns("/run/netns/inner", || {
            std::net::TcpListener::bind("10.9.0.2:7000").unwrap()
        });
        let mut client = std::net::TcpStream::connect("10.9.0.2:7000").unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"pong").unwrap();
        let mut answer = [0u8; 4];
        client.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"pong");
        sh("ip netns delete inner");
    }

    /// `make` run with this thread in the network namespace at `path`, then back.
    fn in_netns<T>(path: &str, make: impl FnOnce() -> T) -> T {
        let own = fs::File::open("/proc/thread-self/ns/net").unwrap();
        let other = fs::File::open(path).unwrap();
        nix::sched::setns(&other, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        let made = make();
        nix::sched::setns(&own, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        made
    }

    /// nftables and iptables rules, and `/proc/sys/net`, in the test's own namespace.
    #[isolated]
    fn sets_firewall_rules_and_network_sysctls() {
        sh("nft add table inet isolated && \
            nft add chain inet isolated input '{ type filter hook input priority 0; }' && \
            nft add rule inet isolated input tcp dport 9 drop && \
            nft list ruleset | grep -q 'tcp dport 9 drop'");
        sh("iptables -A INPUT -p tcp --dport 10 -j DROP && iptables -S INPUT | grep -q 'dport 10'");
        fs::write("/proc/sys/net/ipv4/ip_forward", "1").unwrap();
        let forward = fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap();
        assert_eq!(forward.trim(), "1");
    }

    /// A tun device with `devices`, made in the test's own network.
    #[isolated(rootfs = "alpine", devices = ["/dev/net/tun"])]
    fn makes_a_tun_device_with_the_devices_key() {
        const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
        let tun = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")
            .unwrap();
        let mut request = [0u8; 40];
        request[..5].copy_from_slice(b"tun7\0");
        let flags = (libc::IFF_TUN | libc::IFF_NO_PI) as u16;
        request[16..18].copy_from_slice(&flags.to_ne_bytes());
        use std::os::fd::AsRawFd;
        // SAFETY: TUNSETIFF with a buffer as large as struct ifreq.
        let rc = unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF, request.as_mut_ptr()) };
        assert_eq!(rc, 0, "TUNSETIFF: errno {}", errno());
        assert!(std::path::Path::new("/sys/class/net/tun7").exists());
    }

    /// Without the key there is no tun device, and the failure says which key adds it.
    #[isolated(rootfs = "alpine")]
    fn has_no_host_devices_without_the_key() {
        let err = fs::File::open("/dev/net/tun").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOENT));
    }
}

mod privileged {
    use super::*;

    fn mknod_null(path: &std::ffi::CStr) -> i32 {
        // SAFETY: mknod(2) with a valid path.
        let rc = unsafe { libc::mknod(path.as_ptr(), libc::S_IFCHR | 0o600, libc::makedev(1, 3)) };
        if rc == 0 {
            0
        } else {
            errno()
        }
    }

    /// `privileged = true` gives the host's kernel back: device nodes can be made, keyrings
    /// reached. Here it only makes a node of /dev/null in its own /tmp.
    #[isolated(rootfs = "alpine", privileged = true)]
    fn a_privileged_test_makes_device_nodes() {
        assert_eq!(mknod_null(c"/tmp/null"), 0);
        // SAFETY: keyctl(2) KEYCTL_GET_KEYRING_ID of the session keyring, no creation.
        let rc = unsafe { libc::syscall(libc::SYS_keyctl, 0, -3i64, 0) };
        assert!(rc > 0 || errno() != libc::EPERM, "keyctl is not filtered");
    }

    /// Without it, the same call is refused.
    #[isolated(rootfs = "alpine")]
    fn a_default_test_does_not() {
        assert_eq!(mknod_null(c"/tmp/null"), libc::EPERM);
    }
}

isolated::main!();
