//! `net = "veth"` as the host sees it: tests reach a host listener and the host reaches them,
//! parallel tests get their own subnets, and the host's interfaces, addresses and routes are
//! unchanged afterwards — after passing tests, a timeout, and a SIGKILL of the runner.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serial_test::file_serial;

mod common;

fn example() -> PathBuf {
    common::example("veth")
}

/// What a test could leave on the host's network: links, addresses (v4 and v6), routes.
fn host_network() -> (BTreeSet<String>, String, String, String) {
    let links = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let read = |p: &str| std::fs::read_to_string(p).unwrap();
    (
        links,
        read("/proc/net/fib_trie"),
        read("/proc/net/if_inet6"),
        read("/proc/net/route"),
    )
}

/// The host is back as it was (veth ends go when their namespace does, a moment later).
fn assert_host_network_is(before: &(BTreeSet<String>, String, String, String)) {
    let start = Instant::now();
    while host_network() != *before {
        if start.elapsed() > Duration::from_secs(5) {
            assert_eq!(host_network(), *before, "the host's network changed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Answers each test: reads its address, connects back to it, says hello.
fn serve(listener: TcpListener, tests: usize) -> Vec<Ipv4Addr> {
    let mut seen = Vec::new();
    for _ in 0..tests {
        let (stream, _) = listener.accept().unwrap();
        let mut line = String::new();
        BufReader::new(stream).read_line(&mut line).unwrap();
        let addr: Ipv4Addr = line.trim().parse().unwrap();
        let mut back = TcpStream::connect((addr, 47124)).expect("the host reaches the test");
        writeln!(back, "hello {addr}").unwrap();
        seen.push(addr);
    }
    seen
}

#[test]
#[file_serial]
fn tests_and_host_reach_each_other_on_subnets_of_their_own() {
    let before = host_network();
    let listener = TcpListener::bind("0.0.0.0:47123").unwrap();
    let server = std::thread::spawn(move || serve(listener, 2));
    let out = Command::new(example())
        .args(["talks_to_the_host", "--test-threads=2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("2 passed"), "{stdout}");
    let seen = server.join().unwrap();
    assert_ne!(seen[0], seen[1]);
    let subnet = |a: &Ipv4Addr| u32::from(*a) >> 2;
    assert_ne!(subnet(&seen[0]), subnet(&seen[1]), "{seen:?} share a /30");
    assert_host_network_is(&before);
}

#[test]
#[file_serial]
fn none_and_host_modes() {
    for name in [
        "none_has_no_network_at_all",
        "host_shares_the_hosts_network",
    ] {
        let out = Command::new(example())
            .args(["--exact", name])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("1 passed"),
            "{name}: {text}"
        );
    }
}

#[test]
#[file_serial]
fn a_timed_out_veth_test_leaves_nothing_on_the_host() {
    let before = host_network();
    let out = Command::new(example())
        .args(["--ignored", "--exact", "veth_times_out"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("timed out after 300ms"), "{stdout}");
    assert_host_network_is(&before);
}

#[test]
#[file_serial]
fn a_killed_runner_leaves_nothing_on_the_host() {
    let before = host_network();
    let mut runner = Command::new(example())
        .args(["--ignored", "--exact", "veth_until_killed"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while host_network().0 == before.0 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no veth appeared on the host"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    runner.kill().unwrap(); // SIGKILL: no cleanup code of ours runs
    runner.wait().unwrap();
    assert_host_network_is(&before);
}
