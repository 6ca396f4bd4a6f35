//! The network a test gets, decided before any syscall: the mode, and for `veth` the link's
//! names and addresses.

use std::net::Ipv4Addr;

use crate::registry::Net;

/// Every `veth` link is a /30 of this /16: 16 384 links, each with the host end at `.1` of its
/// four addresses and the test at `.2`. A private range, unlikely to be a real network here.
const VETH_BASE: [u8; 2] = [10, 213];
pub(crate) const VETH_LINKS: u32 = 1 << 14;
const VETH_PREFIX: u8 = 30;

/// What the sandbox sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Network {
    /// Own namespace, `lo` up.
    Loopback,
    /// Own namespace, nothing up.
    None,
    /// The host's namespace, shared.
    Host,
    /// Own namespace, `lo` up, and `eth0` linked to the host.
    Veth(Veth),
}

/// A veth pair between the host and the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Veth {
    /// Which /30 of the range: the runner leases it, so parallel tests never share one.
    pub index: u32,
    /// The host end's interface name (`iso<index>`); the test's end is `eth0`.
    pub host_if: String,
    pub host_addr: Ipv4Addr,
    pub addr: Ipv4Addr,
    pub prefix_len: u8,
}

impl Veth {
    /// The link numbered `index` (below [`VETH_LINKS`]).
    pub(crate) fn numbered(index: u32) -> Veth {
        let base = u32::from(Ipv4Addr::new(VETH_BASE[0], VETH_BASE[1], 0, 0)) + index * 4;
        Veth {
            index,
            host_if: format!("iso{index}"),
            host_addr: Ipv4Addr::from(base + 1),
            addr: Ipv4Addr::from(base + 2),
            prefix_len: VETH_PREFIX,
        }
    }
}

impl Network {
    /// The mode the attribute asked for; `veth` with the link the runner leased.
    pub(crate) fn new(net: Net, veth_index: Option<u32>) -> Network {
        match (net, veth_index) {
            (Net::None, _) => Network::None,
            (Net::Host, _) => Network::Host,
            (Net::Veth, Some(index)) => Network::Veth(Veth::numbered(index)),
            (Net::Veth, None) | (Net::Loopback, _) => Network::Loopback,
        }
    }

    /// How the runner tells the child which link it leased: the index, or nothing.
    pub(crate) fn encode(&self) -> String {
        match self {
            Network::Veth(veth) => veth.index.to_string(),
            _ => String::new(),
        }
    }

    /// The inverse of [`encode`](Self::encode), given the attribute's mode.
    pub(crate) fn decode(net: Net, text: &str) -> Network {
        Network::new(net, text.parse().ok())
    }

    /// `/etc/hosts` lines beyond localhost: the hostname at the test's own address.
    pub(crate) fn hosts_lines(&self, hostname: &str) -> String {
        match self {
            Network::Veth(veth) => format!(
                "{}\t{hostname}\n{}\tisolated-host\n",
                veth.addr, veth.host_addr
            ),
            _ => format!("127.0.1.1\t{hostname}\n"),
        }
    }

    /// `/etc/resolv.conf`: the host's own for `host`; for the others, no name server is
    /// reachable, and the file says so rather than pointing at one that is not there.
    pub(crate) fn resolv_conf(&self, host_resolv_conf: Option<&str>) -> String {
        match (self, host_resolv_conf) {
            (Network::Host, Some(host)) => host.to_string(),
            _ => "# isolated: no name server is reachable from this test's network; \
                  names resolve through /etc/hosts\n"
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn veth_links_are_disjoint_slash_30s() {
        let first = Veth::numbered(0);
        assert_eq!(
            (first.host_addr, first.addr),
            ("10.213.0.1".parse().unwrap(), "10.213.0.2".parse().unwrap())
        );
        let next = Veth::numbered(1);
        assert_eq!(next.host_addr, "10.213.0.5".parse::<Ipv4Addr>().unwrap());
        let last = Veth::numbered(VETH_LINKS - 1);
        assert_eq!(last.addr, "10.213.255.254".parse::<Ipv4Addr>().unwrap());
        assert_eq!(last.host_if, "iso16383");
        assert!(last.host_if.len() < 16, "IFNAMSIZ");
    }

    #[test]
    fn the_mode_round_trips_through_the_environment() {
        for (net, index) in [
            (Net::Loopback, None),
            (Net::None, None),
            (Net::Host, None),
            (Net::Veth, Some(7)),
        ] {
            let network = Network::new(net, index);
            assert_eq!(Network::decode(net, &network.encode()), network);
        }
    }
}
