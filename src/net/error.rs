//! What can go wrong with a virtual network, said once: the step, then the system call's error.

use std::fmt;
use std::path::{Path, PathBuf};

use super::node::NodeExit;
use crate::sys::nodes as syscalls;
use crate::sys::SysError;

/// A failed operation of [`Network`](super::Network) or of one of its nodes.
///
/// The message says what was being done (`node `a`: failed to create its veth pair`); the
/// [`source`](std::error::Error::source), when there is one, is the system call that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// A step of building or changing the network, in the test's own namespaces, failed.
    #[error("failed to {step}")]
    Network {
        /// What was being done, e.g. `create the bridge isobr0`.
        step: &'static str,
        /// The system call that failed.
        #[source]
        source: SyscallError,
    },
    /// A step of a node's setup, or of changing its link, failed.
    #[error("node `{node}`: failed to {step}")]
    Node {
        /// The node's name.
        node: String,
        /// What was being done, e.g. `create its veth pair`.
        step: String,
        /// The system call that failed.
        #[source]
        source: SyscallError,
    },
    /// A node's process ended before its setup was done (a bug, or something killed it).
    #[error("node `{node}` {exit} before its setup was done")]
    NodeDied {
        /// The node's name.
        node: String,
        /// How its process ended.
        exit: NodeExit,
    },
    /// [`Network::set_link`](super::Network::set_link) needs the kernel's netem queueing
    /// discipline, and this kernel has none.
    #[error(
        "node `{node}`: cannot emulate delay, jitter or loss: this kernel has no netem \
         (CONFIG_NET_SCH_NETEM, module sch_netem); load it with `modprobe sch_netem` or use a \
         kernel built with it"
    )]
    NetemUnavailable {
        /// The node whose link was being changed.
        node: String,
    },
    /// A node name that cannot be a hostname or an interface name.
    #[error("invalid node name `{name}`: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A node of this name is still running on the network.
    #[error("node `{0}` is already running on this network: stop it (kill, wait) first")]
    AlreadyRunning(String),
    /// Every address of the subnet is taken.
    #[error("no address left for node `{0}`: a network holds at most 253 nodes")]
    Full(String),
    /// A node was given to a network it does not belong to.
    #[error("node `{0}` belongs to another network")]
    ForeignNode(String),
    /// A node was named in two groups of a partition.
    #[error("node `{0}` is in more than one group of the partition")]
    OverlappingGroups(String),
    /// The network was used from a process other than the test that created it (a node).
    #[error("a Network can only be used by the process that created it, not by its nodes")]
    WrongProcess,
    /// The test shares the host's network namespace (`net = "host"`), where a network would
    /// be the host's.
    #[error(
        "isolated::net needs the test's own network namespace, and this one has the host's \
         interfaces ({0}): use it with `net = \"loopback\"` (the default) or `net = \"veth\"`, \
         not `net = \"host\"`"
    )]
    HostNetwork(String),
    /// A second [`Network`](super::Network) in the same test.
    #[error("this test already has a Network (its bridge isobr0 exists): create one per test")]
    AlreadyCreated,
}

/// A failed system call: its name, what it acted on, and the errno.
///
/// Displays as `netlink RTM_NEWLINK (veth)(eth0) => EEXIST: File exists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyscallError {
    op: String,
    path: Option<PathBuf>,
    errno: i32,
}

impl SyscallError {
    pub(super) fn new(op: impl Into<String>, path: Option<PathBuf>, errno: i32) -> Self {
        SyscallError {
            op: op.into(),
            path,
            errno,
        }
    }

    /// The call (or netlink request) that failed, e.g. `mount(overlay)`.
    pub fn op(&self) -> &str {
        &self.op
    }

    /// What it acted on: a path, an interface name; `None` when nothing in particular.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The errno, as [`std::io::Error::raw_os_error`] has it.
    pub fn raw_os_error(&self) -> i32 {
        self.errno
    }
}

impl From<SysError> for SyscallError {
    fn from(e: SysError) -> Self {
        SyscallError {
            op: e.op.to_string(),
            path: e.path,
            errno: e.errno as i32,
        }
    }
}

impl fmt::Display for SyscallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}({})", self.op, path.display())?,
            None => write!(f, "{}", self.op)?,
        }
        write!(f, " => {}", syscalls::errno_text(self.errno))
    }
}

impl std::error::Error for SyscallError {}

/// A step of a node's setup failed, in the node's process: sent to the test as text.
#[derive(Debug)]
pub(super) struct StepError {
    pub step: &'static str,
    pub source: SysError,
}

/// Names the step a system call failed in.
pub(super) trait Step<T> {
    fn step(self, step: &'static str) -> Result<T, StepError>;
}

impl<T> Step<T> for Result<T, SysError> {
    fn step(self, step: &'static str) -> Result<T, StepError> {
        self.map_err(|source| StepError { step, source })
    }
}

/// A failed step of the network itself (in the test's namespaces).
pub(super) fn network(step: &'static str) -> impl FnOnce(SysError) -> NetError {
    move |e| NetError::Network {
        step,
        source: e.into(),
    }
}

/// A failed step of changing one node's link (in the test's namespaces).
pub(super) fn node<'a>(
    name: &'a str,
    step: &'static str,
) -> impl FnOnce(SysError) -> NetError + 'a {
    move |e| NetError::Node {
        node: name.to_string(),
        step: step.to_string(),
        source: e.into(),
    }
}
