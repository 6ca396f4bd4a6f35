//! The runner's part in building a `net = "veth"` test's environment: the host's end of its
//! veth pair, which only a process in the host's network namespace can make, made while the
//! test's PID 1 waits.
//!
//! PID 1 makes the test's namespaces itself (the user namespace mapped by whoever made it: see
//! `sys/namespace_pair.rs`), then says so on the handshake socket. The runner makes the veth
//! pair with its host end here and `eth0` directly in the test's network namespace, and
//! addresses the host end. Its answer lets PID 1 go on. Other tests need no handshake.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use crate::child::{HOST_SIDE_DONE, NAMESPACES_READY};
use crate::plan::Veth;
use crate::sys::{self, Child, Netlink, SysError, SysResult};

/// Waits (up to `timeout`) for PID 1 to report its namespaces, makes the veth pair, answers.
/// Returns without error if PID 1 ended first: its report says why.
pub(super) fn make_veth(
    child: &Child,
    handshake: &OwnedFd,
    veth: &Veth,
    timeout: Duration,
) -> SysResult<()> {
    let ready = sys::poll_readable(&[handshake.as_fd()], timeout)?;
    if !ready[0] {
        return Err(SysError::new(
            "poll(handshake): the test's PID 1 did not make its namespaces in time",
            nix::errno::Errno::ETIMEDOUT,
        ));
    }
    let mut socket = File::from(handshake.try_clone().map_err(|e| io_error("dup", e))?);
    let mut message = [0u8; 32];
    let n = socket
        .read(&mut message)
        .map_err(|e| io_error("read(handshake)", e))?;
    if &message[..n] != NAMESPACES_READY {
        // EOF: PID 1 failed (or was killed) before; collecting its report tells the rest.
        return Ok(());
    }
    let netns = sys::open_netns_of(child.pid())?;
    let mut host = Netlink::open()?;
    // eth0 is made directly in the test's namespace; the host end lives as long as it.
    host.add_veth(&veth.host_if, "eth0", Some(netns.as_fd()))?;
    host.add_address(&veth.host_if, veth.host_addr.into(), veth.prefix_len)?;
    host.set_up(&veth.host_if, true)?;
    socket
        .write_all(HOST_SIDE_DONE)
        .map_err(|e| io_error("write(handshake)", e))
}

fn io_error(op: &'static str, e: std::io::Error) -> SysError {
    SysError::new(
        op,
        nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    )
}
