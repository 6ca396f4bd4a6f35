//! Capabilities: the kernel's numbering (linux/capability.h), and one wrapper per call that
//! reads or changes a process's capability sets (capget, capset, and the prctl options for the
//! bounding and ambient sets and no_new_privs).

use super::error::{Errno, SysError, SysResult};

/// Every capability the kernel defines up to Linux 6.x, by number, without the `CAP_` prefix.
pub(crate) const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// The number of a capability named like `SYS_TIME` or `CAP_SYS_TIME`.
pub(crate) fn cap_number(name: &str) -> Option<u32> {
    let name = name.strip_prefix("CAP_").unwrap_or(name);
    NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

/// `CAP_SYS_TIME` for 25; `capability 45` for a number newer than this table.
pub(crate) fn cap_name(cap: u32) -> String {
    match NAMES.get(cap as usize) {
        Some(name) => format!("CAP_{name}"),
        None => format!("capability {cap}"),
    }
}

/// A set of capabilities, one bit per capability number (as in /proc/PID/status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct CapSet(pub u64);

impl CapSet {
    pub(crate) fn contains(self, cap: u32) -> bool {
        cap < 64 && self.0 & (1 << cap) != 0
    }

    pub(crate) fn with(self, cap: u32) -> CapSet {
        CapSet(self.0 | (1 << cap))
    }

    pub(crate) fn without(self, cap: u32) -> CapSet {
        CapSet(self.0 & !(1 << cap))
    }

    pub(crate) fn intersect(self, other: CapSet) -> CapSet {
        CapSet(self.0 & other.0)
    }
}

/// A thread's effective, permitted and inheritable sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub effective: CapSet,
    pub permitted: CapSet,
    pub inheritable: CapSet,
}

/// `_LINUX_CAPABILITY_VERSION_3`: 64-bit sets, passed as two 32-bit halves.
const VERSION_3: u32 = 0x2008_0522;

#[repr(C)]
struct Header {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Data {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// `capget(2)` for the calling thread.
pub(crate) fn capget() -> SysResult<Caps> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: `header` is a valid v3 header and `data` the two-element array v3 writes into.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(SysError::new("capget", Errno::last()));
    }
    let join = |f: fn(&Data) -> u32| CapSet(u64::from(f(&data[0])) | u64::from(f(&data[1])) << 32);
    Ok(Caps {
        effective: join(|d| d.effective),
        permitted: join(|d| d.permitted),
        inheritable: join(|d| d.inheritable),
    })
}

/// `capset(2)` for the calling thread. The kernel refuses (EPERM) to add to the permitted set
/// or to raise an effective capability that is not permitted.
pub(crate) fn capset(caps: Caps) -> SysResult<()> {
    let mut header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let half = |set: CapSet, high: bool| (if high { set.0 >> 32 } else { set.0 }) as u32;
    let data: [Data; 2] = [false, true].map(|high| Data {
        effective: half(caps.effective, high),
        permitted: half(caps.permitted, high),
        inheritable: half(caps.inheritable, high),
    });
    // SAFETY: `header` is a valid v3 header and `data` the two-element array v3 reads.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(SysError::new("capset", Errno::last()));
    }
    Ok(())
}

/// `prctl(PR_CAPBSET_DROP, cap)`: no process started from here on can ever regain `cap`.
/// EINVAL means this kernel does not know the capability.
pub(crate) fn bounding_drop(cap: u32) -> SysResult<()> {
    prctl("prctl(PR_CAPBSET_DROP)", libc::PR_CAPBSET_DROP, cap.into()).map(drop)
}

/// `prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)`: programs the process starts get no
/// capability through the ambient set.
pub(crate) fn clear_ambient() -> SysResult<()> {
    let op = "prctl(PR_CAP_AMBIENT_CLEAR_ALL)";
    // SAFETY: prctl with integer arguments only; the unused ones must be zero.
    let rc = unsafe {
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc < 0 {
        return Err(SysError::new(op, Errno::last()));
    }
    Ok(())
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: execve never grants privileges again (setuid bits and file
/// capabilities are ignored), for this process and everything it starts.
pub(crate) fn set_no_new_privs() -> SysResult<()> {
    prctl("prctl(PR_SET_NO_NEW_PRIVS)", libc::PR_SET_NO_NEW_PRIVS, 1).map(drop)
}

fn prctl(op: &'static str, option: libc::c_int, arg: libc::c_ulong) -> SysResult<libc::c_int> {
    // SAFETY: prctl with integer arguments only; the unused ones must be zero.
    let rc = unsafe {
        libc::prctl(
            option,
            arg,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    if rc < 0 {
        return Err(SysError::new(op, Errno::last()));
    }
    Ok(rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_follow_capability_h() {
        assert_eq!(cap_number("SYS_ADMIN"), Some(21));
        assert_eq!(cap_number("CAP_SYS_TIME"), Some(25));
        assert_eq!(cap_number("CHECKPOINT_RESTORE"), Some(40));
        assert_eq!(cap_number("NOPE"), None);
        assert_eq!(cap_name(16), "CAP_SYS_MODULE");
        assert_eq!(cap_name(45), "capability 45");
    }

    #[test]
    fn capget_reads_what_proc_reports() {
        let caps = capget().unwrap();
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let field = |name: &str| {
            let line = status.lines().find_map(|l| l.strip_prefix(name)).unwrap();
            CapSet(u64::from_str_radix(line.trim(), 16).unwrap())
        };
        assert_eq!(caps.effective, field("CapEff:"));
        assert_eq!(caps.permitted, field("CapPrm:"));
        assert_eq!(caps.inheritable, field("CapInh:"));
        // Setting what we have changes nothing and is always allowed.
        capset(caps).unwrap();
    }
}
