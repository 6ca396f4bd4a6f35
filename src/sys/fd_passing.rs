//! Messages with file descriptors attached (`SCM_RIGHTS`) over a `SOCK_SEQPACKET` socket.

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

use super::error::{Errno, SysError, SysResult};

/// The most descriptors one message may carry.
const MAX_PASSED_FDS: usize = 16;

/// Sends `data` as one message, with `fds` attached.
pub(crate) fn send_with_fds(socket: BorrowedFd<'_>, data: &[u8], fds: &[RawFd]) -> SysResult<()> {
    assert!(fds.len() <= MAX_PASSED_FDS);
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<()>(
            socket.as_raw_fd(),
            &[IoSlice::new(data)],
            cmsgs,
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(n) if n == data.len() => return Ok(()),
            Ok(_) => return Err(SysError::new("sendmsg(SCM_RIGHTS): short", Errno::EMSGSIZE)),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(SysError::new("sendmsg(SCM_RIGHTS)", errno)),
        }
    }
}

/// Receives one message into `buf`, and the descriptors attached to it (close-on-exec).
/// `None` at EOF: the other end is closed.
pub(crate) fn recv_with_fds(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
) -> SysResult<Option<(usize, Vec<OwnedFd>)>> {
    let mut space = nix::cmsg_space!([RawFd; MAX_PASSED_FDS]);
    let (bytes, flags, raw) = loop {
        let mut iov = [IoSliceMut::new(buf)];
        match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(msg) => {
                let mut raw = Vec::new();
                for cmsg in msg
                    .cmsgs()
                    .map_err(|e| SysError::new("recvmsg(SCM_RIGHTS)", e))?
                {
                    if let ControlMessageOwned::ScmRights(fds) = cmsg {
                        raw.extend(fds);
                    }
                }
                break (msg.bytes, msg.flags, raw);
            }
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(SysError::new("recvmsg(SCM_RIGHTS)", errno)),
        }
    };
    // SAFETY: SCM_RIGHTS gave this process new descriptors that nothing else owns.
    let fds: Vec<OwnedFd> = raw
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    if flags.intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC) {
        return Err(SysError::new(
            "recvmsg(SCM_RIGHTS): truncated",
            Errno::EMSGSIZE,
        ));
    }
    if bytes == 0 && fds.is_empty() {
        return Ok(None);
    }
    Ok(Some((bytes, fds)))
}
