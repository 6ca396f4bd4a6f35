//! The node's side of its start, in the forked child: namespaces, link, filesystem, then the
//! closure or the program. Every failure goes back to the test, naming the step and the call.

use std::fs::File;
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::panic::{self, AssertUnwindSafe};
use std::process::Command;

use super::error::{Step, StepError, SyscallError};
use super::network::{quick_arp_retries, write_sysctl, Entry, Link, State};
use super::node_root;
use crate::sys::nodes as syscalls;
use crate::sys::{self, Netlink};

/// The byte the node sends once it is set up; anything else starts a failure report.
pub(super) const READY: u8 = b'R';
const FAILED: u8 = b'E';
/// A panic in a node's closure, as in a Rust program's `main`.
const PANIC_CODE: i32 = 101;

/// What a node runs once set up.
pub(super) enum Main<'f> {
    Closure(Box<dyn FnOnce() -> i32 + 'f>),
    Command(Command),
}

/// Everything the node needs, copied before the fork.
pub(super) struct NodeSpec {
    name: String,
    addr: Ipv4Addr,
    peer: String,
    bridge: String,
    connected: bool,
    link: Option<Link>,
    gateway: Ipv4Addr,
    prefix_len: u8,
    /// Its `/etc/hosts`, itself included.
    hosts: String,
}

impl NodeSpec {
    pub(super) fn new(entry: &Entry, state: &State) -> NodeSpec {
        let names = state.names_with(entry);
        NodeSpec {
            name: entry.name.clone(),
            addr: entry.addr,
            peer: entry.peer.clone(),
            bridge: entry.bridge.clone(),
            connected: entry.connected,
            link: entry.link,
            gateway: names.gateway,
            prefix_len: super::network::PREFIX_LEN,
            hosts: names.node_file(),
        }
    }
}

/// The child: sets the node up, reports, waits for the test's go, runs `main`. Never returns.
pub(super) fn run(spec: &NodeSpec, status: OwnedFd, go: OwnedFd, main: Main<'_>) -> ! {
    // Unwinding out of here would run the rest of the test in the node.
    let code = panic::catch_unwind(AssertUnwindSafe(|| setup_then_run(spec, status, go, main)));
    sys::exit_now(code.unwrap_or(PANIC_CODE))
}

fn setup_then_run(spec: &NodeSpec, status: OwnedFd, go: OwnedFd, main: Main<'_>) -> i32 {
    let mut status = File::from(status);
    // A group of its own: killing the node kills what it started.
    syscalls::lead_own_group(0);
    if let Err(e) = enter(spec) {
        report(&mut status, &e);
        return 1;
    }
    if status.write_all(&[READY]).is_err() {
        return 1;
    }
    // The test opens our /etc/hosts meanwhile, then closes its end.
    let _ = File::from(go).read(&mut [0u8]);
    if let Err(e) = announce(spec) {
        report(&mut status, &e);
        return 1;
    }
    match main {
        Main::Closure(main) => {
            drop(status);
            let code = panic::catch_unwind(AssertUnwindSafe(main)).unwrap_or(PANIC_CODE);
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            code
        }
        Main::Command(mut command) => {
            // Returns only on failure; on success, the close-on-exec pipe tells the test.
            let e = command.exec();
            let program = command.get_program().to_string_lossy().into_owned();
            let source = syscalls::io_error("execvp", &program, &e);
            let step = "start its program";
            report(&mut status, &StepError { step, source });
            127
        }
    }
}

/// The node's checklist: namespaces, filesystem, link, addresses.
fn enter(spec: &NodeSpec) -> Result<(), StepError> {
    // Opened before leaving: this socket keeps acting in the test's network namespace.
    let mut test_side = Netlink::open().step("open a netlink socket in the test's namespace")?;
    let test_netns = sys::open_netns().step("open the test's network namespace")?;
    syscalls::unshare_node_namespaces().step("enter namespaces of its own")?;
    sys::sethostname(&spec.name).step("set its hostname")?;
    // Its filesystem first: its own /proc/sys/net is where its network is tuned.
    node_root::enter(&spec.hosts)?;
    let mut own = Netlink::open().step("open a netlink socket in its namespace")?;
    // `eth0` here, its peer created directly in the test's namespace, where the bridge is.
    own.add_veth("eth0", &spec.peer, Some(test_netns.as_fd()))
        .step("create its veth pair")?;
    quick_arp_retries("eth0").step("shorten its ARP retries")?;
    // The same for each start under this name, so the peers' ARP caches stay right.
    syscalls::set_mac("eth0", mac_of(spec.addr)).step("set its MAC address")?;
    test_side
        .set_master(&spec.peer, &spec.bridge)
        .step("attach its link to the bridge")?;
    if let Some(link) = spec.link {
        // Restarted under a name whose link had conditions: it keeps them.
        for (socket, ifname) in [(&mut test_side, spec.peer.as_str()), (&mut own, "eth0")] {
            socket
                .set_netem(ifname, link.delay, link.jitter, link.loss_percent)
                .step("emulate its link")?;
        }
    }
    own.add_address("eth0", spec.addr.into(), spec.prefix_len)
        .step("address eth0")?;
    // With arp_notify, a change of address sends a gratuitous ARP: see `announce`.
    let arp_notify = "/proc/sys/net/ipv4/conf/eth0/arp_notify";
    write_sysctl(arp_notify, "1").step("enable ARP announcements")?;
    own.set_up("eth0", true).step("bring eth0 up")?;
    sys::loopback_up().step("bring lo up")?;
    own.add_default_route(spec.gateway.into())
        .step("route through the test")?;
    // Last: from here it is reachable (unless the test disconnected it).
    test_side
        .set_up(&spec.peer, spec.connected)
        .step("bring its link up")
}

/// Tells every peer on the bridge that the node's address is at its MAC, with a gratuitous
/// ARP: a peer that tried to reach a node while it was down (before a restart) has an ARP entry
/// for it that is failing, and would fail one more connection. Setting the (same) MAC address
/// again is how the kernel is asked for it (`arp_notify`).
fn announce(spec: &NodeSpec) -> Result<(), StepError> {
    syscalls::set_mac("eth0", mac_of(spec.addr)).step("announce itself")
}

/// A locally administered unicast address made of the node's IPv4 address: `02:00:a:b:c:d`.
fn mac_of(addr: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = addr.octets();
    [0x02, 0x00, a, b, c, d]
}

/// Sends a failure to the test: step, call, path, errno, NUL-separated, after [`FAILED`].
fn report(status: &mut File, e: &StepError) {
    let source = SyscallError::from(e.source.clone());
    let path = source
        .path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let message = format!(
        "{}\0{}\0{path}\0{}",
        e.step,
        source.op(),
        source.raw_os_error()
    );
    let mut bytes = vec![FAILED];
    bytes.extend_from_slice(message.as_bytes());
    let _ = status.write_all(&bytes);
}
