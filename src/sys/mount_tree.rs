//! Detached copies of mount trees (`open_tree(OPEN_TREE_CLONE)`): taken while their source is
//! reachable, made read-only, attached later where the source no longer is.

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::error::{Errno, SysError, SysResult};
use super::mount::setattr_readonly;

/// A copy of the mount tree at a path, not attached anywhere until [`attach`](Self::attach).
/// Dropped unattached, it is gone.
#[derive(Debug)]
pub(crate) struct DetachedTree {
    fd: OwnedFd,
    is_dir: bool,
}

impl DetachedTree {
    /// `open_tree(source, OPEN_TREE_CLONE | AT_RECURSIVE)`: `source` (a directory or a file)
    /// and every mount below it, read-only at every level.
    pub(crate) fn read_only_copy(source: &Path) -> SysResult<DetachedTree> {
        let path = c_path("open_tree", source)?;
        let flags = libc::OPEN_TREE_CLONE | libc::OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as u32;
        // SAFETY: `path` is a valid NUL-terminated string the kernel only reads.
        let fd =
            unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) };
        if fd < 0 {
            return Err(SysError::at(
                "open_tree(OPEN_TREE_CLONE)",
                source,
                Errno::last(),
            ));
        }
        // SAFETY: open_tree returned a new descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
        let tree = DetachedTree {
            fd,
            is_dir: source.is_dir(),
        };
        setattr_readonly(
            tree.fd.as_raw_fd(),
            c"",
            libc::AT_EMPTY_PATH | libc::AT_RECURSIVE,
            true,
        )
        .map_err(|errno| SysError::at("mount_setattr(MOUNT_ATTR_RDONLY)", source, errno))?;
        Ok(tree)
    }

    /// Whether the copy is of a directory (else of a file).
    pub(crate) fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// `move_mount`: the copy appears at `target` (which must exist).
    pub(crate) fn attach(self, target: &Path) -> SysResult<()> {
        let path = c_path("move_mount", target)?;
        let empty: &CStr = c"";
        // SAFETY: both strings are valid and NUL-terminated; the kernel only reads them, and
        // `self.fd` is an open mount descriptor.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_move_mount,
                self.fd.as_raw_fd(),
                empty.as_ptr(),
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::MOVE_MOUNT_F_EMPTY_PATH,
            )
        };
        match rc {
            0 => Ok(()),
            _ => Err(SysError::at("move_mount", target, Errno::last())),
        }
    }
}

fn c_path(op: &'static str, path: &Path) -> SysResult<CString> {
    CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| SysError::at(op, path, Errno::EINVAL))
}
