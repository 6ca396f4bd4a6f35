use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::error::{Context, Errno, SysResult};

/// `pipe2(O_CLOEXEC)`: (read end, write end).
pub(crate) fn pipe() -> SysResult<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(OFlag::O_CLOEXEC).op("pipe2")
}

/// A connected pair of `SOCK_SEQPACKET` unix sockets, close-on-exec: a two-way channel whose
/// every message arrives whole, and whose reader sees EOF when the other end is gone.
pub(crate) fn socketpair() -> SysResult<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType};
    nix::sys::socket::socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .op("socketpair(AF_UNIX, SOCK_SEQPACKET)")
}

/// Sets or clears O_NONBLOCK.
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> SysResult<()> {
    let flags =
        OFlag::from_bits_truncate(fcntl(fd.as_fd(), FcntlArg::F_GETFL).op("fcntl(F_GETFL)")?);
    let flags = if nonblocking {
        flags | OFlag::O_NONBLOCK
    } else {
        flags - OFlag::O_NONBLOCK
    };
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags)).op("fcntl(F_SETFL)")?;
    Ok(())
}

/// Waits until one of `fds` is readable (or hung up) or `timeout` passes; says which are.
pub(crate) fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Duration) -> SysResult<Vec<bool>> {
    let millis = timeout.as_millis().clamp(1, i32::MAX as u128) as i32;
    let mut polled: Vec<PollFd> = fds
        .iter()
        .map(|fd| PollFd::new(*fd, PollFlags::POLLIN))
        .collect();
    match poll(
        &mut polled,
        PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
    ) {
        Ok(_) => Ok(polled.iter().map(|p| p.any().unwrap_or(false)).collect()),
        Err(Errno::EINTR) => Ok(vec![false; fds.len()]),
        Err(errno) => Err(super::SysError::new("poll", errno)),
    }
}
