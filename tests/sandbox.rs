//! What every test gets, checked from inside, with the harness itself (`harness = false`).
//! Runs on the host's root and on the built-in Alpine fixture (ISOLATED_FIXTURES_PATH).

use std::collections::BTreeSet;
use std::fs;
use std::net::{TcpListener, ToSocketAddrs};
use std::process::Command;
use std::time::Duration;

use isolated::isolated;

fn names_in(dir: &str) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn pids() -> BTreeSet<u32> {
    names_in("/proc")
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

#[isolated(rootfs = "alpine", hostname = "box", timeout = "10s")]
fn reads_alpine_release() {
    let release = fs::read_to_string("/etc/alpine-release").unwrap();
    assert!(release.starts_with("3.20"), "{release}");
}

mod identity {
    use super::*;

    #[isolated(rootfs = "alpine", hostname = "box")]
    fn body_is_pid_2_and_sees_only_its_processes() {
        assert_eq!(std::process::id(), 2);
        assert_eq!(pids(), BTreeSet::from([1, 2]));
        let status = fs::read_to_string("/proc/1/status").unwrap();
        assert!(status.lines().any(|l| l.starts_with("PPid:\t0")));
    }

    #[isolated(rootfs = "alpine", hostname = "box")]
    fn hostname_and_uts() {
        let name = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(name.trim(), "box");
        let out = Command::new("hostname").output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "box");
    }

    #[isolated(rootfs = "alpine")]
    fn runs_as_root_in_its_crate_dir_with_a_clean_environment() {
        // As under `cargo test`: the crate's directory, bound in read-only.
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(cwd.to_str(), Some(env!("CARGO_MANIFEST_DIR")));
        let uid = fs::read_to_string("/proc/self/status").unwrap();
        assert!(uid.lines().any(|l| l.starts_with("Uid:\t0\t0")));
        let names: BTreeSet<String> = std::env::vars().map(|(k, _)| k).collect();
        let allowed = [
            "PATH",
            "HOME",
            "TERM",
            "HOSTNAME",
            "RUST_BACKTRACE",
            "RUST_LOG",
        ];
        for name in &names {
            assert!(
                allowed.contains(&name.as_str()),
                "unexpected variable {name}"
            );
        }
        assert_eq!(std::env::var("HOME").unwrap(), "/root");
        assert_eq!(std::env::var("HOSTNAME").unwrap(), "isolated");
    }

    /// As after an exec with the test's environment, whether the test started from its runner
    /// thread's zygote or by an exec of its own.
    #[isolated(env = ["ISOLATED_GREETING=hello world"])]
    fn proc_self_environ_shows_the_tests_environment() {
        let environ = fs::read("/proc/self/environ").unwrap();
        let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
        assert!(
            vars.contains(&&b"ISOLATED_GREETING=hello world"[..]),
            "{vars:?}"
        );
        assert!(vars.contains(&&b"HOME=/root"[..]), "{vars:?}");
        assert!(
            !vars
                .iter()
                .any(|var| var.starts_with(b"__ISOLATED_ZYGOTE=")),
            "the zygote's environment: {vars:?}"
        );
    }

    #[isolated(env = ["ISOLATED_GREETING=hello world", "PATH=/bin"])]
    fn attribute_env_is_set_and_overrides_defaults() {
        assert_eq!(std::env::var("ISOLATED_GREETING").unwrap(), "hello world");
        assert_eq!(std::env::var("PATH").unwrap(), "/bin");
    }
}

mod filesystem {
    use super::*;

    #[isolated(rootfs = "alpine")]
    fn writes_stay_in_this_test_a() {
        write_once("/etc/isolated-marker");
    }

    #[isolated(rootfs = "alpine")]
    fn writes_stay_in_this_test_b() {
        write_once("/etc/isolated-marker");
    }

    /// Fails if another test's write (or the fixture cache) leaked into this test.
    fn write_once(path: &str) {
        assert!(
            fs::metadata(path).is_err(),
            "{path} leaked from another test"
        );
        fs::write(path, "mine").unwrap();
        fs::write("/etc/alpine-release", "overwritten\n").unwrap();
        fs::remove_file("/bin/busybox").unwrap();
    }

    #[isolated(rootfs = "alpine")]
    fn fixture_is_never_modified() {
        // The tests above overwrote and deleted files in their own overlays.
        assert!(fs::read_to_string("/etc/alpine-release")
            .unwrap()
            .starts_with("3.20"));
        assert!(fs::metadata("/bin/busybox").is_ok());
    }

    #[isolated(rootfs = "alpine", crate_dir = false)]
    fn no_host_path_is_reachable() {
        assert!(fs::metadata("/oldroot").is_err());
        assert!(fs::metadata("/newroot").is_err());
        // Only the executable, for backtraces: none of the crate's other files.
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        assert!(fs::metadata(manifest.join("Cargo.toml")).is_err());
        let exe = std::env::current_exe().unwrap();
        assert_eq!(fs::read_dir(exe.parent().unwrap()).unwrap().count(), 1);
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
        for mount in mounts.lines() {
            let mountpoint = mount.split(' ').nth(4).unwrap();
            assert!(!mountpoint.contains("oldroot"), "{mount}");
        }
        // The root is the overlay: nothing is mounted above it from the host.
        let root = mounts.lines().next().unwrap();
        assert!(root.contains(" / / ") && root.contains("overlay"), "{root}");
    }

    #[isolated(rootfs = "host-ro")]
    fn host_root_is_read_only_everywhere() {
        for path in [
            "/etc/isolated-probe",
            "/usr/isolated-probe",
            "/root/isolated-probe",
        ] {
            let err = fs::write(path, "x").unwrap_err();
            assert_eq!(err.raw_os_error(), Some(30), "{path}: {err}"); // EROFS
        }
        // The checkout too, unless it lies under /tmp or /run, which every test gets fresh.
        let manifest = env!("CARGO_MANIFEST_DIR");
        if fs::metadata(manifest).is_ok() {
            let probe = format!("{manifest}/isolated-probe");
            assert_eq!(fs::write(probe, "x").unwrap_err().raw_os_error(), Some(30));
        }
    }

    #[isolated(rootfs = "alpine")]
    fn fresh_tmp_run_and_dev() {
        // /run holds only `isolated/layers`, the read-only layers network nodes start from.
        assert_eq!(
            names_in("/run/isolated"),
            BTreeSet::from(["layers".to_string()])
        );
        for dir in ["/tmp", "/run", "/dev/shm"] {
            let names = names_in(dir);
            let ours = dir == "/run" && names == BTreeSet::from(["isolated".to_string()]);
            assert!(names.is_empty() || ours, "{dir} is not empty: {names:?}");
            fs::write(format!("{dir}/file"), "x").unwrap();
        }
        let dev = names_in("/dev");
        for name in [
            "null", "zero", "full", "random", "urandom", "tty", "pts", "ptmx", "shm", "fd",
            "stdin", "stdout", "stderr",
        ] {
            assert!(dev.contains(name), "/dev/{name} missing: {dev:?}");
        }
        use std::io::Read;
        let mut buf = [1u8; 16];
        fs::File::open("/dev/zero")
            .unwrap()
            .read_exact(&mut buf)
            .unwrap();
        assert_eq!(buf, [0u8; 16]);
        fs::File::open("/dev/urandom")
            .unwrap()
            .read_exact(&mut buf)
            .unwrap();
        fs::write("/dev/null", "discarded").unwrap();
        assert!(fs::metadata("/dev/pts/ptmx").is_ok());
        assert!(fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/ptmx")
            .is_ok());
    }

    #[isolated(rootfs = "alpine")]
    fn mounts_made_inside_stay_inside() {
        fs::create_dir_all("/mnt/inner").unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "inner-test-mount", "/mnt/inner"])
            .status()
            .unwrap();
        assert!(status.success());
        // tests/runner_outcomes.rs checks the host's mount table after whole runs.
        assert!(fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .contains("inner-test-mount"));
    }
}

mod host_safety {
    use super::*;

    #[isolated]
    fn the_report_pipe_is_not_inherited() {
        // Only stdin, stdout, stderr (and ls's own directory handle) in a program we start.
        let out = Command::new("sh")
            .args(["-c", "ls /proc/self/fd"])
            .output()
            .unwrap();
        let fds = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(fds.split_whitespace().count(), 4, "{fds}");
        // And a program writing junk to fd 3 neither corrupts nor loses the verdict.
        let junk = Command::new("sh")
            .args(["-c", "echo junk >&3"])
            .status()
            .unwrap();
        assert!(!junk.success());
    }

    #[isolated]
    fn host_kernel_settings_are_read_only_but_own_network_settings_are_not() {
        let err = fs::write("/proc/sys/kernel/printk_ratelimit_burst", "11").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(30), "{err}"); // EROFS
        assert!(fs::write("/proc/sysrq-trigger", "h").is_err());
        fs::write("/proc/sys/net/ipv4/ip_forward", "1").unwrap();
        assert_eq!(
            fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap(),
            "1\n"
        );
    }

    #[isolated]
    fn the_harness_mounts_are_locked_and_the_hosts_are_gone() {
        // What the harness mounted cannot be taken away to see what lies below: the test's
        // user namespace got a locked copy of the mount tree (umount2 => EINVAL).
        for dir in [
            "/tmp",
            "/run",
            "/dev",
            "/proc",
            "/proc/sys",
            "/etc/hosts",
            "/",
        ] {
            let path = std::ffi::CString::new(dir).unwrap();
            // SAFETY: umount2 with a valid path and flags only.
            let rc = unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
            let errno = std::io::Error::last_os_error().raw_os_error();
            assert!(
                rc != 0 && errno == Some(libc::EINVAL),
                "umount {dir}: {errno:?}"
            );
        }
        // Nor made writable again.
        for (dir, flags) in [
            ("/proc/sys", libc::MS_BIND),
            ("/sys", libc::MS_BIND),
            ("/run/isolated/layers/0", libc::MS_BIND),
        ] {
            let path = std::ffi::CString::new(dir).unwrap();
            // SAFETY: a remount with valid strings and no data.
            let rc = unsafe {
                libc::mount(
                    std::ptr::null(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_REMOUNT | flags,
                    std::ptr::null(),
                )
            };
            let errno = std::io::Error::last_os_error().raw_os_error();
            assert!(
                rc != 0 && errno == Some(libc::EPERM),
                "remount,rw {dir}: {errno:?}"
            );
        }
        // The host's processes never show: its /proc was detached, not just covered.
        let processes = fs::read_dir("/proc")
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .parse::<u32>()
                    .is_ok()
            })
            .count();
        assert!(processes <= 3, "{processes} processes in /proc");
    }

    #[isolated]
    fn no_controlling_terminal() {
        let stat = fs::read_to_string("/proc/self/stat").unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let tty_nr = after_name.split(' ').nth(4).unwrap();
        assert_eq!(tty_nr, "0", "{stat}");
        let err = fs::File::open("/dev/tty").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(6), "{err}"); // ENXIO
    }

    #[isolated(rootfs = "symlinked-etc")]
    fn absolute_symlinks_resolve_inside_the_new_root() {
        // /etc/hosts -> /etc/static/hosts: the mount landed on the fixture's file.
        let hosts = fs::read_to_string("/etc/static/hosts").unwrap();
        assert!(hosts.contains("127.0.0.1\tlocalhost"), "{hosts}");
        assert_eq!(fs::read_to_string("/etc/hosts").unwrap(), hosts);
        // The directories this minimal fixture lacked were made in the overlay.
        assert!(names_in("/proc").contains("self"));
        assert!(fs::metadata("/dev/null").is_ok() && fs::metadata("/run").is_ok());
    }
}

mod fixture_sources {
    use super::*;

    #[isolated(rootfs = "tools")]
    fn a_rootfs_of_host_programs_runs_them() {
        let ls = Command::new("ls").arg("/").output().unwrap();
        assert!(ls.status.success());
        let listing = String::from_utf8_lossy(&ls.stdout).into_owned();
        assert!(
            listing.contains("proc") && listing.contains("etc"),
            "{listing}"
        );
        let ps = Command::new("ps")
            .args(["-e", "-o", "pid="])
            .output()
            .unwrap();
        let pids = String::from_utf8_lossy(&ps.stdout).into_owned();
        assert!(pids.split_whitespace().any(|p| p == "1"), "{pids}");
        assert!(
            fs::metadata("/usr/bin/apt").is_err(),
            "only the named programs are there"
        );
    }

    #[isolated(rootfs = "alpine-pinned")]
    fn a_pinned_remote_spec_is_found_without_downloading() {
        assert!(fs::read_to_string("/etc/alpine-release")
            .unwrap()
            .starts_with("3.20"));
    }
}

mod extra_files {
    use super::*;

    #[isolated(rootfs = "alpine", copy = ["/usr/bin/env:/usr/local/bin/glibc-env"])]
    fn a_glibc_program_copied_into_alpine_runs() {
        // Alpine is musl: this runs only because its glibc libraries and loader came along.
        let out = Command::new("/usr/local/bin/glibc-env").output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("HOME=/root"));
        // Alpine's own files are untouched by the extra layer.
        assert!(fs::read_to_string("/etc/alpine-release")
            .unwrap()
            .starts_with("3.20"));
    }

    #[isolated(rootfs = "alpine", copy = ["fixtures/symlinked-etc:/opt/data"])]
    fn a_directory_is_copied_and_writable_in_the_test() {
        let readme = fs::read_to_string("/opt/data/README").unwrap();
        assert!(readme.contains("minimal directory fixture"));
        assert_eq!(
            fs::read_link("/opt/data/etc/hosts").unwrap().to_str(),
            Some("/etc/static/hosts")
        );
        fs::write("/opt/data/README", "changed, in this test only").unwrap();
    }

    #[isolated(rootfs = "alpine", bind = ["fixtures/symlinked-etc:/mnt/fixture"])]
    fn a_bind_is_read_only() {
        assert!(fs::read_to_string("/mnt/fixture/README")
            .unwrap()
            .contains("minimal"));
        let err = fs::write("/mnt/fixture/README", "x").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(30), "{err}"); // EROFS
    }

    #[isolated(bind = ["fixtures/symlinked-etc/README:/etc/hostname"])]
    fn a_bind_over_an_existing_file_of_the_read_only_host_root() {
        assert!(fs::read_to_string("/etc/hostname")
            .unwrap()
            .contains("minimal"));
    }
}

mod network {
    use super::*;

    #[isolated(rootfs = "alpine")]
    fn only_loopback_is_there_and_up() {
        assert_eq!(
            names_in("/sys/class/net"),
            BTreeSet::from(["lo".to_string()])
        );
        let flags = fs::read_to_string("/sys/class/net/lo/flags").unwrap();
        let flags = u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).unwrap();
        assert_eq!(flags & 1, 1, "lo is not up");
    }

    #[isolated(rootfs = "alpine")]
    fn localhost_resolves_in_alpine() {
        let addrs: Vec<_> = "localhost:80".to_socket_addrs().unwrap().collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()), "{addrs:?}");
        // busybox (musl) resolves it too.
        let status = Command::new("ping")
            .args(["-c", "1", "-W", "2", "localhost"])
            .status();
        assert!(status.unwrap().success());
    }

    #[isolated(rootfs = "alpine", hostname = "web")]
    fn own_hostname_resolves() {
        let addrs: Vec<_> = "web:80".to_socket_addrs().unwrap().collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }

    /// Both hold the same port at the same time: each test has its own network stack.
    fn hold_port_8080() {
        let v4 = TcpListener::bind("127.0.0.1:8080").unwrap();
        let v6 = TcpListener::bind("[::1]:8080").unwrap();
        std::thread::sleep(Duration::from_millis(300));
        drop((v4, v6));
    }

    #[isolated(rootfs = "alpine")]
    fn same_port_in_two_tests_a() {
        hold_port_8080();
    }

    #[isolated]
    fn same_port_in_two_tests_b() {
        hold_port_8080();
    }
}

mod processes {
    use super::*;

    #[isolated(rootfs = "alpine")]
    fn orphans_are_reaped_and_killed_with_the_test() {
        // A daemon that double-forks away from us: it is reparented to our PID 1.
        Command::new("sh")
            .args(["-c", "(sleep 600 &) ; true"])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(pids().len() >= 3, "{:?}", pids());
        // tests/runner_outcomes.rs checks that no such sleeper survives a run.
    }

    #[isolated(rootfs = "alpine")]
    #[should_panic(expected = "inside alpine")]
    fn should_panic_works_inside_fixtures() {
        panic!("this panic happened inside alpine");
    }

    #[isolated(rootfs = "alpine")]
    fn returning_ok_passes() -> Result<(), Box<dyn std::error::Error>> {
        fs::read_to_string("/etc/os-release")?;
        Ok(())
    }
}

isolated::main!();
