//! Every test works in network namespaces of its own, made by `unshare` on a thread of its own:
//! nothing here touches the host's network, which `in_new_netns` checks after each test.

use std::fs;
use std::net::IpAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::thread;
use std::time::Duration;

use nix::sched::{setns, unshare, CloneFlags};

use super::{Netlink, NO_NETEM};
use crate::sys::error::{Errno, SysError};

/// Every link these tests make starts with this, so a leak to the host would be seen.
const PREFIX: &str = "nlt-";

/// Runs `work` on a new thread in a new, empty network namespace, with a socket opened there.
fn in_new_netns<T: Send>(work: impl FnOnce(&mut Netlink) -> T + Send) -> T {
    let result = thread::scope(|s| {
        let worker = s.spawn(|| {
            enter_new_netns();
            work(&mut Netlink::open().expect("netlink socket"))
        });
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    assert_eq!(
        host_links_of_ours(),
        Vec::<String>::new(),
        "a link reached the host"
    );
    result
}

/// Moves the calling thread into a new network namespace, and makes sure it left the host's.
fn enter_new_netns() {
    unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET): run the tests as root");
    let id = |path: &str| fs::metadata(path).map(|m| (m.dev(), m.ino())).unwrap();
    assert_ne!(id("/proc/thread-self/ns/net"), id("/proc/self/ns/net"));
}

/// A second, empty network namespace, kept alive by the returned fd.
fn new_netns() -> OwnedFd {
    thread::spawn(|| {
        enter_new_netns();
        OwnedFd::from(fs::File::open("/proc/thread-self/ns/net").unwrap())
    })
    .join()
    .unwrap()
}

/// A socket opened inside `netns` (by a thread that joins it and ends).
fn netlink_in(netns: &OwnedFd) -> Netlink {
    thread::scope(|s| {
        s.spawn(|| {
            setns(netns, CloneFlags::CLONE_NEWNET).unwrap();
            Netlink::open().unwrap()
        })
        .join()
        .unwrap()
    })
}

/// The host's links (sysfs was mounted in the host's namespace) that have our prefix.
fn host_links_of_ours() -> Vec<String> {
    let entries = fs::read_dir("/sys/class/net").unwrap();
    let names = entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned());
    names.filter(|name| name.starts_with(PREFIX)).collect()
}

fn has_link(netlink: &mut Netlink, name: &str) -> bool {
    netlink.link_names().unwrap().iter().any(|n| n == name)
}

/// The calling thread's view of a `/proc/net` file: `/proc/net` itself follows the netns of
/// the process's main thread.
fn proc_net(file: &str) -> String {
    fs::read_to_string(format!("/proc/thread-self/net/{file}")).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn veth_pair_has_both_ends() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        assert!(has_link(nl, "nlt-a") && has_link(nl, "nlt-b"));
        let (a, b) = (
            nl.link_index("nlt-a").unwrap(),
            nl.link_index("nlt-b").unwrap(),
        );
        assert!(a > 0 && b > 0 && a != b);
    });
}

#[test]
fn veth_peer_is_created_in_another_netns() {
    let other = new_netns();
    in_new_netns(|nl| {
        nl.add_veth("nlt-here", "nlt-there", Some(other.as_fd()))
            .unwrap();
        assert!(has_link(nl, "nlt-here") && !has_link(nl, "nlt-there"));
        let mut there = netlink_in(&other);
        assert!(has_link(&mut there, "nlt-there") && !has_link(&mut there, "nlt-here"));
    });
}

#[test]
fn link_moves_to_another_netns() {
    let other = new_netns();
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        nl.move_to_netns("nlt-b", other.as_fd()).unwrap();
        assert!(has_link(nl, "nlt-a") && !has_link(nl, "nlt-b"));
        assert!(has_link(&mut netlink_in(&other), "nlt-b"));
    });
}

#[test]
fn socket_acts_in_the_netns_it_was_opened_in() {
    let other = new_netns();
    in_new_netns(|here| {
        // Opened in the other namespace, used from this one.
        let mut there = netlink_in(&other);
        there.add_bridge("nlt-br").unwrap();
        assert!(has_link(&mut there, "nlt-br"));
        assert!(!has_link(here, "nlt-br"));
    });
}

#[test]
fn addresses_are_added_and_visible() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        nl.add_address("nlt-a", ip("10.7.0.2"), 24).unwrap();
        nl.add_address("nlt-a", ip("fd07::2"), 64).unwrap();
        let addresses = nl.addresses("nlt-a").unwrap();
        assert!(addresses.contains(&(ip("10.7.0.2"), 24)), "{addresses:?}");
        assert!(addresses.contains(&(ip("fd07::2"), 64)), "{addresses:?}");
        assert_eq!(nl.addresses("nlt-b").unwrap(), vec![]);
        let if_inet6 = proc_net("if_inet6");
        assert!(if_inet6.lines().any(|l| {
            l.starts_with("fd070000000000000000000000000002 ") && l.ends_with(" nlt-a")
        }));
    });
}

#[test]
fn links_go_up_and_down() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        assert!(!nl.is_up("nlt-a").unwrap());
        nl.set_up("nlt-a", true).unwrap();
        assert!(nl.is_up("nlt-a").unwrap());
        assert!(!nl.is_up("nlt-b").unwrap());
        nl.set_up("nlt-a", false).unwrap();
        assert!(!nl.is_up("nlt-a").unwrap());
    });
}

#[test]
fn bridge_takes_two_veths_as_ports() {
    in_new_netns(|nl| {
        nl.add_bridge("nlt-br").unwrap();
        nl.add_veth("nlt-p0", "nlt-q0", None).unwrap();
        nl.add_veth("nlt-p1", "nlt-q1", None).unwrap();
        nl.set_master("nlt-p0", "nlt-br").unwrap();
        nl.set_master("nlt-p1", "nlt-br").unwrap();
        let bridge = nl.link_index("nlt-br").unwrap();
        assert_eq!(nl.master_of("nlt-p0").unwrap(), Some(bridge));
        assert_eq!(nl.master_of("nlt-p1").unwrap(), Some(bridge));
        assert_eq!(nl.master_of("nlt-q0").unwrap(), None);

        nl.set_nomaster("nlt-p1").unwrap();
        assert_eq!(nl.master_of("nlt-p1").unwrap(), None);
        assert_eq!(nl.master_of("nlt-p0").unwrap(), Some(bridge));
    });
}

#[test]
fn default_routes_go_through_the_gateway() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        nl.add_address("nlt-a", ip("10.8.0.2"), 24).unwrap();
        nl.add_address("nlt-a", ip("fd08::2"), 64).unwrap();
        nl.set_up("nlt-a", true).unwrap();
        nl.set_up("nlt-b", true).unwrap();
        nl.add_default_route(ip("10.8.0.1")).unwrap();
        nl.add_default_route(ip("fd08::1")).unwrap();

        // Iface, Destination, Gateway (little-endian hex): nlt-a 00000000 0100080A.
        let route = proc_net("route");
        let v4 = route
            .lines()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>());
        assert!(
            v4.into_iter()
                .any(|f| f == ["nlt-a", "00000000", "0100080A"]),
            "{route}"
        );
        // Destination, its length, source, its length, next hop, ..., device.
        let route6 = proc_net("ipv6_route");
        assert!(
            route6.lines().any(|l| {
                let f: Vec<_> = l.split_whitespace().collect();
                f[0] == "0".repeat(32)
                    && f[1] == "00"
                    && f[4] == "fd080000000000000000000000000001"
                    && f[9] == "nlt-a"
            }),
            "{route6}"
        );
    });
}

#[test]
fn deleting_one_end_deletes_the_veth_pair() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        nl.delete_link("nlt-a").unwrap();
        assert!(!has_link(nl, "nlt-a") && !has_link(nl, "nlt-b"));
        assert!(!nl.delete_link_if_exists("nlt-a").unwrap());

        nl.add_bridge("nlt-br").unwrap();
        assert!(nl.delete_link_if_exists("nlt-br").unwrap());
        assert!(!has_link(nl, "nlt-br"));
    });
}

#[test]
fn links_are_renamed() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        let index = nl.link_index("nlt-b").unwrap();
        nl.rename("nlt-b", "nlt-eth0").unwrap();
        assert!(!has_link(nl, "nlt-b"));
        assert_eq!(nl.link_index("nlt-eth0").unwrap(), index);
    });
}

#[test]
fn netem_is_set_and_cleared_or_reported_missing() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        let (delay, jitter) = (Duration::from_millis(20), Duration::from_millis(5));
        match nl.set_netem("nlt-a", delay, jitter, 1.5) {
            Ok(()) => {
                assert_eq!(nl.qdisc_kinds("nlt-a").unwrap().first().unwrap(), "netem");
                // Replacing it works too.
                nl.set_netem("nlt-a", delay * 2, Duration::ZERO, 0.0)
                    .unwrap();
                nl.clear_qdisc("nlt-a").unwrap();
                assert!(!nl.qdisc_kinds("nlt-a").unwrap().contains(&"netem".into()));
            }
            Err(e) => {
                assert_eq!((e.op, e.errno), (NO_NETEM, Errno::ENOENT));
                let message = e.to_string();
                let plainly = "the kernel has no netem qdisc (module sch_netem): delay and loss \
                               need it";
                assert!(message.contains(plainly), "{message}");
                eprintln!("netem unavailable here: {message}");
            }
        }
    });
}

#[test]
fn root_qdisc_is_cleared_and_clearing_the_default_is_a_no_op() {
    in_new_netns(|nl| {
        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        nl.clear_qdisc("nlt-a").unwrap();
        // pfifo is built into most kernels: it stands in for netem to test clearing.
        nl.replace_root_qdisc("netlink RTM_NEWQDISC (pfifo)", "nlt-a", "pfifo", None)
            .unwrap();
        assert_eq!(nl.qdisc_kinds("nlt-a").unwrap().first().unwrap(), "pfifo");
        nl.clear_qdisc("nlt-a").unwrap();
        assert!(!nl.qdisc_kinds("nlt-a").unwrap().contains(&"pfifo".into()));
    });
}

#[test]
fn errors_name_the_operation_and_the_interface() {
    in_new_netns(|nl| {
        let missing = nl
            .add_address("nlt-missing", ip("10.9.0.2"), 24)
            .unwrap_err();
        let expected = SysError::at("netlink RTM_NEWADDR", "nlt-missing", Errno::ENODEV);
        assert_eq!(missing, expected);
        assert_eq!(
            missing.to_string(),
            "netlink RTM_NEWADDR(nlt-missing) => ENODEV: No such device"
        );

        nl.add_veth("nlt-a", "nlt-b", None).unwrap();
        let again = nl.add_veth("nlt-a", "nlt-c", None).unwrap_err();
        assert_eq!(
            again,
            SysError::at("netlink RTM_NEWLINK (veth)", "nlt-a", Errno::EEXIST)
        );

        let no_bridge = nl.set_master("nlt-a", "nlt-nobr").unwrap_err();
        let expected = SysError::at("netlink RTM_SETLINK (master)", "nlt-nobr", Errno::ENODEV);
        assert_eq!(no_bridge, expected);

        let unreachable = nl.add_default_route(ip("10.9.0.1")).unwrap_err();
        assert_eq!(unreachable.op, "netlink RTM_NEWROUTE (default)");
        assert_eq!(unreachable.errno, Errno::ENETUNREACH);

        let zero = Duration::ZERO;
        let loss = nl.set_netem("nlt-a", zero, zero, 150.0).unwrap_err();
        assert_eq!(
            loss,
            SysError::at("netlink RTM_NEWQDISC (netem)", "nlt-a", Errno::EINVAL)
        );
        let gone = nl.delete_link("nlt-missing").unwrap_err();
        assert_eq!(
            gone,
            SysError::at("netlink RTM_DELLINK", "nlt-missing", Errno::ENODEV)
        );
    });
}
