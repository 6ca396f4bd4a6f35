//! What the sandbox must build for one test: plain data, decided before any syscall.

use std::path::PathBuf;

use crate::registry::TestDef;

/// The root filesystem a test sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Root {
    /// The host's root, recursively bind-mounted and made read-only.
    HostReadOnly,
    /// A copy-on-write overlay: the prepared fixture tree below, a fresh tmpfs layer on top.
    Overlay { lower: PathBuf },
}

/// Everything the sandbox needs to know to build one test's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub root: Root,
    pub hostname: String,
    /// Contents of the test's `/etc/hosts`.
    pub hosts: String,
}

impl Plan {
    pub(crate) fn new(test: &TestDef, root: Root) -> Plan {
        Plan {
            root,
            hostname: test.hostname.to_string(),
            hosts: hosts_file(test.hostname),
        }
    }
}

/// `localhost` and the test's own hostname resolve to loopback in every rootfs.
fn hosts_file(hostname: &str) -> String {
    format!(
        "127.0.0.1\tlocalhost localhost.localdomain {hostname}\n\
         ::1\tlocalhost ip6-localhost ip6-loopback {hostname}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_maps_localhost_and_hostname_to_loopback() {
        let hosts = hosts_file("box");
        assert!(hosts.contains("127.0.0.1\tlocalhost localhost.localdomain box\n"));
        assert!(hosts.contains("::1\tlocalhost ip6-localhost ip6-loopback box\n"));
    }
}
