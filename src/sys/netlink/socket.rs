//! The socket and the request/reply exchange every rtnetlink call goes through.

use std::os::fd::{AsFd, BorrowedFd};

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_ALIGNTO, NLM_F_ACK,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

use crate::sys::error::{Errno, SysError, SysResult};

/// A synchronous `NETLINK_ROUTE` client.
///
/// The socket acts in the network namespace it was created in, whichever process or thread uses
/// it later: a socket opened in the host namespace and handed to a test's PID 1 configures the
/// host end of a veth pair from inside the test. One user at a time: replies are matched to
/// requests by sequence number, and two users of the same socket would read each other's.
#[derive(Debug)]
pub(crate) struct Netlink {
    socket: Socket,
    sequence: u32,
}

/// What one request got back before its ACK (or its dump's `NLMSG_DONE`).
pub(super) type Replies = Vec<RouteNetlinkMessage>;

impl Netlink {
    /// A `NETLINK_ROUTE` socket in the calling thread's current network namespace.
    pub(crate) fn open() -> SysResult<Netlink> {
        let socket = Socket::new(NETLINK_ROUTE).map_err(|e| io_error("socket(AF_NETLINK)", e))?;
        Ok(Netlink {
            socket,
            sequence: 0,
        })
    }

    /// Sends one request with `NLM_F_ACK` and returns the replies read up to its ACK.
    ///
    /// `op` names the request and `subject` what it acted on (an interface, an address), for
    /// the error; a negative ACK becomes its errno.
    pub(super) fn request(
        &mut self,
        op: &'static str,
        subject: &str,
        message: RouteNetlinkMessage,
        flags: u16,
    ) -> SysResult<Replies> {
        self.exchange(message, NLM_F_REQUEST | NLM_F_ACK | flags)
            .map_err(|errno| SysError::at(op, subject, errno))
    }

    /// Sends one dump request and returns every message up to `NLMSG_DONE`.
    pub(super) fn dump(
        &mut self,
        op: &'static str,
        message: RouteNetlinkMessage,
    ) -> SysResult<Replies> {
        self.exchange(message, NLM_F_REQUEST | NLM_F_DUMP)
            .map_err(|errno| SysError::new(op, errno))
    }

    fn exchange(&mut self, message: RouteNetlinkMessage, flags: u16) -> Result<Replies, Errno> {
        self.sequence = self.sequence.wrapping_add(1);
        self.send(message, flags)?;
        let mut replies = Vec::new();
        loop {
            for reply in self.receive()? {
                match reply.payload {
                    NetlinkPayload::InnerMessage(inner) => replies.push(inner),
                    NetlinkPayload::Error(e) => return errno_of(e.raw_code()).map(|()| replies),
                    NetlinkPayload::Done(done) => return errno_of(done.code).map(|()| replies),
                    _ => {}
                }
            }
        }
    }

    fn send(&self, message: RouteNetlinkMessage, flags: u16) -> Result<(), Errno> {
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::from(message));
        packet.finalize();
        let mut buf = vec![0; packet.buffer_len()];
        packet.serialize(&mut buf);
        let kernel = netlink_sys::SocketAddr::new(0, 0);
        retry_on_eintr(|| self.socket.send_to(&buf, &kernel, 0)).map(drop)
    }

    /// Reads one datagram from the kernel and returns its messages that answer the current
    /// request (others are left over from an earlier, failed one).
    fn receive(&self) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>, Errno> {
        let (datagram, sender) = retry_on_eintr(|| self.socket.recv_from_full())?;
        if sender.port_number() != 0 {
            return Ok(Vec::new()); // not from the kernel
        }
        let mut messages = Vec::new();
        let mut rest = &datagram[..];
        while !rest.is_empty() {
            // Checked: at least a header long, and no longer than what is left.
            let header = NetlinkBuffer::new_checked(rest).map_err(|_| Errno::EBADMSG)?;
            let length = header.length() as usize;
            if header.sequence_number() == self.sequence {
                let message = NetlinkMessage::deserialize(&rest[..length]);
                messages.push(message.map_err(|_| Errno::EBADMSG)?);
            }
            rest = &rest[align(length).min(rest.len())..];
        }
        Ok(messages)
    }
}

impl AsFd for Netlink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

fn align(length: usize) -> usize {
    let to = usize::from(NLMSG_ALIGNTO);
    length.div_ceil(to) * to
}

/// A netlink status code: 0 or a negated errno.
fn errno_of(code: i32) -> Result<(), Errno> {
    match code {
        0 => Ok(()),
        code => Err(Errno::from_raw(code.saturating_abs())),
    }
}

/// Runs a socket call again when a signal interrupted it.
fn retry_on_eintr<T>(mut call: impl FnMut() -> std::io::Result<T>) -> Result<T, Errno> {
    loop {
        match call() {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            result => return result.map_err(|e| errno_of_io(&e)),
        }
    }
}

fn errno_of_io(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

fn io_error(op: &'static str, e: std::io::Error) -> SysError {
    SysError::new(op, errno_of_io(&e))
}
