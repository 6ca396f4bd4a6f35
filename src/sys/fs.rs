use std::path::Path;

use nix::sys::stat::Mode;

use super::error::{Context, SysResult};

/// `mkdir(path, mode)`; an existing directory is not an error.
pub(crate) fn mkdir(path: &Path, mode: u32) -> SysResult<()> {
    match nix::unistd::mkdir(path, Mode::from_bits_truncate(mode)) {
        Err(nix::errno::Errno::EEXIST) => Ok(()),
        other => other.op_at("mkdir", path),
    }
}

/// `chmod(path, mode)`: the mode exactly, whatever the umask made of it.
pub(crate) fn chmod(path: &Path, mode: u32) -> SysResult<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error("chmod", path, e))
}

/// `symlink(target, link)`.
pub(crate) fn symlink(target: &str, link: &Path) -> SysResult<()> {
    nix::unistd::symlinkat(target, nix::fcntl::AT_FDCWD, link).op_at("symlink", link)
}

/// Creates (or truncates) a regular file with these contents.
pub(crate) fn write_file(path: &Path, contents: &[u8]) -> SysResult<()> {
    std::fs::write(path, contents).map_err(|e| io_error("write", path, e))
}

/// `mkdir -p path`.
pub(crate) fn mkdir_all(path: &Path) -> SysResult<()> {
    std::fs::create_dir_all(path).map_err(|e| io_error("mkdir", path, e))
}

/// Makes sure a file exists at `path` so something can be bind-mounted onto it.
pub(crate) fn bind_target(path: &Path) -> SysResult<()> {
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        Ok(_) => Ok(()),
        // A read-only root that already has the file is fine: the mount goes on top.
        Err(_) if path.exists() => Ok(()),
        Err(e) => Err(io_error("open", path, e)),
    }
}

pub(super) fn io_error(op: &'static str, path: &Path, e: std::io::Error) -> super::SysError {
    let errno = nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
    super::SysError::at(op, path, errno)
}

/// `chdir(path)`.
pub(crate) fn chdir(path: &Path) -> SysResult<()> {
    nix::unistd::chdir(path).op_at("chdir", path)
}

/// Moves descriptor `fd` to a number of 10 or more, close-on-exec, and closes `fd`: so that
/// programs the process starts do not inherit it and cannot stumble on it at a low number.
pub(crate) fn move_fd_out_of_the_way(fd: std::os::fd::RawFd) -> SysResult<std::os::fd::OwnedFd> {
    use std::os::fd::{BorrowedFd, FromRawFd};
    // SAFETY: the caller names a descriptor that is open for the duration of this call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let moved = nix::fcntl::fcntl(borrowed, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .op("fcntl(F_DUPFD_CLOEXEC)")?;
    // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor nothing else owns.
    let moved = unsafe { std::os::fd::OwnedFd::from_raw_fd(moved) };
    nix::unistd::close(fd).op("close")?;
    Ok(moved)
}

/// `mknod(path, S_IFCHR | mode, makedev(major, minor))`, then `chmod(mode)` (the umask would
/// cut it).
pub(crate) fn make_char_device(path: &Path, mode: u32, major: u32, minor: u32) -> SysResult<()> {
    use nix::sys::stat::{Mode, SFlag};
    let perms = Mode::from_bits_truncate(mode as libc::mode_t);
    let dev = nix::sys::stat::makedev(major.into(), minor.into());
    nix::sys::stat::mknod(path, SFlag::S_IFCHR, perms, dev).op_at("mknod", path)?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
        .map_err(|e| io_error("chmod", path, e))
}

/// Makes sure something exists at `path` to mount onto: a directory (`dir`) or a file, and
/// the directories above it. What already exists is left alone (a read-only root may hold it).
pub(crate) fn mount_target(path: &Path, dir: bool) -> SysResult<()> {
    if let Some(parent) = path.parent() {
        if !parent.is_dir() {
            std::fs::create_dir_all(parent).map_err(|e| io_error("mkdir", parent, e))?;
        }
    }
    if dir {
        mkdir(path, 0o755)
    } else {
        bind_target(path)
    }
}

/// `path` with symlinks at its last component followed (up to 8 hops), for a target that may
/// be a link into a directory that does not exist yet. Links resolve in the current root.
pub(crate) fn follow_links(path: &Path) -> std::path::PathBuf {
    let mut path = path.to_path_buf();
    for _ in 0..8 {
        let Ok(target) = std::fs::read_link(&path) else {
            break;
        };
        path = match path.parent() {
            Some(parent) if target.is_relative() => parent.join(target),
            _ => target,
        };
    }
    path
}
