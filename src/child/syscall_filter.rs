//! Which system calls a test may not make, in the spirit of Docker's default seccomp profile,
//! for what user namespaces and the dropped capabilities do not already cover.
//!
//! Each call in [`TABLE`] acts on the host's kernel whatever the namespaces. The kernel would
//! mostly refuse it anyway, for want of a capability in the initial user namespace; the filter
//! refuses it before any of that code runs (the kernel's attack surface), and says so the same
//! way, with `EPERM`. A call tagged with a capability is let through again when the test's
//! `caps` adds that capability; the others only with `privileged = true`, which installs no
//! filter at all.
//!
//! Deliberately not filtered:
//! - `mount`, `umount2`, `unshare`, `setns`, `pivot_root`, `chroot`, `ptrace`: system tests use
//!   them, and the test's own namespaces contain them;
//! - `adjtimex`, `clock_adjtime`: with `modes == 0` they only read the clock's state, which
//!   `ntp_gettime(3)`, `adjtimex --print` and `timedatectl` do (glibc routes `adjtimex` through
//!   `clock_adjtime`). `modes` is a field of a struct passed by pointer, which seccomp cannot
//!   read, so the filter cannot tell a read from a write; the kernel itself refuses every write
//!   without `CAP_SYS_TIME`, which a test holds only if `caps` adds it. Docker also allows
//!   `adjtimex` to everyone;
//! - `/dev/userfaultfd` (Linux 5.11+), which offers what `userfaultfd` does through `ioctl`: a
//!   test only has it if `devices` binds it in. `vm.unprivileged_userfaultfd = 0` alone would not
//!   close the call, only limit it to faults in user mode;
//! - `create_module`, `get_kernel_syms`, `query_module`, `vm86`, `vm86old`: the `libc` crate
//!   has no number for them on x86_64 or aarch64 (the first three were removed from Linux in
//!   2.6, the last two are 32-bit x86 only), so the kernel answers `ENOSYS` anyway.

use crate::sys::{self, Blocked, CapSet};
use Reallow::{Cap, Privileged};

/// What lets a refused call through again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reallow {
    /// `caps = ["+NAME"]` (the capability's name as in `caps`), or `privileged = true`.
    Cap(&'static str),
    /// Only `privileged = true`: no capability makes the call safe on a shared kernel.
    Privileged,
}

/// One refused system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: &'static str,
    pub nr: libc::c_long,
    pub reallow: Reallow,
    /// Values of the first argument that are let through anyway (see [`Blocked`]).
    pub allowed_arg0: &'static [u32],
    /// Why the call is refused, in one line.
    pub why: &'static str,
}

impl Entry {
    /// Whether nothing current makes this call.
    pub(crate) fn obsolete(&self) -> bool {
        self.why == OBSOLETE
    }
}

const fn entry(name: &'static str, nr: libc::c_long, reallow: Reallow, why: &'static str) -> Entry {
    Entry {
        name,
        nr,
        reallow,
        allowed_arg0: &[],
        why,
    }
}

/// The personas Docker allows: `PER_LINUX`, `PER_LINUX32`, `UNAME26`, and `0xffffffff`, which
/// only reads the current one.
const PERSONAS: &[u32] = &[0x0, 0x8, 0x2_0000, 0xffff_ffff];

const KEYRINGS: &str = "kernel keyrings are not namespaced for every key type";
const OBSOLETE: &str = "obsolete; nothing current uses it";

/// Every refused call on this architecture.
#[rustfmt::skip]
pub(crate) const TABLE: &[Entry] = &[
    entry("kexec_load", libc::SYS_kexec_load, Cap("SYS_BOOT"),
        "replaces the host's running kernel"),
    // The musl flavour of `libc` has no number for it on aarch64.
    #[cfg(not(all(target_arch = "aarch64", target_env = "musl")))]
    entry("kexec_file_load", libc::SYS_kexec_file_load, Cap("SYS_BOOT"),
        "replaces the host's running kernel"),
    entry("reboot", libc::SYS_reboot, Cap("SYS_BOOT"),
        "reboots or halts the host"),
    entry("init_module", libc::SYS_init_module, Cap("SYS_MODULE"),
        "loads code into the host's kernel"),
    entry("finit_module", libc::SYS_finit_module, Cap("SYS_MODULE"),
        "loads code into the host's kernel"),
    entry("delete_module", libc::SYS_delete_module, Cap("SYS_MODULE"),
        "unloads code from the host's kernel"),
    entry("acct", libc::SYS_acct, Cap("SYS_PACCT"),
        "switches process accounting for the whole host"),
    entry("swapon", libc::SYS_swapon, Privileged,
        "adds swap space to the whole host"),
    entry("swapoff", libc::SYS_swapoff, Privileged,
        "takes swap space away from the whole host"),
    entry("bpf", libc::SYS_bpf, Cap("BPF"),
        "loads programs into the host's kernel"),
    entry("perf_event_open", libc::SYS_perf_event_open, Cap("PERFMON"),
        "traces the kernel and other processes, a frequent exploit path"),
    entry("keyctl", libc::SYS_keyctl, Privileged, KEYRINGS),
    entry("add_key", libc::SYS_add_key, Privileged, KEYRINGS),
    entry("request_key", libc::SYS_request_key, Privileged, KEYRINGS),
    entry("open_by_handle_at", libc::SYS_open_by_handle_at, Cap("DAC_READ_SEARCH"),
        "opens any file of a host filesystem by handle, around the mount namespace"),
    #[cfg(target_arch = "x86_64")]
    entry("iopl", libc::SYS_iopl, Cap("SYS_RAWIO"),
        "gives direct access to the host's I/O ports"),
    #[cfg(target_arch = "x86_64")]
    entry("ioperm", libc::SYS_ioperm, Cap("SYS_RAWIO"),
        "gives direct access to the host's I/O ports"),
    entry("clock_settime", libc::SYS_clock_settime, Cap("SYS_TIME"),
        "sets the host's one clock"),
    entry("settimeofday", libc::SYS_settimeofday, Cap("SYS_TIME"),
        "sets the host's one clock"),
    entry("quotactl", libc::SYS_quotactl, Privileged,
        "changes the disk quotas of the host's filesystems"),
    entry("quotactl_fd", libc::SYS_quotactl_fd, Privileged,
        "changes the disk quotas of the host's filesystems"),
    entry("lookup_dcookie", libc::SYS_lookup_dcookie, Privileged, OBSOLETE),
    entry("nfsservctl", libc::SYS_nfsservctl, Privileged, OBSOLETE),
    #[cfg(target_arch = "x86_64")]
    entry("uselib", libc::SYS_uselib, Privileged, OBSOLETE),
    #[cfg(target_arch = "x86_64")]
    entry("ustat", libc::SYS_ustat, Privileged, OBSOLETE),
    #[cfg(target_arch = "x86_64")]
    entry("sysfs", libc::SYS_sysfs, Privileged, OBSOLETE),
    #[cfg(target_arch = "x86_64")]
    entry("_sysctl", libc::SYS__sysctl, Privileged, OBSOLETE),
    entry("userfaultfd", libc::SYS_userfaultfd, Privileged,
        "stalls the kernel mid-copy, a common exploit primitive"),
    Entry {
        allowed_arg0: PERSONAS,
        ..entry("personality", libc::SYS_personality, Privileged,
            "other personas turn off ASLR (ADDR_NO_RANDOMIZE) or NX (READ_IMPLIES_EXEC)")
    },
];

/// What the filter refuses for a test that holds `kept`: every entry of [`TABLE`] but those a
/// held capability re-allows.
pub(crate) fn blocked_for(kept: CapSet) -> Vec<Blocked> {
    TABLE
        .iter()
        .filter(|entry| match entry.reallow {
            Cap(name) => !sys::cap_number(name).is_some_and(|cap| kept.contains(cap)),
            Privileged => true,
        })
        .map(|entry| Blocked {
            nr: entry.nr,
            allowed_arg0: entry.allowed_arg0,
        })
        .collect()
}

/// What the filter of a zygote refuses: every call of [`TABLE`], as for a test whose `caps`
/// re-allow none.
pub(crate) fn shared() -> Vec<Blocked> {
    blocked_for(CapSet::default())
}

/// Set in a zygote once it holds the [`shared`] filter, and so in every process it forks.
static SHARED_INSTALLED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Installs the [`shared`] filter in this process, a zygote, once: compiling a filter and
/// loading it into the kernel (which checks and JIT-compiles it) is one of the dearer steps
/// of a test, and every test forked from here inherits the filter instead. Nothing the zygote
/// or a test's PID 1 does while it builds the sandbox is in [`TABLE`]. On failure (an
/// architecture without filters) each test installs its own, and reports the failure itself.
pub(crate) fn install_in_zygote() {
    let installed = sys::compile(&shared()).is_ok_and(|filter| sys::install(&filter).is_ok());
    SHARED_INSTALLED.store(installed, std::sync::atomic::Ordering::Relaxed);
}

/// Whether this process inherited the filter refusing exactly `blocked` from its zygote.
pub(crate) fn inherited(blocked: &[Blocked]) -> bool {
    SHARED_INSTALLED.load(std::sync::atomic::Ordering::Relaxed) && blocked == shared()
}

/// A hint for a failure that may come from the filter: `seccomp blocks keyctl (privileged =
/// true re-allows it): kernel keyrings are …`. `None` if the filter never refuses `syscall`.
pub(crate) fn describe(syscall: &str) -> Option<String> {
    let entry = TABLE.iter().find(|entry| entry.name == syscall)?;
    let reallow = match entry.reallow {
        Cap(cap) => format!(
            "privileged = true re-allows it; caps = [\"+{cap}\"] lets it through the filter, \
             for what it does in the test's own namespaces"
        ),
        Privileged => "privileged = true re-allows it".to_string(),
    };
    let allowed: Vec<String> = entry
        .allowed_arg0
        .iter()
        .map(|v| format!("{v:#x}"))
        .collect();
    let unless = match allowed.is_empty() {
        true => String::new(),
        false => format!(" unless its first argument is {}", allowed.join(", ")),
    };
    Some(format!(
        "seccomp blocks {}{unless} ({reallow}): {}",
        entry.name, entry.why
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::child::privileges::wanted;
    use crate::registry::Net;
    use crate::sys::{Filter, Forked};
    use nix::errno::Errno;

    fn default_kept() -> CapSet {
        wanted(&[], Net::Loopback)
    }

    fn numbers(blocked: &[Blocked]) -> Vec<libc::c_long> {
        blocked.iter().map(|b| b.nr).collect()
    }

    #[test]
    fn the_default_policy_compiles_for_x86_64_and_aarch64() {
        let blocked = blocked_for(default_kept());
        assert_eq!(
            blocked.len(),
            TABLE.len(),
            "the default keeps none of the tags"
        );
        // The numbers are this machine's: on the other architecture this only shows that the
        // program builds (no rule seccompiler rejects, short enough for the kernel).
        for arch in ["x86_64", "aarch64"] {
            let filter = sys::compile_for(arch, &blocked).unwrap();
            assert!(filter.instructions() < 4096, "{arch}");
        }
        sys::compile(&blocked).unwrap();
    }

    #[test]
    fn a_capability_from_caps_re_allows_its_calls() {
        let module = sys::cap_number("SYS_MODULE").unwrap();
        let default = numbers(&blocked_for(default_kept()));
        let with_module = numbers(&blocked_for(default_kept().with(module)));
        for nr in [libc::SYS_init_module, libc::SYS_finit_module] {
            assert!(default.contains(&nr));
            assert!(!with_module.contains(&nr));
        }
        // No capability re-allows the keyrings.
        assert!(numbers(&blocked_for(CapSet(u64::MAX))).contains(&libc::SYS_keyctl));
    }

    #[test]
    fn every_tag_names_a_capability_and_every_number_is_listed_once() {
        for entry in TABLE {
            if let Cap(name) = entry.reallow {
                assert!(sys::cap_number(name).is_some(), "{}: {name}", entry.name);
            }
        }
        let mut seen: Vec<_> = TABLE.iter().map(|entry| entry.nr).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), TABLE.len());
    }

    #[test]
    fn hints_name_the_call_and_what_re_allows_it() {
        assert_eq!(
            describe("keyctl").unwrap(),
            format!("seccomp blocks keyctl (privileged = true re-allows it): {KEYRINGS}")
        );
        assert_eq!(
            describe("init_module").unwrap(),
            "seccomp blocks init_module (privileged = true re-allows it; caps = [\"+SYS_MODULE\"] \
             lets it through the filter, for what it does in the test's own namespaces): loads \
             code into the host's kernel"
        );
        let personality = describe("personality").unwrap();
        let unless = "personality unless its first argument is 0x0, 0x8, 0x20000, 0xffffffff (";
        assert!(personality.contains(unless), "{personality}");
        assert_eq!(describe("mount"), None);
    }

    /// A system call the child makes. The ones expected refused pass arguments the kernel
    /// rejects otherwise than with EPERM, so that EPERM can only come from the filter.
    struct Probe {
        name: &'static str,
        call: fn() -> libc::c_long,
        expect: Expect,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Expect {
        /// EPERM under the filter, and not before it.
        Refused,
        /// Anything but EPERM under the filter, nor before it.
        NotRefused,
        /// Succeeds under the filter.
        Works,
    }

    fn probe(name: &'static str, call: fn() -> libc::c_long, expect: Expect) -> Probe {
        Probe { name, call, expect }
    }

    fn keyctl() -> libc::c_long {
        // SAFETY: KEYCTL_GET_KEYRING_ID takes integers only; create = 0 changes nothing.
        unsafe { libc::syscall(libc::SYS_keyctl, 0 as libc::c_long, -3 as libc::c_long, 0) }
    }

    #[cfg(target_arch = "x86_64")]
    fn keyctl_x32() -> libc::c_long {
        let nr = 0x4000_0000 | libc::SYS_keyctl;
        // SAFETY: as in `keyctl`, through the x32 ABI (ENOSYS where the kernel lacks it).
        unsafe { libc::syscall(nr, 0 as libc::c_long, -3 as libc::c_long, 0) }
    }

    fn init_module() -> libc::c_long {
        let null = std::ptr::null::<libc::c_void>();
        // SAFETY: an empty image is rejected (ENOEXEC, or ENOSYS without module support)
        // before the kernel reads the parameters.
        unsafe { libc::syscall(libc::SYS_init_module, null, 0 as libc::c_long, null) }
    }

    fn perf_event_open() -> libc::c_long {
        let null = std::ptr::null::<libc::c_void>();
        let (pid, cpu, group, flags): (libc::c_long, libc::c_long, libc::c_long, libc::c_long) =
            (0, -1, -1, 0);
        // SAFETY: a null attribute pointer fails with EFAULT; nothing is opened.
        unsafe { libc::syscall(libc::SYS_perf_event_open, null, pid, cpu, group, flags) }
    }

    fn personality(persona: libc::c_long) -> libc::c_long {
        // SAFETY: personality takes an integer; it only changes this (forked) process.
        unsafe { libc::syscall(libc::SYS_personality, persona) }
    }

    fn adjtimex_read() -> libc::c_long {
        // SAFETY: `timex` is plain integers; all zeros is a valid value, and modes = 0 reads.
        let mut timex: libc::timex = unsafe { std::mem::zeroed() };
        // SAFETY: `timex` is a valid, writable struct timex for the call to fill in.
        unsafe { libc::syscall(libc::SYS_adjtimex, &mut timex) }
    }

    fn getpid() -> libc::c_long {
        // SAFETY: getpid takes no arguments and cannot fail.
        unsafe { libc::syscall(libc::SYS_getpid) }
    }

    fn unshare_nothing() -> libc::c_long {
        // SAFETY: unshare(0) unshares nothing.
        unsafe { libc::syscall(libc::SYS_unshare, 0 as libc::c_long) }
    }

    fn refused(call: fn() -> libc::c_long) -> bool {
        call() == -1 && Errno::last() == Errno::EPERM
    }

    /// In the forked child: checks the probes before and under `filter`. Returns the exit
    /// code: 0, or which step and probe went wrong (decoded by [`decode`]). Only raw system
    /// calls: no allocation, no lock, as after a fork of a multi-threaded process.
    fn child(filter: &Filter, probes: &[Probe]) -> i32 {
        for (i, probe) in probes.iter().enumerate() {
            if probe.expect != Expect::Works && refused(probe.call) {
                return 100 + i as i32;
            }
        }
        if sys::set_no_new_privs().is_err() {
            return 1;
        }
        if sys::install(filter).is_err() {
            return 2;
        }
        for (i, probe) in probes.iter().enumerate() {
            let as_expected = match probe.expect {
                Expect::Refused => refused(probe.call),
                Expect::NotRefused => !refused(probe.call),
                Expect::Works => (probe.call)() >= 0,
            };
            if !as_expected {
                return 150 + i as i32;
            }
        }
        0
    }

    fn decode(code: i32, probes: &[Probe]) -> String {
        let probe = |base: i32| probes.get((code - base) as usize).map_or("?", |p| p.name);
        match code {
            1 => "prctl(PR_SET_NO_NEW_PRIVS) failed".to_string(),
            2 => "installing the filter failed".to_string(),
            100..=149 => format!(
                "{} already fails with EPERM without the filter: this machine (or the \
                 container the tests run in) refuses it, so the test cannot tell",
                probe(100)
            ),
            150..=199 => {
                let expect = probes.get((code - 150) as usize).map(|p| p.expect);
                format!("{} under the filter: expected {expect:?}", probe(150))
            }
            _ => format!("the child exited with {code}"),
        }
    }

    /// Forks a child that installs `filter` and runs `probes`; the first surprise, in words.
    fn run_probes(filter: &Filter, probes: &[Probe]) -> Result<(), String> {
        // SAFETY: the child runs `child`, which only makes system calls, then `_exit`s.
        let forked = unsafe { sys::fork() }.map_err(|e| e.to_string())?;
        let pid = match forked {
            Forked::Child => sys::exit_now(child(filter, probes)),
            Forked::Parent(pid) => nix::unistd::Pid::from_raw(pid),
        };
        match nix::sys::wait::waitpid(pid, None).map_err(|e| e.to_string())? {
            nix::sys::wait::WaitStatus::Exited(_, 0) => Ok(()),
            nix::sys::wait::WaitStatus::Exited(_, code) => Err(decode(code, probes)),
            other => Err(format!("the child ended with {other:?}")),
        }
    }

    #[test]
    fn the_default_filter_refuses_the_listed_calls_in_a_real_process() {
        let filter = sys::compile(&blocked_for(default_kept())).unwrap();
        let probes = [
            probe("keyctl", keyctl, Expect::Refused),
            #[cfg(target_arch = "x86_64")]
            probe("keyctl through x32", keyctl_x32, Expect::Refused),
            probe("init_module", init_module, Expect::Refused),
            probe("perf_event_open", perf_event_open, Expect::Refused),
            probe(
                "personality(ADDR_NO_RANDOMIZE)",
                || personality(libc::ADDR_NO_RANDOMIZE.into()),
                Expect::Refused,
            ),
            probe(
                "personality(PER_LINUX32)",
                || personality(0x8),
                Expect::Works,
            ),
            probe(
                "personality(UNAME26)",
                || personality(0x2_0000),
                Expect::Works,
            ),
            probe("personality(PER_LINUX)", || personality(0), Expect::Works),
            probe(
                "personality(0xffffffff)",
                || personality(0xffff_ffff),
                Expect::Works,
            ),
            probe("adjtimex(modes = 0)", adjtimex_read, Expect::Works),
            probe("getpid", getpid, Expect::Works),
            probe("unshare(0)", unshare_nothing, Expect::Works),
        ];
        run_probes(&filter, &probes).unwrap();
    }

    #[test]
    fn a_filter_for_caps_with_sys_module_lets_init_module_through() {
        let module = sys::cap_number("SYS_MODULE").unwrap();
        let filter = sys::compile(&blocked_for(default_kept().with(module))).unwrap();
        let probes = [
            probe("init_module", init_module, Expect::NotRefused),
            probe("keyctl", keyctl, Expect::Refused),
        ];
        run_probes(&filter, &probes).unwrap();
    }
}
