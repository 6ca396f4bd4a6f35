//! A suite for the rootless mode: `tests/rootless.rs` runs it as an unprivileged user, where
//! each test gets a user namespace of its own with root inside mapped to that user outside.

use std::fs;

use isolated::isolated;

/// `0 <id above> 1`: root inside is one id of the namespace above (which, rootless, maps that
/// one id to the unprivileged user outside).
fn mapped_to_one_user() -> bool {
    let map = fs::read_to_string("/proc/self/uid_map").unwrap();
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields.len() == 3 && fields[0] == "0" && fields[2] == "1"
}

#[isolated(rootfs = "alpine", hostname = "rootless")]
fn root_inside_a_user_namespace_on_alpine() {
    assert!(
        mapped_to_one_user(),
        "{}",
        fs::read_to_string("/proc/self/uid_map").unwrap()
    );
    assert_eq!(std::process::id(), 2);
    let status = fs::read_to_string("/proc/self/status").unwrap();
    assert!(
        status.lines().any(|l| l.starts_with("Uid:\t0\t0")),
        "{status}"
    );
    assert!(fs::read_to_string("/etc/alpine-release")
        .unwrap()
        .starts_with("3.20"));
    // The overlay is writable, and mounting works inside.
    fs::write("/etc/motd", "mine").unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "t", "/mnt"])
        .status();
    assert!(mount.unwrap().success());
    assert_eq!(
        fs::read_to_string("/proc/sys/kernel/hostname")
            .unwrap()
            .trim(),
        "rootless"
    );
    std::net::TcpListener::bind("127.0.0.1:80").unwrap();
}

#[isolated]
fn the_host_root_read_only_and_the_hosts_files_out_of_reach() {
    assert!(mapped_to_one_user());
    // The host's root owns /etc/passwd, and is nobody in here: root inside is not root outside.
    use std::os::unix::fs::MetadataExt;
    assert_eq!(fs::metadata("/etc/passwd").unwrap().uid(), 65534);
    let err = fs::write("/etc/isolated-probe", "x").unwrap_err();
    assert!(matches!(err.raw_os_error(), Some(13 | 30)), "{err}"); // EACCES or EROFS
    assert!(
        fs::read_to_string("/etc/shadow").is_err(),
        "the host's secrets stay the host's"
    );
}

/// A host device bound in with `devices` works rootless too: a tun device in the test's own
/// network.
#[isolated(rootfs = "alpine", devices = ["/dev/net/tun"])]
fn a_tun_device_rootless() {
    use std::os::fd::AsRawFd;
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    use std::os::unix::fs::PermissionsExt;
    let opened = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun");
    // The host's node, with the host's mode: rootless, root inside is the user outside, who
    // may open it only if the host lets everyone (most distributions: 0666).
    let mode = fs::metadata("/dev/net/tun").unwrap().permissions().mode();
    if mode & 0o006 != 0o006 {
        assert_eq!(opened.unwrap_err().raw_os_error(), Some(libc::EACCES));
        return;
    }
    let tun = opened.unwrap();
    let mut request = [0u8; 40];
    request[..5].copy_from_slice(b"tun7\0");
    request[16..18].copy_from_slice(&((libc::IFF_TUN | libc::IFF_NO_PI) as u16).to_ne_bytes());
    // SAFETY: TUNSETIFF with a buffer as large as struct ifreq.
    let rc = unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF, request.as_mut_ptr()) };
    assert_eq!(rc, 0, "TUNSETIFF: {}", std::io::Error::last_os_error());
}

#[isolated(net = "veth")]
fn veth_needs_root() {}

isolated::main!();
