//! Leasing `net = "veth"` links: each such test holds one index of the range for as long as it
//! runs, so parallel tests — in this runner or in any other on the machine — never share a
//! subnet or an interface name.
//!
//! A lease is an abstract unix socket bound to `isolated-veth-<index>` in the host's network
//! namespace: no file to clean up, and the kernel frees it when the runner exits, however.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::plan::{Veth, VETH_LINKS};

/// A leased link index, held until dropped.
pub(super) struct Lease {
    pub index: u32,
    held: UnixListener,
}

impl Lease {
    /// The socket that holds the lease: whoever has it open holds the link (a kept
    /// environment, after the run).
    pub(super) fn socket(&self) -> std::os::fd::BorrowedFd<'_> {
        std::os::fd::AsFd::as_fd(&self.held)
    }
}

/// Leases a free link: not held by another test, and with no interface of its name on the host.
pub(super) fn lease() -> Result<Lease, String> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Runners start at different places, so they rarely try the same indexes.
    let start = std::process::id().wrapping_mul(97) + NEXT.fetch_add(1, Ordering::Relaxed);
    for offset in 0..VETH_LINKS {
        let index = (start + offset) % VETH_LINKS;
        let name = format!("isolated-veth-{index}");
        let addr = SocketAddr::from_abstract_name(name.as_bytes())
            .map_err(|e| format!("failed to lease a veth link: {e}"))?;
        match UnixListener::bind_addr(&addr) {
            Ok(held) if !host_has(&Veth::numbered(index).host_if) => {
                return Ok(Lease { index, held });
            }
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(e) => return Err(format!("failed to lease a veth link: bind({name}): {e}")),
        }
    }
    Err(format!(
        "all {VETH_LINKS} veth links are in use by running tests"
    ))
}

fn host_has(interface: &str) -> bool {
    std::path::Path::new("/sys/class/net")
        .join(interface)
        .exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_exclusive_and_freed_on_drop() {
        let a = lease().unwrap();
        let b = lease().unwrap();
        assert_ne!(a.index, b.index);
        let index = a.index;
        drop(a);
        let name = format!("isolated-veth-{index}");
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        UnixListener::bind_addr(&addr).expect("a dropped lease is free again");
    }
}
