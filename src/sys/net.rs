use super::error::{Errno, SysError, SysResult};

/// Brings the loopback interface of the current network namespace up.
///
/// The kernel then gives it 127.0.0.1/8 and ::1 by itself.
pub(crate) fn loopback_up() -> SysResult<()> {
    // SAFETY: plain socket(2) call; the result is checked and wrapped in an OwnedFd below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(SysError::new("socket(AF_INET)", Errno::last()));
    }
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&sock);

    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *dst = *src as libc::c_char;
    }
    // SAFETY: `req` is a valid ifreq naming "lo"; SIOCGIFFLAGS fills in its flags field.
    if unsafe { libc::ioctl(raw, libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(SysError::at("ioctl(SIOCGIFFLAGS)", "lo", Errno::last()));
    }
    // SAFETY: the flags member of the union is the one SIOCGIFFLAGS just set.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
    // SAFETY: `req` is a valid ifreq naming "lo" with the new flags; the kernel only reads it.
    if unsafe { libc::ioctl(raw, libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(SysError::at("ioctl(SIOCSIFFLAGS)", "lo", Errno::last()));
    }
    Ok(())
}

/// Every interface of the current network namespace with its addresses (`127.0.0.1/8`), in
/// the order the kernel lists them; empty if they cannot be read.
pub(crate) fn interface_addresses() -> Vec<(String, Vec<String>)> {
    let Ok(addrs) = nix::ifaddrs::getifaddrs() else {
        return Vec::new();
    };
    let prefix = |mask: Option<&nix::sys::socket::SockaddrStorage>, max: u32| {
        mask.and_then(|m| {
            m.as_sockaddr_in()
                .map(|m| u32::from(m.ip()).count_ones())
                .or_else(|| m.as_sockaddr_in6().map(|m| u128::from(m.ip()).count_ones()))
        })
        .unwrap_or(max)
    };
    let mut interfaces: Vec<(String, Vec<String>)> = Vec::new();
    for addr in addrs {
        let mask = addr.netmask.as_ref();
        let ip = addr.address.as_ref().and_then(|a| {
            a.as_sockaddr_in()
                .map(|v4| format!("{}/{}", v4.ip(), prefix(mask, 32)))
                .or_else(|| {
                    a.as_sockaddr_in6()
                        .map(|v6| format!("{}/{}", v6.ip(), prefix(mask, 128)))
                })
        });
        let at = match interfaces
            .iter()
            .position(|(name, _)| *name == addr.interface_name)
        {
            Some(at) => at,
            None => {
                interfaces.push((addr.interface_name.clone(), Vec::new()));
                interfaces.len() - 1
            }
        };
        interfaces[at].1.extend(ip);
    }
    interfaces
}
