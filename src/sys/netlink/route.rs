//! Addresses on links, and default routes.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressHeaderFlags, AddressMessage};
use netlink_packet_route::route::{
    RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Netlink;
use crate::sys::error::SysResult;

impl Netlink {
    /// Adds `addr/prefix_len` to the interface `name`.
    ///
    /// An IPv6 address skips duplicate address detection (`IFA_F_NODAD`): it is usable at once,
    /// on links we made ourselves where no one else can hold it.
    pub(crate) fn add_address(
        &mut self,
        name: &str,
        addr: IpAddr,
        prefix_len: u8,
    ) -> SysResult<()> {
        const OP: &str = "netlink RTM_NEWADDR";
        let mut message = AddressMessage::default();
        message.header.index = self.index_of(OP, name)?;
        message.header.family = family(addr);
        message.header.prefix_len = prefix_len;
        if addr.is_ipv6() {
            message.header.flags = AddressHeaderFlags::Nodad;
        }
        message.attributes.push(AddressAttribute::Local(addr));
        message.attributes.push(AddressAttribute::Address(addr));
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.request(OP, name, RouteNetlinkMessage::NewAddress(message), flags)?;
        Ok(())
    }

    /// The addresses of the interface `name`, with their prefix lengths.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn addresses(&mut self, name: &str) -> SysResult<Vec<(IpAddr, u8)>> {
        let index = self.index_of("netlink RTM_GETADDR", name)?;
        let get = RouteNetlinkMessage::GetAddress(AddressMessage::default());
        let replies = self.dump("netlink RTM_GETADDR (dump)", get)?;
        let on_link = replies.into_iter().filter_map(|reply| match reply {
            RouteNetlinkMessage::NewAddress(a) if a.header.index == index => Some(a),
            _ => None,
        });
        Ok(on_link
            .filter_map(|a| Some((local_address(&a)?, a.header.prefix_len)))
            .collect())
    }

    /// A default route through `gateway` (IPv4 or IPv6, as `gateway` is), which must be on a
    /// connected subnet of a link that is up.
    pub(crate) fn add_default_route(&mut self, gateway: IpAddr) -> SysResult<()> {
        const OP: &str = "netlink RTM_NEWROUTE (default)";
        let mut message = RouteMessage::default();
        message.header.address_family = family(gateway);
        message.header.table = RouteHeader::RT_TABLE_MAIN;
        message.header.protocol = RouteProtocol::Boot;
        message.header.scope = RouteScope::Universe;
        message.header.kind = RouteType::Unicast;
        message
            .attributes
            .push(RouteAttribute::Gateway(gateway.into()));
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        let subject = format!("via {gateway}");
        self.request(OP, &subject, RouteNetlinkMessage::NewRoute(message), flags)?;
        Ok(())
    }
}

fn family(addr: IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Inet,
        IpAddr::V6(_) => AddressFamily::Inet6,
    }
}

/// The interface's own address: `IFA_LOCAL` where the kernel sends it (IPv4), else
/// `IFA_ADDRESS` (IPv6).
#[cfg(test)] // read-backs and operations only the tests use so far
fn local_address(message: &AddressMessage) -> Option<IpAddr> {
    let find = |local: bool| {
        message.attributes.iter().find_map(|a| match (a, local) {
            (AddressAttribute::Local(ip), true) | (AddressAttribute::Address(ip), false) => {
                Some(*ip)
            }
            _ => None,
        })
    };
    find(true).or_else(|| find(false))
}
