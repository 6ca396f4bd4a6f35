//! User namespaces: whether this machine lets an unprivileged user create them (the rootless
//! mode), and the id maps of a test's own.

use super::error::SysResult;

/// Every id, one to one: what a test's user namespace maps when the runner is real root, so
/// file ownership inside and outside agree (fixtures, overlays, `chown`, `setuid(1000)`).
pub(crate) const IDENTITY_MAP: &str = "0 0 4294967295\n";
/// Root alone: when rootless, the namespace above the test's maps only root (to the user).
pub(crate) const ROOT_ONLY_MAP: &str = "0 0 1\n";

/// Writes the uid and gid maps of the user namespace `/proc/<process>` (`self` included) is
/// in.
pub(crate) fn write_id_maps_of(process: &str, map: &str) -> SysResult<()> {
    for file in ["uid_map", "gid_map"] {
        let path = format!("/proc/{process}/{file}");
        std::fs::write(&path, map).map_err(|e| super::fs::io_error("write", path.as_ref(), e))?;
    }
    Ok(())
}

/// Why unprivileged user namespaces are off on this machine, and the fix; `None` if they
/// look available. `read` reads a file (a parameter, so tests can play other machines).
pub(crate) fn user_namespaces_blocked(
    read: &dyn Fn(&str) -> Option<String>,
) -> Option<(&'static str, &'static str)> {
    let value = |path: &str| read(path).map(|v| v.trim().to_string());
    if value("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        return Some((
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)",
            "enable them: `sudo sysctl -w kernel.unprivileged_userns_clone=1`",
        ));
    }
    if value("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        return Some((
            "user namespaces are disabled (user.max_user_namespaces = 0)",
            "enable them: `sudo sysctl -w user.max_user_namespaces=15000`",
        ));
    }
    if value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        return Some((
            "AppArmor restricts unprivileged user namespaces \
             (kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 24.04)",
            "allow them: `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or \
             give the test binary an AppArmor profile with `userns,`",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(files: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |path| {
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_blocker_is_named_with_its_fix() {
        assert_eq!(user_namespaces_blocked(&machine(&[])), None);
        let debian = machine(&[("/proc/sys/kernel/unprivileged_userns_clone", "0\n")]);
        assert!(user_namespaces_blocked(&debian)
            .unwrap()
            .1
            .contains("unprivileged_userns_clone=1"));
        let off = machine(&[("/proc/sys/user/max_user_namespaces", "0")]);
        assert!(user_namespaces_blocked(&off)
            .unwrap()
            .0
            .contains("max_user_namespaces = 0"));
        let ubuntu = machine(&[
            (
                "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
                "1",
            ),
            ("/proc/sys/user/max_user_namespaces", "63000"),
        ]);
        let (why, fix) = user_namespaces_blocked(&ubuntu).unwrap();
        assert!(why.contains("AppArmor") && fix.contains("userns,"));
    }
}
