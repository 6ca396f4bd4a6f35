//! Nodes as the test sees them: describing one, starting it, and its handle.

use std::ffi::OsStr;
use std::fmt;
use std::fs::File;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use super::error::{self, NetError, SyscallError};
use super::network::{Entry, Network, Shared, State};
use super::node_setup::{self, Main, NodeSpec, READY};
use crate::sys::nodes as syscalls;
use crate::sys::{self, ChildStatus, Forked};

/// Longest node name: its link is `vn-NAME`, and interface names have 15 bytes.
const MAX_NAME: usize = 12;

/// A node about to start: from [`Network::node`].
///
/// Start it with [`run`](NodeBuilder::run) (a closure) or [`command`](NodeBuilder::command)
/// (a program). Either way the node is a child process of the test, in the test's PID
/// namespace, with network, UTS and mount namespaces of its own: hostname `NAME`, a link
/// `eth0` to the network's bridge with its own address (default route via the test), `lo`
/// up, and its own filesystem — a copy-on-write overlay of the test's root (writes stay the
/// node's), the test's other mounts read-only, fresh `/tmp`, `/run` and `/dev/shm`, its own
/// `/sys` and `/etc/hosts`.
#[must_use = "a node starts only with `run` or `command(..).start()`"]
pub struct NodeBuilder<'n> {
    net: &'n Network,
    name: String,
}

/// A program to start as a node: from [`NodeBuilder::command`].
#[must_use = "the node starts only with `start()`"]
pub struct NodeCommand<'n> {
    builder: NodeBuilder<'n>,
    command: Command,
}

/// A running node: its process, its name and its address.
///
/// Dropping the handle kills the node (SIGKILL to its process group) and reaps it. Nodes
/// also end with the test, however it ends: they live in the test's PID namespace.
pub struct Node {
    name: String,
    addr: Ipv4Addr,
    pid: i32,
    exit: Option<NodeExit>,
    shared: Arc<Shared>,
}

/// How a node's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeExit {
    /// It exited with this code (a closure's return value; 101 for a panic).
    Exited(i32),
    /// A signal killed it (its number, e.g. 9 for SIGKILL).
    Signaled(i32),
}

impl NodeExit {
    /// The exit code, if it exited rather than being killed.
    pub fn code(&self) -> Option<i32> {
        match self {
            NodeExit::Exited(code) => Some(*code),
            NodeExit::Signaled(_) => None,
        }
    }

    /// Whether it exited with code 0.
    pub fn success(&self) -> bool {
        *self == NodeExit::Exited(0)
    }
}

impl fmt::Display for NodeExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeExit::Exited(code) => write!(f, "exited with code {code}"),
            NodeExit::Signaled(sig) => write!(f, "was killed by {}", sys::signal_name(*sig)),
        }
    }
}

impl From<ChildStatus> for NodeExit {
    fn from(status: ChildStatus) -> Self {
        match status {
            ChildStatus::Exited(code) => NodeExit::Exited(code),
            ChildStatus::Signaled(sig) => NodeExit::Signaled(sig),
        }
    }
}

impl<'n> NodeBuilder<'n> {
    pub(super) fn new(net: &'n Network, name: &str) -> Self {
        NodeBuilder {
            net,
            name: name.to_string(),
        }
    }

    /// Runs `main` in the node, in a forked copy of the test's process; the node exits with
    /// `main`'s return value as its code, or 101 if it panics. Returns once the node is set up
    /// and reachable, just before `main` starts.
    ///
    /// `main` may borrow from the test: it runs in a copy of the test's memory, where changes
    /// are the node's own. As after any `fork`, only the thread that starts the node exists in
    /// it: start nodes before the test starts threads of its own, or make sure none holds a
    /// lock `main` needs (stdout's, say) at that moment. A node cannot use the [`Network`].
    pub fn run<F: FnOnce() -> i32>(self, main: F) -> Result<Node, NetError> {
        start(self.net, &self.name, Main::Closure(Box::new(main)))
    }

    /// A program to run in the node, found through `PATH` in the node's root (the test's):
    /// `sh` on Alpine is busybox. Set its environment with [`NodeCommand::env`], then
    /// [`NodeCommand::start`] it. It inherits the test's environment, with `HOSTNAME` set to
    /// the node's name, and the test's stdout and stderr. (A closure node keeps the test's
    /// environment as it is: `HOSTNAME` there is the test's; the node's hostname is in
    /// `/proc/sys/kernel/hostname`.)
    pub fn command<I, S>(self, program: impl AsRef<OsStr>, args: I) -> NodeCommand<'n>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = Command::new(program);
        command.args(args).env("HOSTNAME", &self.name);
        NodeCommand {
            builder: self,
            command,
        }
    }
}

impl NodeCommand<'_> {
    /// Sets an environment variable for the program.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// The program's working directory, in the node's root (default: `/`).
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Starts the node and execs the program in it. Returns once the node is reachable and
    /// the program was exec'd; a program that cannot be started is an error naming it.
    pub fn start(self) -> Result<Node, NetError> {
        let NodeBuilder { net, name } = self.builder;
        start(net, &name, Main::Command(self.command))
    }
}

impl Node {
    /// The node's name, also its hostname.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's address on the network (its `eth0`).
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// The node's process ID, in the test's PID namespace.
    pub fn pid(&self) -> u32 {
        self.pid as u32
    }

    /// How the node ended, if it has; does not block.
    pub fn try_wait(&mut self) -> Result<Option<NodeExit>, NetError> {
        self.reap(false)
    }

    /// Waits for the node to end.
    pub fn wait(mut self) -> Result<NodeExit, NetError> {
        let exit = self.reap(true)?;
        Ok(exit.unwrap_or(NodeExit::Signaled(libc::SIGKILL)))
    }

    /// Kills the node's process group with SIGKILL and reaps it.
    pub fn kill(self) -> Result<NodeExit, NetError> {
        if self.exit.is_none() {
            syscalls::kill_group(self.pid).map_err(error::node(&self.name, "kill it"))?;
        }
        self.wait()
    }

    fn reap(&mut self, block: bool) -> Result<Option<NodeExit>, NetError> {
        if self.exit.is_some() {
            return Ok(self.exit);
        }
        let status =
            syscalls::wait_pid(self.pid, block).map_err(error::node(&self.name, "wait for it"))?;
        self.exit = status.map(NodeExit::from);
        if self.exit.is_some() {
            if let Ok(mut state) = self.shared.lock() {
                state.stopped(&self.name);
            }
        }
        Ok(self.exit)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // In a node that got a copy of this handle, the process is not its child.
        if self.exit.is_none() && self.shared.lock().is_ok() {
            let _ = syscalls::kill_group(self.pid);
            let _ = self.reap(true);
        }
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .field("addr", &self.addr)
            .field("pid", &self.pid)
            .field("exit", &self.exit)
            .finish()
    }
}

pub(super) fn shared_of(node: &Node) -> &Arc<Shared> {
    &node.shared
}

/// Forks the node, waits until it is set up, and keeps its `/etc/hosts` up to date from then.
fn start(net: &Network, name: &str, main: Main<'_>) -> Result<Node, NetError> {
    check_name(name)?;
    let shared = Arc::clone(net.shared());
    let mut state = shared.lock()?;
    let entry = state.place(name)?;
    let spec = NodeSpec::new(&entry, &state);
    let (status_r, status_w) = sys::pipe().map_err(error::node(name, "create a pipe"))?;
    let (go_r, go_w) = sys::pipe().map_err(error::node(name, "create a pipe"))?;
    // SAFETY: the child runs the node's setup, then `main` or an exec, and exits; it never
    // returns here. If the test has other threads, the child has only this one: it takes no
    // lock of the test's but the allocator's, which glibc and musl keep usable after a fork;
    // `run`'s documentation tells the user about the locks `main` itself may take.
    let forked = unsafe { sys::fork() }.map_err(error::node(name, "fork its process"))?;
    let pid = match forked {
        Forked::Child => {
            drop((status_r, go_w));
            node_setup::run(&spec, status_w, go_r, main)
        }
        Forked::Parent(pid) => pid,
    };
    drop((status_w, go_r));
    // What the closure captured belongs to the node now (a `Node` moved into it, say): the
    // parent's copy must not run its destructors — not under the state lock held here, and not
    // at all, or it would kill what it handed over.
    std::mem::forget(main);
    // Set here too, so the group exists whichever of parent and child gets there first.
    syscalls::lead_own_group(pid);
    match handshake(&mut state, entry, pid, status_r, go_w) {
        Ok(addr) => Ok(Node {
            name: name.to_string(),
            addr,
            pid,
            exit: None,
            shared: Arc::clone(&shared),
        }),
        Err(reported) => {
            let _ = syscalls::kill_group(pid);
            let exit = syscalls::wait_pid(pid, true);
            state.stopped(name);
            Err(reported.unwrap_or_else(|| NetError::NodeDied {
                node: name.to_string(),
                exit: match exit {
                    Ok(Some(status)) => status.into(),
                    _ => NodeExit::Signaled(libc::SIGKILL),
                },
            }))
        }
    }
}

/// The test's side of the node's setup: [`READY`] comes, the test opens the node's
/// `/etc/hosts`, records it and waits for the bridge to forward on its link, then lets it go
/// on (closing `go`); the node announces itself, and the pipe closing without another word
/// means it is running its closure or exec'd its program. `Err(None)`: it died
/// without saying why.
fn handshake(
    state: &mut State,
    mut entry: Entry,
    pid: i32,
    status: OwnedFd,
    go: OwnedFd,
) -> Result<Ipv4Addr, Option<NetError>> {
    let mut status = File::from(status);
    let mut first = [0u8; 1];
    match status.read(&mut first) {
        Ok(1) if first[0] == READY => {}
        Ok(1) => return Err(Some(read_failure(&entry.name, &mut status))),
        _ => return Err(None),
    }
    let path = format!("/proc/{pid}/root/etc/hosts");
    let hosts = File::options()
        .write(true)
        .open(&path)
        .map_err(|e| NetError::Node {
            node: entry.name.clone(),
            step: "open its /etc/hosts from the test".into(),
            source: syscalls::io_error("open", &path, &e).into(),
        })?;
    let addr = entry.addr;
    let name = entry.name.clone();
    entry.pid = Some(pid);
    entry.hosts = Some(hosts);
    let forwarding = entry.connected.then(|| entry.peer.clone());
    state.record(entry)?;
    // Before it announces itself: its gratuitous ARP must get through the bridge.
    if let Some(peer) = forwarding {
        super::network::wait_until_forwarding(&peer);
    }
    drop(go);
    let mut rest = Vec::new();
    let _ = status.read_to_end(&mut rest);
    if rest.is_empty() {
        Ok(addr)
    } else {
        Err(Some(parse_failure(&name, &rest[1..])))
    }
}

fn read_failure(name: &str, status: &mut File) -> NetError {
    let mut rest = Vec::new();
    let _ = status.read_to_end(&mut rest);
    parse_failure(name, &rest)
}

/// The failure [`node_setup`] sent: step, call, path and errno, NUL-separated.
fn parse_failure(name: &str, message: &[u8]) -> NetError {
    let text = String::from_utf8_lossy(message);
    let mut fields = text.split('\0');
    let step = fields.next().unwrap_or_default().to_string();
    let op = fields.next().unwrap_or_default().to_string();
    let path = fields.next().filter(|p| !p.is_empty()).map(Into::into);
    let errno = fields
        .next()
        .and_then(|e| e.parse().ok())
        .unwrap_or(libc::EIO);
    if op == sys::NO_NETEM {
        return NetError::NetemUnavailable {
            node: name.to_string(),
        };
    }
    NetError::Node {
        node: name.to_string(),
        step,
        source: SyscallError::new(op, path, errno),
    }
}

/// A hostname label that also fits in `vn-NAME`.
fn check_name(name: &str) -> Result<(), NetError> {
    let invalid = |reason| {
        Err(NetError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return invalid("a node name has 1 to 12 characters (its link is `vn-NAME`)");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return invalid("a node name has only letters, digits and `-`");
    }
    if name.starts_with('-') || name.ends_with('-') {
        return invalid("a node name cannot start or end with `-`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_hostname_labels_that_fit_an_interface_name() {
        for good in ["a", "node-1", "abcdefghijkl"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "abcdefghijklm", "a_b", "a.b", "-a", "a-", "é"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_failure_from_the_node_names_step_call_and_errno() {
        let e = parse_failure(
            "a",
            b"create its veth pair\0netlink RTM_NEWLINK\0eth0\x0017",
        );
        assert_eq!(e.to_string(), "node `a`: failed to create its veth pair");
        let source = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(source, "netlink RTM_NEWLINK(eth0) => EEXIST: File exists");
    }

    #[test]
    fn handles_can_be_shared_with_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Network>();
        send_sync::<Node>();
        send_sync::<NetError>();
    }

    #[test]
    fn exits_read_like_the_runner_says_them() {
        assert_eq!(NodeExit::Exited(3).to_string(), "exited with code 3");
        assert_eq!(NodeExit::Signaled(9).to_string(), "was killed by SIGKILL");
        assert!(NodeExit::Exited(0).success() && NodeExit::Exited(3).code() == Some(3));
    }
}
