//! A three-node cluster in one test: copy this into `tests/` (with `harness = false` in
//! Cargo.toml) and put your own server in the nodes.
//!
//! Each node is a process with its own network, hostname and filesystem, linked to a virtual
//! switch inside the test's network namespace. Here every node runs a tiny key-value "replica"
//! written in Rust; with your own binary, use `net.node("a").command("my-server", [...])`
//! (and `bins = ["my-server"]` in the attribute to put it in the test's root).
//!
//! ```sh
//! sudo -E cargo run --example cluster
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use isolated::isolated;
use isolated::net::Network;

const PORT: u16 = 7000;

/// A replica: answers `ping` with its hostname, until the test kills it.
fn replica() -> i32 {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let listener = TcpListener::bind(("0.0.0.0", PORT)).unwrap();
    for stream in listener.incoming().flatten() {
        let mut reply = stream.try_clone().unwrap();
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if line == "ping" {
                writeln!(reply, "pong from {}", hostname.trim()).unwrap();
            }
        }
    }
    0
}

/// Asks `node` for a pong, waiting up to 5 s for it to start listening.
fn ping(node: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match TcpStream::connect((node, PORT)) {
            Ok(stream) => break stream,
            Err(e) if Instant::now() > deadline => panic!("{node} is unreachable: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    writeln!(&stream, "ping").unwrap();
    let mut answer = String::new();
    BufReader::new(stream).read_line(&mut answer).unwrap();
    answer.trim().to_string()
}

/// Whether `node` accepts a connection within 300 ms.
fn reachable(node: &str) -> bool {
    let addr = std::net::ToSocketAddrs::to_socket_addrs(&(node, PORT))
        .unwrap()
        .next()
        .unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok()
}

#[isolated(timeout = "30s")]
fn three_replicas_survive_a_partition() {
    // The switch, with the test on it at 10.77.0.1.
    let net = Network::new().unwrap();
    // Three replicas at 10.77.0.2, .3, .4, reachable by name from the test and each other.
    let a = net.node("a").run(replica).unwrap();
    let b = net.node("b").run(replica).unwrap();
    let c = net.node("c").run(replica).unwrap();
    for node in ["a", "b", "c"] {
        assert_eq!(ping(node), format!("pong from {node}"));
    }

    // Split off `c`: the test stays with the first group, `a` and `b`.
    net.partition(&[&a, &b], &[&c]).unwrap();
    assert!(reachable("a") && reachable("b"));
    assert!(!reachable("c"));

    // Rejoin, and everyone answers again.
    net.heal().unwrap();
    assert_eq!(ping("c"), "pong from c");

    // Stop a replica and start it again: same name, same address.
    c.kill().unwrap();
    assert!(!reachable("c"));
    let _c = net.node("c").run(replica).unwrap();
    assert_eq!(ping("c"), "pong from c");
    // `a`, `b` and the new `c` are killed when their handles drop, as the test ends.
}

isolated::main!();
