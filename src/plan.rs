//! What the sandbox must build for one test: plain data, decided before any syscall.

use std::path::{Path, PathBuf};

use crate::registry::TestDef;

/// The root filesystem a test sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Root {
    /// The host's root, recursively bind-mounted and made read-only.
    HostReadOnly,
    /// A copy-on-write overlay: read-only layers (topmost first: the test's `copy` files, then
    /// the prepared fixture tree), a fresh tmpfs layer on top for the test's writes.
    Overlay { lowers: Vec<PathBuf> },
}

impl Root {
    /// The root as the runner hands it to the child in one environment variable: empty for
    /// the host, else the lower layers, one per line (topmost first).
    pub(crate) fn encode(&self) -> String {
        match self {
            Root::HostReadOnly => String::new(),
            Root::Overlay { lowers } => {
                let lines: Vec<_> = lowers.iter().map(|l| l.to_string_lossy()).collect();
                lines.join("\n")
            }
        }
    }

    /// The inverse of [`encode`](Self::encode).
    pub(crate) fn decode(text: &str) -> Root {
        if text.is_empty() {
            return Root::HostReadOnly;
        }
        Root::Overlay {
            lowers: text.lines().map(PathBuf::from).collect(),
        }
    }
}

/// A host path mounted read-only into the test (`bind = ["SRC:/DEST"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bind {
    /// On the host: absolute (relative sources are taken from the test crate's directory).
    pub source: PathBuf,
    /// Inside the test's root.
    pub target: PathBuf,
}

/// Everything the sandbox needs to know to build one test's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub root: Root,
    pub hostname: String,
    /// Contents of the test's `/etc/hosts`.
    pub hosts: String,
    pub binds: Vec<Bind>,
}

impl Plan {
    pub(crate) fn new(test: &TestDef, root: Root) -> Plan {
        Plan {
            root,
            hostname: test.hostname.to_string(),
            hosts: hosts_file(test.hostname),
            binds: test
                .binds
                .iter()
                .map(|m| Bind {
                    source: Path::new(test.manifest_dir).join(m.source),
                    target: PathBuf::from(m.target),
                })
                .collect(),
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
    fn roots_round_trip_through_the_environment() {
        let overlay = Root::Overlay {
            lowers: vec!["/c/layer".into(), "/c/tree".into()],
        };
        for root in [Root::HostReadOnly, overlay] {
            assert_eq!(Root::decode(&root.encode()), root);
        }
    }

    #[test]
    fn hosts_file_maps_localhost_and_hostname_to_loopback() {
        let hosts = hosts_file("box");
        assert!(hosts.contains("127.0.0.1\tlocalhost localhost.localdomain box\n"));
        assert!(hosts.contains("::1\tlocalhost ip6-localhost ip6-loopback box\n"));
    }
}
