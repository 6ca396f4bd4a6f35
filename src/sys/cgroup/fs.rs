//! The file and process operations cgroups are made of, one thin wrapper each: every error
//! names the operation and the path (or pid) it acted on.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::Pid;

use crate::sys::error::{Context, Errno, SysError, SysResult};

/// Reads a whole (small) cgroup or proc file.
pub(super) fn read(path: &Path) -> SysResult<String> {
    std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))
}

/// Writes `value` to an existing cgroup file in one `write(2)`: the kernel parses each write
/// on its own, so a value must never be split. Never creates the file.
pub(super) fn write(path: &Path, value: &str) -> SysResult<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_error("open", path, e))?;
    match file.write(value.as_bytes()) {
        Ok(n) if n == value.len() => Ok(()),
        Ok(_) => Err(SysError::at("write", path, Errno::EIO)),
        Err(e) => Err(io_error("write", path, e)),
    }
}

/// Opens a `cgroup.procs` file `O_WRONLY | O_CLOEXEC`, for a child to join the group with.
pub(super) fn open_procs(path: &Path) -> SysResult<OwnedFd> {
    nix::fcntl::open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()).op_at("open", path)
}

/// The link count of `path`: for a cgroup directory, 2 plus its child groups.
pub(super) fn link_count(path: &Path) -> SysResult<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .map(|m| m.nlink())
        .map_err(|e| io_error("stat", path, e))
}

/// `mkdir(path, 0755)`; `Ok(false)` when it already existed.
pub(super) fn mkdir(path: &Path) -> SysResult<bool> {
    match nix::unistd::mkdir(path, Mode::from_bits_truncate(0o755)) {
        Ok(()) => Ok(true),
        Err(Errno::EEXIST) => Ok(false),
        Err(errno) => Err(SysError::at("mkdir", path, errno)),
    }
}

/// `rmdir(path)`; a directory that is already gone is not an error.
pub(super) fn rmdir(path: &Path) -> SysResult<()> {
    match std::fs::remove_dir(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("rmdir", path, e)),
    }
}

/// The names of the directories directly in `path`: child cgroups. None if `path` is missing.
pub(super) fn subdirs(path: &Path) -> SysResult<Vec<String>> {
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("opendir", path, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error("readdir", path, e))?;
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            names.extend(entry.file_name().to_str().map(str::to_owned));
        }
    }
    Ok(names)
}

/// Whether the effective user may write `path`: `faccessat(path, W_OK, AT_EACCESS)`.
pub(super) fn writable(path: &Path) -> SysResult<()> {
    use nix::fcntl::{AtFlags, AT_FDCWD};
    use nix::unistd::AccessFlags;
    nix::unistd::faccessat(AT_FDCWD, path, AccessFlags::W_OK, AtFlags::AT_EACCESS)
        .op_at("access(W_OK)", path)
}

/// `kill(pid, SIGKILL)`; a process that is already gone is not an error.
pub(super) fn kill(pid: i32) -> SysResult<()> {
    match nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(errno) => Err(SysError::at("kill(SIGKILL)", pid_path(pid), errno)),
    }
}

/// Whether a process with this pid exists (in our PID namespace): `kill(pid, 0)`.
pub(super) fn process_exists(pid: i32) -> bool {
    !matches!(
        nix::sys::signal::kill(Pid::from_raw(pid), None),
        Err(Errno::ESRCH)
    )
}

/// The calling process's pid.
pub(super) fn own_pid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// The effective uid.
pub(super) fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// Total physical memory, from `sysinfo(2)`.
pub(crate) fn physical_memory() -> SysResult<u64> {
    let info = nix::sys::sysinfo::sysinfo().op("sysinfo")?;
    Ok(info.ram_total())
}

/// `/proc/<pid>`: how a pid appears in an error.
fn pid_path(pid: i32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

fn io_error(op: &'static str, path: &Path, e: std::io::Error) -> SysError {
    SysError::at(
        op,
        path,
        Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    )
}
