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
