//! The test's network: loopback, nothing, the host's, or a veth pair to the host.

use std::os::fd::{AsFd, OwnedFd};

use super::error::{SetupError, Step};
use crate::plan::{Network, Veth};
use crate::sys::{self, Netlink};

/// What PID 1 needs to reach into the host's network for `net = "veth"`; the runner opens
/// both in the host's namespace. Dropped (closed) once the link is up: the test never has it.
pub(crate) struct HostLink {
    /// A NETLINK_ROUTE socket: it keeps acting in the namespace it was opened in, the host's.
    pub netlink: OwnedFd,
    /// The host's network namespace, where the link's host end goes.
    pub netns: OwnedFd,
}

pub(super) fn configure(network: &Network, host: Option<HostLink>) -> Result<(), SetupError> {
    match network {
        Network::None | Network::Host => Ok(()),
        // Loopback only: tests can bind any port without meeting each other or the host.
        Network::Loopback => sys::loopback_up().step("bring the loopback interface up"),
        Network::Veth(veth) => {
            sys::loopback_up().step("bring the loopback interface up")?;
            let host = host.ok_or_else(|| SetupError {
                step: "receive the host link",
                source: sys::SysError::new("veth without host link", nix::errno::Errno::EBADF),
            })?;
            link_to_host(veth, host)
        }
    }
}

/// `eth0` here, `iso<N>` in the host's namespace: one veth pair. It lives as long as this
/// network namespace: when the test ends, however it ends, the host end goes with it.
fn link_to_host(veth: &Veth, host: HostLink) -> Result<(), SetupError> {
    let mut own = Netlink::open().step("open a netlink socket")?;
    let mut host_side = Netlink::from_fd(host.netlink);
    own.add_veth("eth0", &veth.host_if, Some(host.netns.as_fd()))
        .step("create the veth pair")?;
    host_side
        .add_address(&veth.host_if, veth.host_addr.into(), veth.prefix_len)
        .step("address the host end of the veth pair")?;
    host_side
        .set_up(&veth.host_if, true)
        .step("bring the host end of the veth pair up")?;
    own.add_address("eth0", veth.addr.into(), veth.prefix_len)
        .step("address eth0")?;
    own.set_up("eth0", true).step("bring eth0 up")?;
    own.add_default_route(veth.host_addr.into())
        .step("route through the host end")
}
