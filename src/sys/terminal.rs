//! Terminals: a pseudo-terminal for a shell in a kept environment, and the user's terminal in
//! raw mode while it relays.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::pty::PtyMaster;
use nix::sys::termios::{self, SetArg, Termios};

use super::error::{Context, SysResult};

/// A new pseudo-terminal's two ends.
pub(crate) struct Pty {
    pub master: PtyMaster,
    pub slave: OwnedFd,
}

/// Opens a pseudo-terminal from `/dev/ptmx` (the devpts instance of the mount namespace this
/// process is in).
pub(crate) fn open_pty() -> SysResult<Pty> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .op_at("open", "/dev/ptmx")?;
    nix::pty::grantpt(&master).op("grantpt")?;
    nix::pty::unlockpt(&master).op("unlockpt")?;
    let path = nix::pty::ptsname_r(&master).op("ptsname")?;
    let slave = nix::fcntl::open(
        path.as_str(),
        OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .op_at("open", path.as_str())?;
    Ok(Pty { master, slave })
}

/// The terminal at `fd` in raw mode until dropped, when its settings come back.
pub(crate) struct RawMode<'a> {
    fd: BorrowedFd<'a>,
    saved: Termios,
}

/// Puts the terminal at `fd` in raw mode: every key goes through as typed, to the program in
/// the pseudo-terminal, which does its own echo and line editing.
pub(crate) fn raw_mode(fd: BorrowedFd<'_>) -> SysResult<RawMode<'_>> {
    let saved = termios::tcgetattr(fd).op("tcgetattr")?;
    let mut raw = saved.clone();
    termios::cfmakeraw(&mut raw);
    termios::tcsetattr(fd, SetArg::TCSANOW, &raw).op("tcsetattr")?;
    Ok(RawMode { fd, saved })
}

impl Drop for RawMode<'_> {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(self.fd, SetArg::TCSANOW, &self.saved);
    }
}

/// Gives the terminal at `to` the window size of the one at `from`.
pub(crate) fn copy_window_size(from: BorrowedFd<'_>, to: BorrowedFd<'_>) {
    // SAFETY: winsize is plain data, filled by TIOCGWINSZ before it is read.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: both ioctls take a pointer to a winsize that outlives them.
    unsafe {
        if libc::ioctl(from.as_raw_fd(), libc::TIOCGWINSZ, &mut size) == 0 {
            libc::ioctl(to.as_raw_fd(), libc::TIOCSWINSZ, &size);
        }
    }
}

/// Makes the terminal at `fd` the calling process's controlling terminal (it must lead a
/// session without one). For a child, between fork and exec.
pub(crate) fn make_controlling(fd: impl AsFd) -> std::io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument.
    match unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), libc::TIOCSCTTY, 0) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}
