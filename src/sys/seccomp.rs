//! The seccomp filter: compile a list of refused system calls into a BPF program once, then
//! install it with one call. The policy (which calls, and why) lives in
//! `child/syscall_filter.rs`; this file only knows the kernel's side.
//!
//! The program allows every call it does not list and answers a listed one with `EPERM`, the
//! errno a program already expects from a call it lacks the privilege for.
//!
//! Architectures: x86_64 and aarch64. seccompiler also builds riscv64 programs, but nothing here
//! has been run there; every other architecture gets [`FilterError::UnsupportedArch`] rather than
//! a filter that silently allows everything, so the README's threat model never quietly stops
//! being true on a machine. The caller decides whether that ends the test.
//!
//! Other ABIs of the same CPU (known limitation of seccompiler, whose programs always begin with
//! this check): a call made through a different ABI than the filter's (i386 on x86_64, through
//! `int 0x80` or from a 32-bit binary; AArch32 on aarch64) kills the whole process with `SIGSYS`.
//! That closes the classic bypass through the compat table, but it also means 32-bit binaries
//! cannot run under the filter at all. The x32 ABI passes that check (the kernel reports it as
//! x86_64, with bit 30 set in the call's number), so every refused x86_64 call is refused under
//! its x32 number too.

use std::collections::BTreeMap;

use seccompiler::{
    BackendError, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use super::error::{Errno, SysError, SysResult};

/// One system call the filter refuses with `EPERM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Blocked {
    /// The call's number on the architecture the filter is for (`libc::SYS_*` on this one).
    pub nr: libc::c_long,
    /// Values of the first argument, compared as 32 bits, for which the call is let through.
    /// Empty: refused whatever its arguments.
    pub allowed_arg0: &'static [u32],
}

/// A compiled seccomp program, ready for [`install`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    program: BpfProgram,
}

impl Filter {
    /// The program's length in BPF instructions (the kernel takes at most 4096).
    #[cfg(test)]
    pub(crate) fn instructions(&self) -> usize {
        self.program.len()
    }
}

/// Building the seccomp program failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FilterError {
    #[error("no syscall filter for {arch}: filters are built for x86_64 and aarch64 only")]
    UnsupportedArch { arch: String },
    #[error("failed to compile the syscall filter")]
    Compile(#[source] BackendError),
}

/// The program for this machine's architecture that refuses `blocked` and allows the rest.
/// Pure and cheap (a few hundred instructions): build it once per process.
pub(crate) fn compile(blocked: &[Blocked]) -> Result<Filter, FilterError> {
    compile_for(std::env::consts::ARCH, blocked)
}

/// [`compile`] for `arch` (as `std::env::consts::ARCH` spells it). The numbers in `blocked` must
/// be that architecture's.
pub(crate) fn compile_for(arch: &str, blocked: &[Blocked]) -> Result<Filter, FilterError> {
    let target = match arch {
        "x86_64" => TargetArch::x86_64,
        "aarch64" => TargetArch::aarch64,
        _ => {
            let arch = arch.to_string();
            return Err(FilterError::UnsupportedArch { arch });
        }
    };
    let mut rules = BTreeMap::new();
    for call in blocked {
        let when = refused_when(call).map_err(FilterError::Compile)?;
        if target == TargetArch::x86_64 {
            rules.insert(x32_number(call.nr), when.clone());
        }
        rules.insert(call.nr, when);
    }
    let filter = SeccompFilter::new(
        rules,
        // Not listed: allowed.
        SeccompAction::Allow,
        // Listed, and no exception matched: refused.
        SeccompAction::Errno(libc::EPERM as u32),
        target,
    )
    .map_err(FilterError::Compile)?;
    let program = BpfProgram::try_from(filter).map_err(FilterError::Compile)?;
    Ok(Filter { program })
}

/// The rules under which seccompiler refuses `call`: none means always; otherwise one rule
/// that matches when the first argument is none of the allowed values.
fn refused_when(call: &Blocked) -> Result<Vec<SeccompRule>, BackendError> {
    if call.allowed_arg0.is_empty() {
        return Ok(Vec::new());
    }
    let conditions = call
        .allowed_arg0
        .iter()
        .map(|&value| {
            SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, value.into())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(vec![SeccompRule::new(conditions)?])
}

/// `__X32_SYSCALL_BIT`: set in the number of every call made through the x32 ABI.
const X32_SYSCALL_BIT: libc::c_long = 0x4000_0000;

/// The x86_64 calls to which x32 gives an entry of its own, 512 to 547, instead of the native
/// number (asm/unistd_x32.h): native number, x32 number without [`X32_SYSCALL_BIT`].
const X32_OWN_ENTRIES: [(libc::c_long, libc::c_long); 36] = [
    (13, 512),  // rt_sigaction
    (15, 513),  // rt_sigreturn
    (16, 514),  // ioctl
    (19, 515),  // readv
    (20, 516),  // writev
    (45, 517),  // recvfrom
    (46, 518),  // sendmsg
    (47, 519),  // recvmsg
    (59, 520),  // execve
    (101, 521), // ptrace
    (127, 522), // rt_sigpending
    (128, 523), // rt_sigtimedwait
    (129, 524), // rt_sigqueueinfo
    (131, 525), // sigaltstack
    (222, 526), // timer_create
    (244, 527), // mq_notify
    (246, 528), // kexec_load
    (247, 529), // waitid
    (273, 530), // set_robust_list
    (274, 531), // get_robust_list
    (278, 532), // vmsplice
    (279, 533), // move_pages
    (295, 534), // preadv
    (296, 535), // pwritev
    (297, 536), // rt_tgsigqueueinfo
    (299, 537), // recvmmsg
    (307, 538), // sendmmsg
    (310, 539), // process_vm_readv
    (311, 540), // process_vm_writev
    (54, 541),  // setsockopt
    (55, 542),  // getsockopt
    (206, 543), // io_setup
    (209, 544), // io_submit
    (322, 545), // execveat
    (327, 546), // preadv2
    (328, 547), // pwritev2
];

/// The number the x32 ABI uses for the x86_64 call `nr`.
fn x32_number(nr: libc::c_long) -> libc::c_long {
    let own = X32_OWN_ENTRIES.iter().find(|(native, _)| *native == nr);
    X32_SYSCALL_BIT | own.map_or(nr, |&(_, x32)| x32)
}

/// `seccomp(SECCOMP_SET_MODE_FILTER)`: from now on the calling thread, everything it forks and
/// everything those exec run under `filter`, which nothing can remove.
///
/// The kernel takes a filter from a process without `CAP_SYS_ADMIN` only once `no_new_privs`
/// is set, and the caller sets it first ([`super::set_no_new_privs`]), so the order is visible
/// where privileges are cut. seccompiler's `apply_filter` sets it once more itself, which is
/// then a no-op. Only this thread gets the filter (no `TSYNC`): call it while single-threaded.
/// Makes only `prctl` and `seccomp` calls and allocates nothing, so it is safe after `fork`.
pub(crate) fn install(filter: &Filter) -> SysResult<()> {
    seccompiler::apply_filter(&filter.program).map_err(|e| match e {
        seccompiler::Error::Prctl(io) => SysError::new("prctl(PR_SET_NO_NEW_PRIVS)", errno(&io)),
        seccompiler::Error::Seccomp(io) => {
            SysError::new("seccomp(SECCOMP_SET_MODE_FILTER)", errno(&io))
        }
        // An empty program, or a thread-sync failure without TSYNC: neither can come from a
        // `Filter`, whose program always starts with the architecture check.
        _ => SysError::new("seccomp(SECCOMP_SET_MODE_FILTER)", Errno::EINVAL),
    })
}

fn errno(io: &std::io::Error) -> Errno {
    Errno::from_raw(io.raw_os_error().unwrap_or(libc::EINVAL))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYCTL: Blocked = Blocked {
        nr: 250,
        allowed_arg0: &[],
    };
    const PERSONALITY: Blocked = Blocked {
        nr: 135,
        allowed_arg0: &[0, 0xffff_ffff],
    };

    #[test]
    fn compiles_for_both_architectures() {
        for arch in ["x86_64", "aarch64"] {
            let filter = compile_for(arch, &[KEYCTL, PERSONALITY]).unwrap();
            assert!(
                filter.instructions() > 3,
                "{arch}: more than the arch check"
            );
        }
    }

    #[test]
    fn x86_64_also_refuses_the_x32_numbers() {
        let x86 = compile_for("x86_64", &[KEYCTL]).unwrap();
        let arm = compile_for("aarch64", &[KEYCTL]).unwrap();
        // One more syscall chain, for the x32 number.
        assert!(x86.instructions() > arm.instructions());
        assert_eq!(x32_number(250), 0x4000_0000 + 250);
        assert_eq!(x32_number(246), 0x4000_0000 + 528);
    }

    #[test]
    fn other_architectures_are_refused_by_name() {
        let e = compile_for("s390x", &[KEYCTL]).unwrap_err();
        assert!(
            e.to_string().starts_with("no syscall filter for s390x:"),
            "{e}"
        );
    }

    #[test]
    fn an_empty_list_still_compiles() {
        // The architecture check, the number load and the final allow.
        assert!(compile(&[]).unwrap().instructions() >= 4);
    }
}
