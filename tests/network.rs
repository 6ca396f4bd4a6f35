//! `isolated::net` from inside tests: nodes on a virtual switch that talk by name, partitions,
//! cut links, netem, exit codes, setup errors, and each node's own filesystem.
//! Runs on the built-in Alpine fixture (ISOLATED_FIXTURES_PATH) and on the host's root.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

use isolated::isolated;
use isolated::net::{Link, NetError, Network, Node, NodeExit};

/// Where every node's agent listens.
const PORT: u16 = 7000;
/// A connection that takes longer than this does not get through.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);

/// A node's service: one command per line, one reply per line, on TCP; and a UDP echo on
/// the same port, for measuring what a link does to single packets.
fn agent() -> i32 {
    let udp = UdpSocket::bind(("0.0.0.0", PORT)).expect("bind the agent's UDP port");
    std::thread::spawn(move || {
        let mut packet = [0u8; 64];
        loop {
            let (n, from) = udp.recv_from(&mut packet).expect("recv_from");
            udp.send_to(&packet[..n], from).expect("send_to");
        }
    });
    let listener = TcpListener::bind(("0.0.0.0", PORT)).expect("bind the agent's port");
    for stream in listener.incoming() {
        let stream = stream.expect("accept");
        std::thread::spawn(move || serve(stream));
    }
    0
}

fn serve(stream: TcpStream) {
    let mut out = stream.try_clone().unwrap();
    for line in BufReader::new(stream).lines() {
        let line = line.unwrap();
        let words: Vec<&str> = line.split_whitespace().collect();
        let reply = match words[..] {
            ["echo", text] => text.to_string(),
            ["probe", host] => if reaches(host) { "ok" } else { "fail" }.to_string(),
            ["resolve", name] => resolve(name),
            ["hostname"] => fs::read_to_string("/proc/sys/kernel/hostname").unwrap(),
            ["read", path] => fs::read_to_string(path).unwrap_or_else(|_| "missing".into()),
            ["write", path] => fs::write(path, "node").map_or("failed".into(), |()| "done".into()),
            ["links"] => {
                let names = fs::read_dir("/sys/class/net").unwrap();
                let mut names: Vec<String> = names
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
                names.sort();
                names.join(",")
            }
            _ => format!("unknown command {line}"),
        };
        writeln!(out, "{}", reply.trim()).unwrap();
    }
}

/// Whether `host`'s agent accepts a connection within [`CONNECT_TIMEOUT`].
fn reaches(host: &str) -> bool {
    let Some(addr) = (host, PORT)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).is_ok()
}

fn resolve(name: &str) -> String {
    match (name, 0).to_socket_addrs() {
        Ok(mut addrs) => addrs.next().map_or("none".into(), |a| a.ip().to_string()),
        Err(_) => "none".into(),
    }
}

/// Sends `command` to the agent of `node` (a name), retrying until it has started listening.
fn ask(node: &str, command: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let stream = loop {
        match TcpStream::connect((node, PORT)) {
            Ok(stream) => break stream,
            Err(e) if Instant::now() > deadline => panic!("cannot reach {node}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    };
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    writeln!(&stream, "{command}").unwrap();
    let mut reply = String::new();
    reader.read_line(&mut reply).unwrap();
    reply.trim().to_string()
}

fn start_agents(net: &Network, names: &[&str]) -> Vec<Node> {
    let nodes: Vec<Node> = names
        .iter()
        .map(|name| net.node(name).run(agent).unwrap())
        .collect();
    for name in names {
        assert_eq!(ask(name, "echo hello"), "hello", "{name} answers");
    }
    nodes
}

#[isolated(rootfs = "alpine", hostname = "tester", timeout = "30s")]
fn three_nodes_talk_over_tcp_by_name() {
    let net = Network::new().unwrap();
    let nodes = start_agents(&net, &["a", "b", "c"]);
    let addrs: Vec<String> = nodes.iter().map(|n| n.addr().to_string()).collect();
    assert_eq!(addrs, ["10.77.0.2", "10.77.0.3", "10.77.0.4"]);
    // Each node reaches the others by name, a node started before them included.
    for (from, to) in [("a", "b"), ("a", "c"), ("b", "c"), ("c", "a")] {
        assert_eq!(ask(from, &format!("probe {to}")), "ok", "{from} -> {to}");
    }
    assert_eq!(ask("b", "resolve c"), "10.77.0.4");
    assert_eq!(
        ask("b", "resolve tester"),
        "10.77.0.1",
        "the test's hostname"
    );
    assert_eq!(ask("c", "hostname"), "c");
    assert_eq!(ask("a", "links"), "eth0,lo", "a /sys of its own");
    let sysctl = "read /proc/sys/net/ipv4/neigh/eth0/retrans_time_ms";
    assert_eq!(ask("a", sysctl), "100", "its own /proc/sys/net");
    let hosts = fs::read_to_string("/etc/hosts").unwrap();
    assert!(hosts.contains("10.77.0.3\tb\n"), "{hosts}");
    assert!(
        hosts.contains("localhost"),
        "the sandbox's lines stay: {hosts}"
    );
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn busybox_nc_node_echoes() {
    let net = Network::new().unwrap();
    let _nc = net
        .node("nc")
        .command("sh", ["-c", "nc -lk -p 7000 -e cat"])
        .start()
        .unwrap();
    assert_eq!(ask("nc", "ping"), "ping");
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn partition_splits_and_heal_rejoins() {
    let net = Network::new().unwrap();
    let nodes = start_agents(&net, &["a", "b", "c"]);
    let [a, b, c] = [&nodes[0], &nodes[1], &nodes[2]];
    net.partition(&[a, c], &[b]).unwrap();
    assert_eq!(ask("a", "probe b"), "fail", "across the partition");
    assert_eq!(ask("a", "probe c"), "ok", "inside a group");
    // The test is on the first group's side.
    assert!(!reaches("b"), "the test does not reach the other group");
    net.heal().unwrap();
    assert_eq!(ask("a", "probe b"), "ok");
    assert_eq!(ask("b", "probe c"), "ok");
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn disconnect_cuts_one_node_and_connect_restores_it() {
    let net = Network::new().unwrap();
    let nodes = start_agents(&net, &["a", "b"]);
    net.disconnect(&nodes[0]).unwrap();
    assert!(!reaches("a"));
    assert_eq!(ask("b", "probe a"), "fail");
    net.connect(&nodes[0]).unwrap();
    assert!(reaches("a"));
    assert_eq!(ask("b", "probe a"), "ok");
}

/// Checks the delay where the kernel has netem, and the plain error where it does not (this
/// development VM's kernel is built without it).
#[isolated(rootfs = "alpine", timeout = "30s")]
fn set_link_delays_round_trips_or_says_netem_is_missing() {
    let net = Network::new().unwrap();
    let nodes = start_agents(&net, &["a"]);
    let round_trip = || {
        let start = Instant::now();
        assert_eq!(ask("a", "echo x"), "x");
        start.elapsed()
    };
    let before = round_trip();
    let delay = Duration::from_millis(100);
    let slow = Link {
        delay,
        ..Link::default()
    };
    match net.set_link(&nodes[0], slow) {
        Ok(()) => {
            // Connect and ask: two round trips, each delayed both ways.
            let after = round_trip();
            assert!(after >= before + 3 * delay, "{before:?} then {after:?}");
            net.clear_link(&nodes[0]).unwrap();
            assert!(round_trip() < after);
        }
        Err(e @ NetError::NetemUnavailable { .. }) => {
            let message = e.to_string();
            assert!(message.contains("no netem"), "{message}");
            assert!(message.contains("sch_netem"), "{message}");
            eprintln!("netem is not in this kernel: checked its error instead: {message}");
        }
        Err(e) => panic!("set_link: {e}: {:?}", std::error::Error::source(&e)),
    }
}

/// Loss and jitter, measured with UDP packets to a node's echo where the kernel has netem.
#[isolated(rootfs = "alpine", timeout = "60s")]
fn set_link_loses_and_jitters_packets_or_says_netem_is_missing() {
    let net = Network::new().unwrap();
    let nodes = start_agents(&net, &["a"]);
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect(("a", PORT)).unwrap();

    // 30% lost each way: of 200 packets, about 49% come back (binomial, sd ≈ 7).
    let lossy = Link {
        loss_percent: 30.0,
        ..Link::default()
    };
    match net.set_link(&nodes[0], lossy) {
        Ok(()) => {}
        Err(e @ NetError::NetemUnavailable { .. }) => {
            assert!(e.to_string().contains("sch_netem"), "{e}");
            eprintln!("netem is not in this kernel: checked its error instead: {e}");
            return;
        }
        Err(e) => panic!("set_link: {e}: {:?}", std::error::Error::source(&e)),
    }
    let back = echoes_of_a_burst(&socket, 200);
    assert!((60..=140).contains(&back), "{back} of 200 came back");

    // 40 ms ± 20 ms each way: round trips between 40 and 120 ms, spread over much of it.
    let jittery = Link {
        delay: Duration::from_millis(40),
        jitter: Duration::from_millis(20),
        ..Link::default()
    };
    net.set_link(&nodes[0], jittery).unwrap();
    let mut round_trips: Vec<Duration> = (0..40).map(|i| round_trip(&socket, i)).collect();
    round_trips.sort();
    let (fastest, slowest) = (round_trips[0], round_trips[39]);
    assert!(fastest >= Duration::from_millis(39), "{round_trips:?}");
    assert!(
        slowest - fastest >= Duration::from_millis(25),
        "{round_trips:?}"
    );
    net.clear_link(&nodes[0]).unwrap();
    assert_eq!(
        echoes_of_a_burst(&socket, 50),
        50,
        "a cleared link loses nothing"
    );
}

/// Sends `count` numbered packets at once; how many different ones came back.
fn echoes_of_a_burst(socket: &UdpSocket, count: u32) -> usize {
    for i in 0..count {
        socket.send(&i.to_be_bytes()).unwrap();
        std::thread::sleep(Duration::from_micros(200));
    }
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut packet = [0u8; 4];
    while socket.recv(&mut packet).is_ok() {
        seen.insert(u32::from_be_bytes(packet));
    }
    seen.len()
}

/// The round trip of one packet numbered `id` (older echoes are skipped).
fn round_trip(socket: &UdpSocket, id: u32) -> Duration {
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let start = Instant::now();
    socket.send(&(1_000_000 + id).to_be_bytes()).unwrap();
    let mut packet = [0u8; 4];
    loop {
        socket.recv(&mut packet).expect("an echo within 2 s");
        if u32::from_be_bytes(packet) == 1_000_000 + id {
            return start.elapsed();
        }
    }
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn exit_codes_propagate() {
    let net = Network::new().unwrap();
    let seven = net.node("seven").run(|| 7).unwrap();
    assert_eq!(seven.wait().unwrap(), NodeExit::Exited(7));
    let panics = net.node("panics").run(|| panic!("node boom")).unwrap();
    assert_eq!(panics.wait().unwrap().code(), Some(101));
    let sh = net
        .node("sh")
        .command("sh", ["-c", "exit 3"])
        .start()
        .unwrap();
    assert_eq!(sh.wait().unwrap().code(), Some(3));
    let sleeper = net
        .node("sleeper")
        .command("sleep", ["60"])
        .start()
        .unwrap();
    assert_eq!(sleeper.kill().unwrap(), NodeExit::Signaled(9));
    // The closure borrows from the test and sees its hostname (the environment is the test's,
    // untouched: setting a variable after a fork could wait on a lock another thread held).
    let expected = String::from("checked");
    let borrowed = net
        .node("borrows")
        .run(|| {
            let hostname = fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
            i32::from(!(expected == "checked" && hostname.trim() == "borrows"))
        })
        .unwrap();
    assert!(borrowed.wait().unwrap().success());
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn a_stopped_node_restarts_at_its_address() {
    let net = Network::new().unwrap();
    let mut nodes = start_agents(&net, &["a", "b"]);
    let first = nodes.remove(0);
    let addr = first.addr();
    assert_eq!(first.kill().unwrap(), NodeExit::Signaled(9));
    assert_eq!(ask("b", "probe a"), "fail");
    let again = net.node("a").run(agent).unwrap();
    assert_eq!(again.addr(), addr);
    assert_eq!(ask("a", "echo back"), "back");
    assert_eq!(ask("b", "probe a"), "ok");
}

#[isolated(rootfs = "alpine", timeout = "30s")]
fn each_node_has_its_own_filesystem() {
    fs::write("/etc/from-test", "test").unwrap();
    fs::write("/tmp/test-tmp", "test").unwrap();
    let net = Network::new().unwrap();
    let _nodes = start_agents(&net, &["a", "b"]);
    assert_eq!(
        ask("a", "read /etc/from-test"),
        "test",
        "the test's root is the lower layer"
    );
    assert_eq!(
        ask("a", "read /tmp/test-tmp"),
        "missing",
        "a /tmp of its own"
    );
    assert_eq!(ask("a", "write /etc/from-node"), "done");
    assert_eq!(ask("a", "read /etc/from-node"), "node");
    assert_eq!(
        ask("b", "read /etc/from-node"),
        "missing",
        "not another node's"
    );
    assert!(fs::metadata("/etc/from-node").is_err(), "not the test's");
}

#[isolated(timeout = "30s")]
fn nodes_on_the_read_only_host_root() {
    let net = Network::new().unwrap();
    let _nodes = start_agents(&net, &["a", "b"]);
    assert_eq!(ask("a", "probe b"), "ok");
    assert_eq!(
        ask("a", "write /etc/from-node"),
        "done",
        "its writes go to its overlay"
    );
    assert!(fs::metadata("/etc/from-node").is_err());
    assert_eq!(ask("a", "write /tmp/x"), "done");
}

#[isolated(timeout = "30s")]
fn setup_errors_name_the_node_the_step_and_the_call() {
    let net = Network::new().unwrap();
    let missing = net.node("lost").command("/no/such/program", ["x"]).start();
    let e = missing.unwrap_err();
    assert_eq!(e.to_string(), "node `lost`: failed to start its program");
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert_eq!(
        source,
        "execvp(/no/such/program) => ENOENT: No such file or directory"
    );

    // An interface already named like the node's link: the kernel refuses the veth pair.
    let status = std::process::Command::new("ip")
        .args(["link", "add", "vn-taken", "type", "bridge"])
        .status()
        .expect("iproute2's `ip`, from the host's root");
    assert!(status.success());
    let e = net.node("taken").run(|| 0).unwrap_err();
    assert_eq!(
        e.to_string(),
        "node `taken`: failed to create its veth pair"
    );
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("EEXIST"), "{source}");

    let e = net.node("bad_name").run(|| 0).unwrap_err();
    assert!(matches!(e, NetError::InvalidName { .. }), "{e}");
    let _up = net.node("up").run(agent).unwrap();
    let e = net.node("up").run(agent).unwrap_err();
    assert!(matches!(e, NetError::AlreadyRunning(_)), "{e}");
    assert!(matches!(Network::new(), Err(NetError::AlreadyCreated)));
}

#[isolated(net = "host", timeout = "30s")]
fn refuses_the_hosts_network_namespace() {
    let e = Network::new()
        .err()
        .expect("a network in the host's namespace");
    assert!(matches!(e, NetError::HostNetwork(_)), "{e}");
}

/// A node handle moved into another node's closure belongs to that node: starting it must
/// neither hang (the parent dropping the closure under the network's lock) nor kill the first.
#[isolated(rootfs = "alpine", timeout = "20s")]
fn a_node_moved_into_another_nodes_closure() {
    let net = Network::new().unwrap();
    let a = net.node("a").command("sleep", ["30"]).start().unwrap();
    let a_addr = a.addr();
    let b = net
        .node("b")
        .run(move || {
            let _handed_over = &a;
            0
        })
        .unwrap();
    assert!(b.wait().unwrap().success());
    // `a` still answers on the switch: nobody killed it.
    let ping = std::process::Command::new("ping")
        .args(["-c", "1", "-W", "2", &a_addr.to_string()])
        .status()
        .unwrap();
    assert!(
        ping.success(),
        "a was killed when its handle was handed over"
    );
}

isolated::main!();
