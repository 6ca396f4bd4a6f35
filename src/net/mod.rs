//! Networking from inside a test: the addresses `net = "veth"` gives it.
//!
//! Every test has its own network namespace. By default (`net = "loopback"`) only `lo` is there;
//! with `net = "veth"` the test is connected to the host through a veth pair, and the functions
//! here say which addresses the two ends have.
//!
//! # Virtual networks: several nodes in one test
//!
//! A [`Network`] is a virtual switch in the test's own network namespace; its *nodes* are
//! processes with network, UTS and mount namespaces of their own, each linked to the switch,
//! so one test can run a whole cluster of a server and break its network on purpose:
//!
//! ```no_run
//! use std::time::Duration;
//! use isolated::isolated;
//! use isolated::net::{Link, Network};
//!
//! #[isolated(rootfs = "alpine", timeout = "30s")]
//! fn three_nodes() {
//!     // A bridge in the test's netns, 10.77.0.0/24; the test is 10.77.0.1 on it.
//!     let net = Network::new().unwrap();
//!     // A program in its own namespaces, hostname "a", at 10.77.0.2.
//!     let a = net.node("a").command("sh", ["-c", "nc -lk -p 7000 -e cat"]).start().unwrap();
//!     // A Rust closure in a forked process, in its own namespaces; its return value is
//!     // the node's exit code.
//!     let b = net.node("b").run(|| {
//!         // Names resolve everywhere: every node's /etc/hosts lists every node.
//!         let up = std::net::TcpStream::connect(("a", 7000)).is_ok();
//!         if up { 0 } else { 1 }
//!     }).unwrap();
//!     net.disconnect(&a).unwrap();                  // cut one node's link...
//!     net.connect(&a).unwrap();                     // ...and restore it
//!     net.partition(&[&a], &[&b]).unwrap();         // groups that cannot reach each other
//!     net.heal().unwrap();                          // back to one network
//!     let slow = Link { delay: Duration::from_millis(100), ..Link::default() };
//!     let _ = net.set_link(&a, slow);               // netem, if the kernel has it
//!     a.kill().unwrap();
//!     assert!(b.wait().unwrap().success());
//! }
//!
//! isolated::main!();
//! ```
//!
//! Nodes stay in the test's PID namespace: they end with the test however it ends, and a
//! [`Node`] handle kills and reaps its node when dropped. Nothing of the network is ever
//! visible on the host.

mod addrs;

pub use addrs::{addr, host_addr, prefix_len};
pub(crate) use addrs::{ADDR_VAR, HOST_ADDR_VAR, PREFIX_VAR};

mod error;
mod hosts;
mod network;
mod node;
mod node_root;
mod node_setup;
mod topology;

pub use error::{NetError, SyscallError};
pub use network::{Link, Network};
pub use node::{Node, NodeBuilder, NodeCommand, NodeExit};
