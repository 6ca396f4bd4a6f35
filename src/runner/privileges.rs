//! Whether, and how, this process can build test environments: as root, or rootless in a user
//! namespace of its own where root inside is this user outside.

use crate::sys::{self, UserMapping};

/// How this run creates namespaces.
#[derive(Debug, Clone)]
pub(super) enum Privileges {
    /// Real root with CAP_SYS_ADMIN: everything works.
    Root,
    /// Not root, but unprivileged user namespaces are allowed: each test gets one, root inside.
    /// What needs real root (`net = "veth"`, cgroup limits) degrades with a message.
    Rootless(UserMapping),
}

impl Privileges {
    /// Checked once per run.
    pub(super) fn check() -> Result<Privileges, String> {
        if sys::geteuid_is_root() {
            if sys::has_cap_sys_admin() {
                return Ok(Privileges::Root);
            }
            return Err(
                "isolated tests need CAP_SYS_ADMIN to create namespaces and mounts, and \
                 this runs as root without it (in a container started without --privileged or \
                 --cap-add SYS_ADMIN?): grant it, or run the tests outside the container"
                    .to_string(),
            );
        }
        let uid = nix::unistd::geteuid();
        match user_namespaces_blocked(&|path| std::fs::read_to_string(path).ok()) {
            None => Ok(Privileges::Rootless(UserMapping::root_as_me())),
            Some((why, fix)) => Err(format!(
                "isolated tests need root, or unprivileged user namespaces for the rootless mode, \
                 and this runs as uid {uid} where {why}: run them with `sudo -E cargo test`, or \
                 {fix}"
            )),
        }
    }

    pub(super) fn rootless(&self) -> Option<&UserMapping> {
        match self {
            Privileges::Root => None,
            Privileges::Rootless(mapping) => Some(mapping),
        }
    }
}

/// Why unprivileged user namespaces are off on this machine, and the fix; `None` if they
/// look available. `read` reads a file (a parameter, so tests can play other machines).
pub(super) fn user_namespaces_blocked(
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
