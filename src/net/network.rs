//! The network: a bridge in the test's own network namespace, with the test on it, and what is
//! known about every node.

use std::fs::File;
use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::{self, NetError};
use super::hosts::{self, Names};
use super::node::{self, Node, NodeBuilder};
use crate::sys::nodes as syscalls;
use crate::sys::{Netlink, SysError};

/// The bridge every node's link starts on; the test's address is on it.
pub(super) const BRIDGE: &str = "isobr0";
/// The test's address on the network: every node's default gateway.
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
pub(super) const PREFIX_LEN: u8 = 24;
/// Nodes get `10.77.0.2` to `10.77.0.254`.
const NODE_HOSTS: std::ops::RangeInclusive<u8> = 2..=254;

/// A virtual switch in the test's own network namespace, and the nodes attached to it.
///
/// [`Network::new`] creates a bridge, `isobr0`, with the test itself on it at `10.77.0.1/24`;
/// [`Network::node`] starts processes in network, UTS and mount namespaces of their own
/// (*nodes*), each linked to the bridge by a veth pair and given the next address from
/// `10.77.0.2`. Every node's name, and the test's hostname, resolve on every node and in the
/// test, through `/etc/hosts`.
///
/// Everything lives in the test's namespaces: the host never sees a bridge, link or address,
/// and it all disappears when the test ends. One network per test.
pub struct Network {
    shared: Arc<Shared>,
}

/// What the network and its node handles share.
pub(super) struct Shared {
    /// The test's process: a node (a fork of it) must not use the network.
    owner: u32,
    state: Mutex<State>,
}

/// The network as it is now.
pub(super) struct State {
    /// Acts in the test's network namespace.
    pub netlink: Netlink,
    pub names: Names,
    /// The test's own `/etc/hosts`, rewritten in place.
    test_hosts: File,
    /// Every node ever started, in address order.
    pub nodes: Vec<Entry>,
    /// The bridges of the current partition, beyond [`BRIDGE`].
    pub extra_bridges: Vec<String>,
}

/// One node's place on the network; kept when it stops, so it restarts the same.
pub(super) struct Entry {
    pub name: String,
    pub addr: Ipv4Addr,
    /// Its link's end in the test's namespace, `vn-NAME`.
    pub peer: String,
    /// The bridge its link is on.
    pub bridge: String,
    /// Whether its link is up ([`Network::disconnect`] takes it down).
    pub connected: bool,
    /// Netem on its link, if any.
    pub link: Option<Link>,
    /// Its process, while it runs.
    pub pid: Option<i32>,
    /// Its `/etc/hosts`, opened through `/proc/PID/root`, while it runs.
    pub hosts: Option<File>,
}

/// Conditions on a node's link, emulated with netem ([`Network::set_link`]).
///
/// The default is a perfect link: no delay, no jitter, no loss.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Link {
    /// Added to every packet, in each direction.
    pub delay: Duration,
    /// Random variation of the delay, plus or minus.
    pub jitter: Duration,
    /// The share of packets dropped, in each direction, from 0.0 to 100.0.
    pub loss_percent: f32,
}

impl Network {
    /// Creates the bridge `isobr0` in the test's network namespace, puts the test on it at
    /// `10.77.0.1/24`, and adds the test's hostname at that address to its `/etc/hosts`.
    ///
    /// Needs the test's own network namespace: it fails with [`NetError::HostNetwork`] under
    /// `net = "host"`, and with [`NetError::AlreadyCreated`] for a second network in one test.
    pub fn new() -> Result<Network, NetError> {
        let mut netlink = Netlink::open().map_err(error::network("open a netlink socket"))?;
        refuse_host_network(&mut netlink)?;
        match netlink.add_bridge(BRIDGE) {
            Err(e) if syscalls::is_eexist(&e) => return Err(NetError::AlreadyCreated),
            other => other.map_err(error::network("create the bridge isobr0"))?,
        }
        if let Err(e) = put_test_on_bridge(&mut netlink) {
            // So that a second try does not find it and call itself a second network.
            let _ = netlink.delete_link_if_exists(BRIDGE);
            return Err(e);
        }
        let (test_hosts, test_base) = open_test_hosts()?;
        let test_hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_string())
            .map_err(|e| error::network("read the test's hostname")(io("read", "hostname", &e)))?;
        let state = State {
            netlink,
            names: Names {
                test_base,
                test_hostname,
                gateway: GATEWAY,
                nodes: Vec::new(),
            },
            test_hosts,
            nodes: Vec::new(),
            extra_bridges: Vec::new(),
        };
        state.write_hosts_files()?;
        let shared = Shared {
            owner: std::process::id(),
            state: Mutex::new(state),
        };
        Ok(Network {
            shared: Arc::new(shared),
        })
    }

    /// Starts describing a node named `name`: its hostname, and the name the test and every
    /// node resolve to its address. Then [`NodeBuilder::run`] a closure or
    /// [`NodeBuilder::command`] a program in it.
    ///
    /// A name is 1 to 12 letters, digits and `-` (its link in the test's namespace is
    /// `vn-NAME`, and interface names have 15 bytes). A node started again under the name of
    /// one that has stopped gets the same address, bridge, link state and conditions.
    pub fn node(&self, name: &str) -> NodeBuilder<'_> {
        NodeBuilder::new(self, name)
    }

    /// The test's own address on the network, `10.77.0.1`: every node's default gateway.
    pub fn addr(&self) -> Ipv4Addr {
        GATEWAY
    }

    /// The network's prefix length, 24.
    pub fn prefix_len(&self) -> u8 {
        PREFIX_LEN
    }

    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Shared {
    /// The state, for the process that created the network only.
    pub(super) fn lock(&self) -> Result<MutexGuard<'_, State>, NetError> {
        if std::process::id() != self.owner {
            return Err(NetError::WrongProcess);
        }
        Ok(self.state.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl Drop for Shared {
    /// The network and every node handle are gone: the bridges go, the test's `/etc/hosts`
    /// is as the sandbox wrote it. (A node holding a copy of the network does nothing.)
    fn drop(&mut self) {
        if std::process::id() != self.owner {
            return;
        }
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        for bridge in std::mem::take(&mut state.extra_bridges) {
            let _ = state.netlink.delete_link_if_exists(&bridge);
        }
        let _ = state.netlink.delete_link_if_exists(BRIDGE);
        let _ = hosts::rewrite(&state.test_hosts, &state.names.test_base);
    }
}

impl State {
    /// The node named `name`, known from an earlier start.
    pub(super) fn entry(&mut self, name: &str) -> Option<&mut Entry> {
        self.nodes.iter_mut().find(|e| e.name == name)
    }

    /// The place of a node about to start: its earlier one, or the next free address on the
    /// main bridge. Not recorded until the node is up ([`State::record`]).
    pub(super) fn place(&self, name: &str) -> Result<Entry, NetError> {
        if let Some(known) = self.nodes.iter().find(|e| e.name == name) {
            if known.pid.is_some() {
                return Err(NetError::AlreadyRunning(name.to_string()));
            }
            return Ok(Entry {
                name: known.name.clone(),
                addr: known.addr,
                peer: known.peer.clone(),
                bridge: known.bridge.clone(),
                connected: known.connected,
                link: known.link,
                pid: None,
                hosts: None,
            });
        }
        let host = NODE_HOSTS
            .clone()
            .find(|h| !self.nodes.iter().any(|e| e.addr.octets()[3] == *h))
            .ok_or_else(|| NetError::Full(name.to_string()))?;
        let [a, b, c, _] = GATEWAY.octets();
        Ok(Entry {
            name: name.to_string(),
            addr: Ipv4Addr::new(a, b, c, host),
            peer: peer_name(name),
            bridge: BRIDGE.to_string(),
            connected: true,
            link: None,
            pid: None,
            hosts: None,
        })
    }

    /// The names every hosts file lists once `entry` is on the network too.
    pub(super) fn names_with(&self, entry: &Entry) -> Names {
        let mut names = self.names.clone();
        if !names.nodes.iter().any(|(n, _)| *n == entry.name) {
            names.nodes.push((entry.name.clone(), entry.addr));
            names.nodes.sort_by_key(|(_, addr)| *addr);
        }
        names
    }

    /// Records a node that is up, and tells every hosts file about it.
    pub(super) fn record(&mut self, entry: Entry) -> Result<(), NetError> {
        self.names = self.names_with(&entry);
        match self.nodes.iter_mut().find(|e| e.name == entry.name) {
            Some(known) => *known = entry,
            None => {
                self.nodes.push(entry);
                self.nodes.sort_by_key(|e| e.addr);
            }
        }
        self.write_hosts_files()
    }

    /// The node `name` stopped: it no longer runs, and its link goes now rather than whenever
    /// the kernel gets to its network namespace, so it can start again at once.
    pub(super) fn stopped(&mut self, name: &str) {
        if let Some(entry) = self.entry(name) {
            entry.pid = None;
            entry.hosts = None;
        }
        let _ = self.netlink.delete_link_if_exists(&peer_name(name));
    }

    /// The test's and every running node's `/etc/hosts`, listing every node.
    fn write_hosts_files(&self) -> Result<(), NetError> {
        let update = |e: std::io::Error| {
            error::network("update the test's /etc/hosts")(io("write", "/etc/hosts", &e))
        };
        hosts::rewrite(&self.test_hosts, &self.names.test_file()).map_err(update)?;
        let node_file = self.names.node_file();
        for entry in &self.nodes {
            if let Some(file) = &entry.hosts {
                hosts::rewrite(file, &node_file).map_err(|e| NetError::Node {
                    node: entry.name.clone(),
                    step: "update its /etc/hosts".into(),
                    source: io("write", "/etc/hosts", &e).into(),
                })?;
            }
        }
        Ok(())
    }
}

/// The end of a node's link in the test's namespace.
fn peer_name(node: &str) -> String {
    format!("vn-{node}")
}

/// The node's entry, checking that it is one of this network's.
pub(super) fn check_owned(net: &Network, node: &Node) -> Result<(), NetError> {
    if Arc::ptr_eq(net.shared(), node::shared_of(node)) {
        Ok(())
    } else {
        Err(NetError::ForeignNode(node.name().to_string()))
    }
}

/// The test's address on the bridge, and the bridge up.
fn put_test_on_bridge(netlink: &mut Netlink) -> Result<(), NetError> {
    netlink
        .add_address(BRIDGE, GATEWAY.into(), PREFIX_LEN)
        .map_err(error::network("give the test its address on isobr0"))?;
    netlink
        .set_up(BRIDGE, true)
        .map_err(error::network("bring isobr0 up"))?;
    quick_arp_retries(BRIDGE).map_err(error::network("shorten ARP retries on isobr0"))
}

/// Under `net = "host"` a bridge would be the host's: refuse when the namespace has links a
/// test's own namespace does not have (`lo`, `eth0` under `net = "veth"`, links of nodes of
/// an earlier network of the test). A second network in one test is refused too.
fn refuse_host_network(netlink: &mut Netlink) -> Result<(), NetError> {
    let veth = crate::net::addr().is_some();
    let links = netlink
        .link_names()
        .map_err(error::network("list the test's network interfaces"))?;
    if links.iter().any(|l| l == BRIDGE) {
        return Err(NetError::AlreadyCreated);
    }
    let foreign: Vec<String> = links
        .into_iter()
        .filter(|l| l != "lo" && !(veth && l == "eth0") && !l.starts_with("vn-"))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(NetError::HostNetwork(foreign.join(", ")))
    }
}

/// Waits (2 s at most) until the bridge forwards on the node's link: its carrier reaches the
/// bridge a moment after the link comes up, through the kernel's link watch.
pub(super) fn wait_until_forwarding(peer: &str) {
    const BR_STATE_FORWARDING: &str = "3";
    let state = format!("/sys/class/net/{peer}/brport/state");
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        match std::fs::read_to_string(&state) {
            Ok(text) if text.trim() == BR_STATE_FORWARDING => return,
            Ok(_) => std::thread::sleep(Duration::from_millis(1)),
            Err(_) => return, // no sysfs to tell: the link is up, that has to do
        }
    }
}

/// ARP retries every 100 ms on `device` rather than every
/// second: once a link is back (`connect`, `heal`), a peer that failed to answer while it was
/// cut is found again within 100 ms, not a second later.
pub(super) fn quick_arp_retries(device: &str) -> Result<(), SysError> {
    write_sysctl(
        &format!("/proc/sys/net/ipv4/neigh/{device}/retrans_time_ms"),
        "100",
    )
}

/// Sets a sysctl of the current network namespace, through its /proc/sys/net.
pub(super) fn write_sysctl(path: &str, value: &str) -> Result<(), SysError> {
    std::fs::write(path, value).map_err(|e| io("write", path, &e))
}

/// The test's `/etc/hosts`, open for rewriting, and its contents now.
fn open_test_hosts() -> Result<(File, String), NetError> {
    let fail = |e: std::io::Error| {
        error::network("open the test's /etc/hosts")(io("open", "/etc/hosts", &e))
    };
    let file = File::options()
        .read(true)
        .write(true)
        .open("/etc/hosts")
        .map_err(fail)?;
    let mut base = String::new();
    std::io::Read::read_to_string(&mut &file, &mut base).map_err(fail)?;
    if !base.is_empty() && !base.ends_with('\n') {
        base.push('\n');
    }
    Ok((file, base))
}

fn io(op: &'static str, path: &str, e: &std::io::Error) -> SysError {
    syscalls::io_error(op, path, e)
}
