//! The test's network: loopback, nothing, the host's, or a veth pair to the host.

use super::error::{SetupError, Step};
use crate::plan::{Network, Veth};
use crate::sys::{self, Netlink};

/// Configures the test's own network namespace, from inside it. With `net = "veth"` the
/// runner has already made the pair and set up the host end (it alone acts in the host's
/// namespaces); `eth0` is here, down and without an address.
pub(crate) fn configure(network: &Network) -> Result<(), SetupError> {
    match network {
        Network::None | Network::Host => Ok(()),
        // Loopback only: tests can bind any port without meeting each other or the host.
        Network::Loopback => sys::loopback_up().step("bring the loopback interface up"),
        Network::Veth(veth) => {
            sys::loopback_up().step("bring the loopback interface up")?;
            address_eth0(veth)
        }
    }
}

/// `eth0`: the test's address, up, and the host end as its default route.
fn address_eth0(veth: &Veth) -> Result<(), SetupError> {
    let mut own = Netlink::open().step("open a netlink socket")?;
    own.add_address("eth0", veth.addr.into(), veth.prefix_len)
        .step("address eth0")?;
    own.set_up("eth0", true).step("bring eth0 up")?;
    own.add_default_route(veth.host_addr.into())
        .step("route through the host end")
}
