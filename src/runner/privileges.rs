//! Whether, and how, this process can build test environments: as root, or rootless in a user
//! namespace of its own where root inside is this user outside.

use crate::sys::{self, UserMapping};

/// How this run creates namespaces.
#[derive(Debug, Clone)]
pub(super) enum Privileges {
    /// Real root with CAP_SYS_ADMIN: everything works.
    Root,
    /// Not root, but unprivileged user namespaces are allowed: each test gets one, root inside.
    /// What needs real root (`net = "veth"`; limits, without a cgroup delegated to the user)
    /// degrades with a message.
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
        match sys::user_namespaces_blocked(&|path| std::fs::read_to_string(path).ok()) {
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
