//! A small synchronous rtnetlink (`NETLINK_ROUTE`) client: veth pairs, bridges, addresses,
//! default routes and netem, for the networking of tests.
//!
//! Messages are `netlink-packet-route`'s, the socket is `netlink-sys`'s blocking one. Every
//! request asks for an ACK and reads it; every failure is a [`SysError`](super::SysError) whose
//! `op` names the request (`netlink RTM_NEWLINK (veth)`) and whose path is the interface.
//! A socket acts in the network namespace it was created in, whoever uses it later.

// Nothing in the crate calls this yet: the veth networking feature (issue 4) will.

mod link;
mod qdisc;
mod route;
mod socket;
#[cfg(test)]
mod tests;

pub(crate) use qdisc::NO_NETEM;
pub(crate) use socket::Netlink;
