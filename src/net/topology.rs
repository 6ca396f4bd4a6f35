//! Changing who reaches whom, and how well: links down and up, partitions, netem.
//!
//! Every change is made on the node's link end in the test's namespace (`vn-NAME`), and for
//! netem on its `eth0` too. A node that is not running keeps the change and gets it when it
//! starts again under the same name.

use std::fs::File;
use std::os::fd::AsFd;

use super::error::{self, NetError};
use super::network::{check_owned, wait_until_forwarding, Entry, Link, Network, State, BRIDGE};
use super::node::Node;
use crate::sys::nodes as syscalls;
use crate::sys::{Netlink, SysError, SysResult, NO_NETEM};

impl Network {
    /// Cuts the node's link: nothing reaches it, from the test or other nodes, until
    /// [`Network::connect`]. Its processes keep running; its open connections stall.
    pub fn disconnect(&self, node: &Node) -> Result<(), NetError> {
        self.set_connected(node, false)
    }

    /// Restores a link cut by [`Network::disconnect`].
    pub fn connect(&self, node: &Node) -> Result<(), NetError> {
        self.set_connected(node, true)
    }

    /// Splits the network in two: the nodes of `a` reach each other, the nodes of `b` reach
    /// each other, and no packet crosses between the groups until [`Network::heal`].
    ///
    /// Same as [`Network::partition_groups`] with the two groups: `a` stays with the test.
    pub fn partition(&self, a: &[&Node], b: &[&Node]) -> Result<(), NetError> {
        self.partition_groups(&[a, b])
    }

    /// Splits the network into `groups` that cannot reach each other: each group gets a
    /// bridge of its own. A new partition replaces the previous one.
    ///
    /// The first group stays on the test's bridge, with the test and every node that is in
    /// no group: while partitioned, **the test reaches only those nodes**. A node may be in
    /// one group at most.
    pub fn partition_groups(&self, groups: &[&[&Node]]) -> Result<(), NetError> {
        let mut names: Vec<&str> = Vec::new();
        for node in groups.iter().flat_map(|g| g.iter()) {
            check_owned(self, node)?;
            if names.contains(&node.name()) {
                return Err(NetError::OverlappingGroups(node.name().to_string()));
            }
            names.push(node.name());
        }
        let bridge_of = |name: &str| {
            let group = groups
                .iter()
                .position(|g| g.iter().any(|n| n.name() == name));
            bridge_name(group.unwrap_or(0))
        };
        regroup(&mut *self.shared().lock()?, groups.len(), bridge_of)
    }

    /// Ends a partition: every node's link is back on the test's bridge.
    pub fn heal(&self) -> Result<(), NetError> {
        regroup(&mut *self.shared().lock()?, 0, |_| BRIDGE.to_string())
    }

    /// Emulates `link` conditions on the node's link with netem, on both of its ends: each
    /// direction gets the delay, jitter and loss, so a round trip to the node takes about
    /// `2 × delay` longer. Replaces earlier conditions.
    ///
    /// Fails with [`NetError::NetemUnavailable`] on a kernel without netem.
    pub fn set_link(&self, node: &Node, link: Link) -> Result<(), NetError> {
        check_owned(self, node)?;
        let name = node.name();
        let mut state = self.shared().lock()?;
        let State { netlink, nodes, .. } = &mut *state;
        let entry = known(nodes, name)?;
        if let Some(pid) = entry.pid {
            let netem = |nl: &mut Netlink, ifname: &str| {
                nl.set_netem(ifname, link.delay, link.jitter, link.loss_percent)
            };
            netem(netlink, &entry.peer).map_err(netem_error(name, "emulate its link"))?;
            in_netns_of(pid, |own| netem(own, "eth0"))
                .map_err(netem_error(name, "emulate its link on its own end"))?;
        }
        entry.link = Some(link);
        Ok(())
    }

    /// Removes the conditions [`Network::set_link`] put on the node's link.
    pub fn clear_link(&self, node: &Node) -> Result<(), NetError> {
        check_owned(self, node)?;
        let name = node.name();
        let mut state = self.shared().lock()?;
        let State { netlink, nodes, .. } = &mut *state;
        let entry = known(nodes, name)?;
        if let (Some(pid), Some(_)) = (entry.pid, entry.link) {
            let clear = "clear the conditions on its link";
            netlink
                .clear_qdisc(&entry.peer)
                .map_err(error::node(name, clear))?;
            in_netns_of(pid, |own| own.clear_qdisc("eth0")).map_err(error::node(name, clear))?;
        }
        entry.link = None;
        Ok(())
    }

    fn set_connected(&self, node: &Node, up: bool) -> Result<(), NetError> {
        check_owned(self, node)?;
        let name = node.name();
        let mut state = self.shared().lock()?;
        let State { netlink, nodes, .. } = &mut *state;
        let entry = known(nodes, name)?;
        if entry.pid.is_some() {
            let step = if up {
                "bring its link up"
            } else {
                "take its link down"
            };
            netlink
                .set_up(&entry.peer, up)
                .map_err(error::node(name, step))?;
            if up {
                wait_until_forwarding(&entry.peer);
            }
        }
        entry.connected = up;
        Ok(())
    }
}

/// `isobr0` for the first group (the test's), `isobr1`, `isobr2`, … for the others.
fn bridge_name(group: usize) -> String {
    format!("isobr{group}")
}

/// Makes bridges for `groups` groups, moves every node's link to `bridge_of(name)`, and
/// deletes the bridges no group uses any more.
fn regroup(
    state: &mut State,
    groups: usize,
    bridge_of: impl Fn(&str) -> String,
) -> Result<(), NetError> {
    for group in 1..groups {
        let bridge = bridge_name(group);
        if !state.extra_bridges.contains(&bridge) {
            add_bridge(&mut state.netlink, &bridge)?;
            state.extra_bridges.push(bridge);
        }
    }
    let State { netlink, nodes, .. } = state;
    for entry in nodes.iter_mut() {
        let bridge = bridge_of(&entry.name);
        if bridge != entry.bridge && entry.pid.is_some() {
            let step = "move its link to another bridge";
            netlink
                .set_master(&entry.peer, &bridge)
                .map_err(error::node(&entry.name, step))?;
            if entry.connected {
                wait_until_forwarding(&entry.peer);
            }
        }
        entry.bridge = bridge;
    }
    let used: Vec<String> = (1..groups).map(bridge_name).collect();
    let unused: Vec<String> = state
        .extra_bridges
        .iter()
        .filter(|b| !used.contains(b))
        .cloned()
        .collect();
    for bridge in unused {
        state
            .netlink
            .delete_link_if_exists(&bridge)
            .map_err(error::network("delete a partition's bridge"))?;
        state.extra_bridges.retain(|b| *b != bridge);
    }
    Ok(())
}

fn add_bridge(netlink: &mut Netlink, bridge: &str) -> Result<(), NetError> {
    match netlink.add_bridge(bridge) {
        Err(e) if syscalls::is_eexist(&e) => {}
        other => other.map_err(error::network("create a partition's bridge"))?,
    }
    netlink
        .set_up(bridge, true)
        .map_err(error::network("bring a partition's bridge up"))
}

/// Runs `work` with a netlink socket in the network namespace of process `pid`, opened on a
/// short-lived thread that enters it (the test's other threads stay where they are).
fn in_netns_of(pid: i32, work: impl FnOnce(&mut Netlink) -> SysResult<()> + Send) -> SysResult<()> {
    let path = format!("/proc/{pid}/ns/net");
    let netns = File::open(&path).map_err(|e| syscalls::io_error("open", &path, &e))?;
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            syscalls::enter_netns(netns.as_fd())?;
            work(&mut Netlink::open()?)
        });
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// A netem failure: the kernel's missing netem said plainly, anything else as a step.
fn netem_error<'a>(name: &'a str, step: &'static str) -> impl FnOnce(SysError) -> NetError + 'a {
    move |e| {
        if e.op == NO_NETEM {
            NetError::NetemUnavailable {
                node: name.to_string(),
            }
        } else {
            error::node(name, step)(e)
        }
    }
}

/// The entry of the node `name` (`nodes` apart from the rest of the state, so the netlink
/// socket can be borrowed next to it).
fn known<'a>(nodes: &'a mut [Entry], name: &str) -> Result<&'a mut Entry, NetError> {
    let entry = nodes.iter_mut().find(|e| e.name == name);
    entry.ok_or_else(|| NetError::ForeignNode(name.to_string()))
}
