use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};

use super::error::{Context, Errno, SysError, SysResult};

const NONE: Option<&str> = None;

/// `mount --make-rprivate PATH`: nothing mounted below it propagates anywhere.
pub(crate) fn make_rprivate(path: &Path) -> SysResult<()> {
    mount(
        NONE,
        path,
        NONE,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        NONE,
    )
    .op_at("mount(MS_REC|MS_PRIVATE)", path)
}

/// A fresh tmpfs with the given options (e.g. `mode=0755`).
pub(crate) fn mount_tmpfs(target: &Path, flags: MsFlags, options: &str) -> SysResult<()> {
    mount(Some("tmpfs"), target, Some("tmpfs"), flags, Some(options)).op_at("mount(tmpfs)", target)
}

/// An overlay: read-only `lowers` (topmost first), writes going to `upper` (with `work` on the
/// same filesystem).
pub(crate) fn mount_overlay(
    lowers: &[PathBuf],
    upper: &Path,
    work: &Path,
    target: &Path,
) -> SysResult<()> {
    let lowers: Vec<String> = lowers.iter().map(|l| escape_option(l)).collect();
    let options = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowers.join(":"),
        escape_option(upper),
        escape_option(work)
    );
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::empty(),
        Some(options.as_str()),
    )
    .op_at("mount(overlay)", target)
}

/// A read-only overlay of `lowers` alone (topmost first; at least two), with no upper layer.
pub(crate) fn mount_overlay_read_only(lowers: &[PathBuf], target: &Path) -> SysResult<()> {
    let lowers: Vec<String> = lowers.iter().map(|l| escape_option(l)).collect();
    let options = format!("lowerdir={}", lowers.join(":"));
    mount(
        Some("overlay"),
        target,
        Some("overlay"),
        MsFlags::MS_RDONLY,
        Some(options.as_str()),
    )
    .op_at("mount(overlay, MS_RDONLY)", target)
}

/// overlayfs splits its options on `,` and lower layers on `:`; both must be escaped.
fn escape_option(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `mount --bind` (with `recursive`, `--rbind`).
pub(crate) fn bind(source: &Path, target: &Path, recursive: bool) -> SysResult<()> {
    let mut flags = MsFlags::MS_BIND;
    if recursive {
        flags |= MsFlags::MS_REC;
    }
    mount(Some(source), target, NONE, flags, NONE).op_at("mount(MS_BIND)", target)
}

/// `mount --bind source target`, then the bind remounted with `flags` (`MS_NOSUID`,
/// `MS_NODEV`, `MS_NOEXEC`): a directory of a filesystem already mounted, with the options a
/// filesystem of its own would have been mounted with.
pub(crate) fn bind_with_flags(source: &Path, target: &Path, flags: MsFlags) -> SysResult<()> {
    bind(source, target, false)?;
    let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags;
    mount(NONE, target, NONE, flags, NONE).op_at("mount(MS_REMOUNT|MS_BIND)", target)
}

/// Makes the mount at `target` read-only (`recursive`: and every mount below it), or, with
/// `readonly` false, writable again.
///
/// Uses `mount_setattr` (Linux 5.12), one call even for a whole tree; on older kernels falls
/// back to remounting the top mount alone.
pub(crate) fn set_readonly(target: &Path, readonly: bool, recursive: bool) -> SysResult<()> {
    match mount_setattr(target, readonly, recursive) {
        Err(e) if e.errno == Errno::ENOSYS => {
            let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND;
            if readonly {
                flags |= MsFlags::MS_RDONLY;
            }
            mount(NONE, target, NONE, flags, NONE).op_at("mount(MS_REMOUNT|MS_BIND)", target)
        }
        other => other,
    }
}

fn mount_setattr(target: &Path, readonly: bool, recursive: bool) -> SysResult<()> {
    let path = std::ffi::CString::new(target.as_os_str().as_encoded_bytes())
        .map_err(|_| SysError::at("mount_setattr", target, Errno::EINVAL))?;
    let flags = if recursive { libc::AT_RECURSIVE } else { 0 };
    setattr_readonly(libc::AT_FDCWD, &path, flags, readonly)
        .map_err(|errno| SysError::at("mount_setattr", target, errno))
}

/// `mount_setattr(dirfd, path, flags, {MOUNT_ATTR_RDONLY set or cleared})`.
pub(super) fn setattr_readonly(
    dirfd: std::os::fd::RawFd,
    path: &std::ffi::CStr,
    flags: libc::c_int,
    readonly: bool,
) -> Result<(), Errno> {
    let (attr_set, attr_clr) = match readonly {
        true => (libc::MOUNT_ATTR_RDONLY, 0),
        false => (0, libc::MOUNT_ATTR_RDONLY),
    };
    let attr = libc::mount_attr {
        attr_set,
        attr_clr,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: `path` is a valid NUL-terminated string and `attr` a valid `mount_attr` whose
    // size we pass; the kernel only reads both. A bad `dirfd` is an error, not UB.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            dirfd,
            path.as_ptr(),
            flags,
            &attr as *const libc::mount_attr,
            std::mem::size_of::<libc::mount_attr>(),
        )
    };
    match rc {
        0 => Ok(()),
        _ => Err(Errno::last()),
    }
}

/// A fresh procfs for the current PID namespace.
pub(crate) fn mount_proc(target: &Path) -> SysResult<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), target, Some("proc"), flags, NONE).op_at("mount(proc)", target)
}

/// A fresh procfs for the current PID namespace, read-only.
pub(crate) fn mount_proc_readonly(target: &Path) -> SysResult<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY;
    mount(Some("proc"), target, Some("proc"), flags, NONE).op_at("mount(proc, MS_RDONLY)", target)
}

/// A read-only sysfs showing the current network namespace's devices.
pub(crate) fn mount_sysfs(target: &Path) -> SysResult<()> {
    // Read-only alone: in a user namespace, a fresh sysfs (`ip netns exec` mounts one for the
    // namespace it enters) must carry every flag locked on the one already visible, and ip
    // passes `MS_RDONLY` only. sysfs holds no device nodes, setuid files or programs anyway.
    let flags = MsFlags::MS_RDONLY;
    mount(Some("sysfs"), target, Some("sysfs"), flags, NONE).op_at("mount(sysfs)", target)
}

/// A private devpts instance, so the test's pseudo-terminals are its own.
pub(crate) fn mount_devpts(target: &Path) -> SysResult<()> {
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC;
    mount(
        Some("devpts"),
        target,
        Some("devpts"),
        flags,
        Some("newinstance,ptmxmode=0666,mode=0620"),
    )
    .op_at("mount(devpts)", target)
}

/// `pivot_root(new_root, put_old)`.
pub(crate) fn pivot_root(new_root: &Path, put_old: &Path) -> SysResult<()> {
    nix::unistd::pivot_root(new_root, put_old).op_at("pivot_root", new_root)
}

/// `umount2(path, MNT_DETACH)`: lazily detaches the mount and everything below it.
pub(crate) fn detach(path: &Path) -> SysResult<()> {
    umount2(path, MntFlags::MNT_DETACH).op_at("umount2(MNT_DETACH)", path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_options_escape_separators() {
        assert_eq!(escape_option(Path::new("/a,b:c\\d")), "/a\\,b\\:c\\\\d");
    }
}
