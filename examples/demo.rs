//! A small suite on the host's root filesystem (copy-on-write): needs no fixture, no download.
//!
//! `sudo -E cargo run --example demo`

use isolated::isolated;

#[isolated]
fn runs_as_pid_2() {
    assert_eq!(std::process::id(), 2);
}

#[isolated(hostname = "box")]
fn has_its_own_hostname() {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(name.trim(), "box");
}

#[isolated]
fn host_root_is_copy_on_write() {
    // The write lands in the test's own layer; the host's /etc never sees it.
    std::fs::write("/etc/isolated-probe", "mine").unwrap();
    assert_eq!(
        std::fs::read_to_string("/etc/isolated-probe").unwrap(),
        "mine"
    );
}

#[isolated(rootfs = "host-ro")]
fn host_ro_is_read_only() {
    let err = std::fs::write("/etc/isolated-probe", "x").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(30)); // EROFS
}

#[isolated]
fn tmp_is_private_and_writable() {
    assert_eq!(std::fs::read_dir("/tmp").unwrap().count(), 0);
    std::fs::write("/tmp/scratch", "mine").unwrap();
}

#[isolated]
fn binds_a_low_port_on_loopback() {
    let listener = std::net::TcpListener::bind("127.0.0.1:80").unwrap();
    let addr = listener.local_addr().unwrap();
    std::net::TcpStream::connect(addr).unwrap();
    std::net::TcpListener::bind("[::1]:80").unwrap();
    std::net::TcpStream::connect("localhost:80").unwrap();
}

#[isolated(env = ["GREETING=hello"])]
fn has_a_clean_environment() {
    assert_eq!(std::env::var("GREETING").unwrap(), "hello");
    assert_eq!(std::env::var("HOME").unwrap(), "/root");
    assert!(std::env::var("USER").is_err());
}

isolated::main!();
