//! Links: look up, create (veth, bridge), change (netns, name, master, up) and delete.

use std::os::fd::{AsRawFd, BorrowedFd};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::Netlink;
use crate::sys::error::{Errno, SysError, SysResult};

impl Netlink {
    /// The index of the interface `name`.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn link_index(&mut self, name: &str) -> SysResult<u32> {
        self.index_of("netlink RTM_GETLINK", name)
    }

    /// Whether the interface `name` is administratively up.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn is_up(&mut self, name: &str) -> SysResult<bool> {
        let link = self.get_link("netlink RTM_GETLINK", name)?;
        Ok(link.header.flags.contains(LinkFlags::Up))
    }

    /// The index of the bridge (or other master) `name` is enslaved to, if any.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn master_of(&mut self, name: &str) -> SysResult<Option<u32>> {
        let link = self.get_link("netlink RTM_GETLINK", name)?;
        Ok(link.attributes.iter().find_map(|a| match a {
            LinkAttribute::Controller(index) if *index != 0 => Some(*index),
            _ => None,
        }))
    }

    /// The names of every interface in the socket's network namespace.
    pub(crate) fn link_names(&mut self) -> SysResult<Vec<String>> {
        let get = RouteNetlinkMessage::GetLink(LinkMessage::default());
        let replies = self.dump("netlink RTM_GETLINK (dump)", get)?;
        Ok(replies.iter().filter_map(link_name).collect())
    }

    /// A veth pair: `name` here and `peer` either here too or, with `peer_netns` (an fd of
    /// `/proc/PID/ns/net` or similar), created directly in that network namespace.
    pub(crate) fn add_veth(
        &mut self,
        name: &str,
        peer: &str,
        peer_netns: Option<BorrowedFd<'_>>,
    ) -> SysResult<()> {
        let mut peer_link = named(peer);
        if let Some(netns) = peer_netns {
            peer_link
                .attributes
                .push(LinkAttribute::NetNsFd(netns.as_raw_fd()));
        }
        let info = vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer_link))),
        ];
        self.new_link("netlink RTM_NEWLINK (veth)", name, info)
    }

    /// A bridge, down and without ports.
    pub(crate) fn add_bridge(&mut self, name: &str) -> SysResult<()> {
        let info = vec![LinkInfo::Kind(InfoKind::Bridge)];
        self.new_link("netlink RTM_NEWLINK (bridge)", name, info)
    }

    /// Moves the interface `name` into the network namespace `netns`.
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn move_to_netns(&mut self, name: &str, netns: BorrowedFd<'_>) -> SysResult<()> {
        let attribute = LinkAttribute::NetNsFd(netns.as_raw_fd());
        self.set_link("netlink RTM_SETLINK (netns)", name, |link| {
            link.attributes.push(attribute)
        })
    }

    /// Renames the interface `name` (the kernel wants it down).
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn rename(&mut self, name: &str, new_name: &str) -> SysResult<()> {
        let attribute = LinkAttribute::IfName(new_name.to_owned());
        self.set_link("netlink RTM_SETLINK (rename)", name, |link| {
            link.attributes.push(attribute)
        })
    }

    /// Makes the interface `name` a port of the bridge `bridge`.
    pub(crate) fn set_master(&mut self, name: &str, bridge: &str) -> SysResult<()> {
        const OP: &str = "netlink RTM_SETLINK (master)";
        let master = self.index_of(OP, bridge)?;
        self.set_link(OP, name, |link| {
            link.attributes.push(LinkAttribute::Controller(master))
        })
    }

    /// Detaches the interface `name` from its bridge, if it has one (`ip link set nomaster`).
    #[cfg(test)] // read-backs and operations only the tests use so far
    pub(crate) fn set_nomaster(&mut self, name: &str) -> SysResult<()> {
        self.set_link("netlink RTM_SETLINK (nomaster)", name, |link| {
            link.attributes.push(LinkAttribute::Controller(0))
        })
    }

    /// Brings the interface `name` up or down.
    pub(crate) fn set_up(&mut self, name: &str, up: bool) -> SysResult<()> {
        let op = if up {
            "netlink RTM_SETLINK (up)"
        } else {
            "netlink RTM_SETLINK (down)"
        };
        self.set_link(op, name, |link| {
            link.header.flags = if up {
                LinkFlags::Up
            } else {
                LinkFlags::empty()
            };
            link.header.change_mask = LinkFlags::Up;
        })
    }

    /// Deletes the interface `name` (for a veth, both ends).
    pub(crate) fn delete_link(&mut self, name: &str) -> SysResult<()> {
        const OP: &str = "netlink RTM_DELLINK";
        let mut link = LinkMessage::default();
        link.header.index = self.index_of(OP, name)?;
        self.request(OP, name, RouteNetlinkMessage::DelLink(link), 0)?;
        Ok(())
    }

    /// Like [`Netlink::delete_link`], but a missing interface is not an error: returns whether
    /// there was one to delete.
    pub(crate) fn delete_link_if_exists(&mut self, name: &str) -> SysResult<bool> {
        match self.delete_link(name) {
            Ok(()) => Ok(true),
            Err(e) if e.errno == Errno::ENODEV => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The index of `name`; a failure is reported as `op` on `name`.
    pub(super) fn index_of(&mut self, op: &'static str, name: &str) -> SysResult<u32> {
        Ok(self.get_link(op, name)?.header.index)
    }

    fn get_link(&mut self, op: &'static str, name: &str) -> SysResult<LinkMessage> {
        let replies = self.request(op, name, RouteNetlinkMessage::GetLink(named(name)), 0)?;
        replies
            .into_iter()
            .find_map(|reply| match reply {
                RouteNetlinkMessage::NewLink(link) => Some(link),
                _ => None,
            })
            .ok_or_else(|| SysError::at(op, name, Errno::ENODEV))
    }

    fn new_link(&mut self, op: &'static str, name: &str, info: Vec<LinkInfo>) -> SysResult<()> {
        let mut link = named(name);
        link.attributes.push(LinkAttribute::LinkInfo(info));
        let flags = NLM_F_CREATE | NLM_F_EXCL;
        self.request(op, name, RouteNetlinkMessage::NewLink(link), flags)?;
        Ok(())
    }

    /// An `RTM_SETLINK` on the interface `name`, with what `change` puts in the message.
    fn set_link(
        &mut self,
        op: &'static str,
        name: &str,
        change: impl FnOnce(&mut LinkMessage),
    ) -> SysResult<()> {
        let mut link = LinkMessage::default();
        link.header.index = self.index_of(op, name)?;
        change(&mut link);
        self.request(op, name, RouteNetlinkMessage::SetLink(link), 0)?;
        Ok(())
    }
}

/// A link message carrying only `IFLA_IFNAME`.
fn named(name: &str) -> LinkMessage {
    let mut link = LinkMessage::default();
    link.attributes.push(LinkAttribute::IfName(name.to_owned()));
    link
}

fn link_name(message: &RouteNetlinkMessage) -> Option<String> {
    let RouteNetlinkMessage::NewLink(link) = message else {
        return None;
    };
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.clone()),
        _ => None,
    })
}
