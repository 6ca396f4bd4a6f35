//! `net` modes, run by `tests/veth.rs`, which opens the host-side listener these tests reach
//! and checks the host's network is unchanged afterwards.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;

use isolated::isolated;

/// Where `tests/veth.rs` listens on the host.
const HOST_PORT: u16 = 47123;
/// Where each test listens for the host to connect back.
const TEST_PORT: u16 = 47124;

fn talk_to_the_host() {
    let host = isolated::net::host_addr().expect("net = \"veth\" gives a host address");
    let me = isolated::net::addr().expect("net = \"veth\" gives an address");
    assert_eq!(isolated::net::prefix_len(), Some(30));
    // The classic check: the host end answers a ping.
    let ping = Command::new("ping")
        .args(["-c", "1", "-W", "2", &host.to_string()])
        .status();
    assert!(ping.unwrap().success(), "ping {host}");
    // Listen first, then tell the host where: it connects back (host -> test).
    let listener = TcpListener::bind((me, TEST_PORT)).unwrap();
    let mut to_host = TcpStream::connect((host, HOST_PORT)).expect("reach the host's listener");
    writeln!(to_host, "{me}").unwrap();
    let (from_host, peer) = listener.accept().unwrap();
    assert_eq!(peer.ip(), host);
    let mut line = String::new();
    BufReader::new(from_host).read_line(&mut line).unwrap();
    assert_eq!(line.trim(), format!("hello {me}"));
}

#[isolated(rootfs = "alpine", net = "veth")]
fn talks_to_the_host_a() {
    talk_to_the_host();
}

#[isolated(rootfs = "alpine", net = "veth")]
fn talks_to_the_host_b() {
    talk_to_the_host();
}

#[isolated(net = "none")]
fn none_has_no_network_at_all() {
    let lo = std::fs::read_to_string("/sys/class/net/lo/operstate").unwrap();
    assert_eq!(lo.trim(), "down");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let connect = TcpStream::connect(listener.local_addr().unwrap());
    assert!(
        connect.is_err(),
        "loopback is not even up, so nothing connects"
    );
}

#[isolated(net = "host")]
fn host_shares_the_hosts_network() {
    let links = std::fs::read_dir("/sys/class/net").unwrap().count();
    assert!(links > 1, "the host's interfaces are visible");
    assert!(isolated::net::addr().is_none());
}

#[isolated(rootfs = "alpine", net = "veth", timeout = "300ms")]
#[ignore = "tests/veth.rs runs it: a veth test that times out"]
fn veth_times_out() {
    std::thread::sleep(std::time::Duration::from_secs(60));
}

#[isolated(rootfs = "alpine", net = "veth", timeout = "2m")]
#[ignore = "tests/veth.rs runs it and kills the runner"]
fn veth_until_killed() {
    std::thread::sleep(std::time::Duration::from_secs(120));
}

isolated::main!();
