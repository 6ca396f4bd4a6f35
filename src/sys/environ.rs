//! What `/proc/<pid>/environ` shows: the environment a process was exec'd with.
//!
//! The kernel reads that file from the memory between the mm's `env_start` and `env_end`,
//! set by exec. A process forked from a zygote inherits the zygote's, however it changes its
//! environment later: [`show_environment`] points them at the test's instead, as if the test
//! had been exec'd with it.

use std::ffi::CString;

use super::error::{Errno, SysError, SysResult};

/// `struct prctl_mm_map` of `<linux/prctl.h>`.
#[repr(C)]
struct MmMap {
    start_code: u64,
    end_code: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    brk: u64,
    start_stack: u64,
    arg_start: u64,
    arg_end: u64,
    env_start: u64,
    env_end: u64,
    auxv: *mut u64,
    auxv_size: u32,
    exe_fd: u32,
}

/// Makes `/proc/self/environ` show `envp` (`KEY=value` entries). `PR_SET_MM_MAP` needs no
/// privilege but a kernel built with `CONFIG_CHECKPOINT_RESTORE` (every distribution's); the
/// memory holding `envp` is kept for the life of the process.
pub(crate) fn show_environment(envp: &[CString]) -> SysResult<()> {
    let stat = std::fs::read_to_string("/proc/self/stat")
        .map_err(|e| SysError::at("read", "/proc/self/stat", errno(&e)))?;
    let fields = stat_fields(&stat)
        .ok_or_else(|| SysError::at("parse", "/proc/self/stat", Errno::EINVAL))?;
    let mut block: Vec<u8> = Vec::new();
    for var in envp {
        block.extend_from_slice(var.as_bytes_with_nul());
    }
    if block.is_empty() {
        block.push(0);
    }
    let block: &'static mut [u8] = block.leak();
    let env_start = block.as_ptr() as u64;
    // SAFETY: sbrk(0) only reads the current program break.
    let brk = unsafe { libc::sbrk(0) } as u64;
    let map = MmMap {
        start_code: fields.start_code,
        end_code: fields.end_code,
        start_data: fields.start_data,
        end_data: fields.end_data,
        start_brk: fields.start_brk,
        brk,
        start_stack: fields.start_stack,
        arg_start: fields.arg_start,
        arg_end: fields.arg_end,
        env_start,
        env_end: env_start + block.len() as u64,
        auxv: std::ptr::null_mut(),
        auxv_size: 0,     // 0: the auxiliary vector stays as it is
        exe_fd: u32::MAX, // -1: the executable stays as it is
    };
    // SAFETY: `map` is a valid prctl_mm_map of the size passed; every address but the
    // environment's is the kernel's own value, and the environment's is leaked memory.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_MM,
            libc::PR_SET_MM_MAP as libc::c_ulong,
            &map as *const MmMap as libc::c_ulong,
            std::mem::size_of::<MmMap>() as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(SysError::new("prctl(PR_SET_MM_MAP)", Errno::last())),
    }
}

/// The addresses `PR_SET_MM_MAP` wants, from `/proc/self/stat`.
struct StatFields {
    start_code: u64,
    end_code: u64,
    start_stack: u64,
    start_data: u64,
    end_data: u64,
    start_brk: u64,
    arg_start: u64,
    arg_end: u64,
}

/// Fields 26-28 and 45-49 of `proc_pid_stat(5)`; the command name (field 2) may hold spaces
/// and parentheses, so counting starts after its last `)`.
fn stat_fields(stat: &str) -> Option<StatFields> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3.
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some(StatFields {
        start_code: field(26)?,
        end_code: field(27)?,
        start_stack: field(28)?,
        start_data: field(45)?,
        end_data: field(46)?,
        start_brk: field(47)?,
        arg_start: field(48)?,
        arg_end: field(49)?,
    })
}

fn errno(e: &std::io::Error) -> Errno {
    Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO))
}

#[cfg(test)]
mod tests {
    use super::stat_fields;

    #[test]
    fn reads_the_addresses_after_an_odd_command_name() {
        let mut stat = String::from("42 (a) b (c) S");
        for n in 4..=52 {
            stat.push_str(&format!(" {n}"));
        }
        let fields = stat_fields(&stat).unwrap();
        assert_eq!(
            (fields.start_code, fields.end_code, fields.start_stack),
            (26, 27, 28)
        );
        assert_eq!((fields.start_data, fields.arg_end), (45, 49));
        assert!(stat_fields("42 (no fields)").is_none());
    }
}
