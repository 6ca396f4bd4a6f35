//! Networking from inside a test: the addresses `net = "veth"` gives it.
//!
//! Every test has its own network namespace. By default (`net = "loopback"`) only `lo` is there;
//! with `net = "veth"` the test is connected to the host through a veth pair, and the functions
//! here say which addresses the two ends have.

mod addrs;

pub use addrs::{addr, host_addr, prefix_len};
pub(crate) use addrs::{ADDR_VAR, HOST_ADDR_VAR, PREFIX_VAR};
