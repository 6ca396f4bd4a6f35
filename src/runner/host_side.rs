//! The runner's part in building a test's environment: what only a process in the host's
//! namespaces can do, done while the test's PID 1 waits.
//!
//! PID 1 makes the test's user namespace (and the namespaces it owns) itself, then says so on
//! the handshake socket. The runner then writes the id maps (a map other than "myself" needs a
//! writer in the namespace above) and, for `net = "veth"`, makes the veth pair with its host
//! end here and `eth0` directly in the test's network namespace, and addresses the host end.
//! Its answer lets PID 1 go on.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use crate::child::{HOST_SIDE_DONE, NAMESPACES_READY};
use crate::plan::Network;
use crate::sys::{self, Child, Netlink, SysError, SysResult};

/// What the runner does on the host's side for one test.
pub(super) struct HostSide<'a> {
    /// The id map to write: `None` for a `privileged` test (no user namespace of its own) and
    /// when rootless (PID 1 maps its own).
    pub id_map: Option<&'static str>,
    pub network: &'a Network,
}

/// Waits (up to `timeout`) for PID 1 to report its namespaces, does the host's side, answers.
/// Returns without error if PID 1 ended first: its report says why.
pub(super) fn serve(
    child: &Child,
    handshake: OwnedFd,
    side: &HostSide<'_>,
    timeout: Duration,
) -> SysResult<()> {
    let ready = sys::poll_readable(&[handshake.as_fd()], timeout)?;
    if !ready[0] {
        return Err(SysError::new(
            "poll(handshake): the test's PID 1 did not make its namespaces in time",
            nix::errno::Errno::ETIMEDOUT,
        ));
    }
    let mut socket = File::from(handshake);
    let mut message = [0u8; 32];
    let n = socket
        .read(&mut message)
        .map_err(|e| io_error("read(handshake)", e))?;
    if &message[..n] != NAMESPACES_READY {
        // EOF: PID 1 failed (or was killed) before; collecting its report tells the rest.
        return Ok(());
    }
    if let Some(map) = side.id_map {
        sys::write_id_maps(child.pid(), map)?;
    }
    if let Network::Veth(veth) = side.network {
        let netns = sys::open_netns_of(child.pid())?;
        let mut host = Netlink::open()?;
        // eth0 is made directly in the test's namespace; the host end lives as long as it.
        host.add_veth(&veth.host_if, "eth0", Some(netns.as_fd()))?;
        host.add_address(&veth.host_if, veth.host_addr.into(), veth.prefix_len)?;
        host.set_up(&veth.host_if, true)?;
    }
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
