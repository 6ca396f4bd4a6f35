//! The addresses of a `net = "veth"` test, as its environment was set up.

use std::net::Ipv4Addr;

/// Set in the test's environment by its PID 1 when it configured the veth pair.
pub(crate) const ADDR_VAR: &str = "ISOLATED_ADDR";
pub(crate) const HOST_ADDR_VAR: &str = "ISOLATED_HOST_ADDR";
pub(crate) const PREFIX_VAR: &str = "ISOLATED_PREFIX_LEN";

/// The test's own address on its veth link (`eth0`), with `net = "veth"`; `None` otherwise.
pub fn addr() -> Option<Ipv4Addr> {
    read(ADDR_VAR)
}

/// The host end of the test's veth link: reachable from the test, and where the test's default
/// route points, with `net = "veth"`; `None` otherwise.
///
/// A server the runner or the host starts on this address (or on `0.0.0.0`) is reachable from
/// the test; a server the test starts on [`addr`] is reachable from the host.
pub fn host_addr() -> Option<Ipv4Addr> {
    read(HOST_ADDR_VAR)
}

/// The prefix length of the veth link's subnet, with `net = "veth"`.
pub fn prefix_len() -> Option<u8> {
    std::env::var(PREFIX_VAR).ok()?.parse().ok()
}

fn read(var: &str) -> Option<Ipv4Addr> {
    std::env::var(var).ok()?.parse().ok()
}
