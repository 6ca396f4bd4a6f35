//! What the sandbox must build for one test: plain data, decided before any syscall.

mod network;

use std::path::{Path, PathBuf};

pub(crate) use network::{Network, Veth, VETH_LINKS};

use crate::registry::TestDef;

/// The root filesystem a test sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Root {
    /// The host's real filesystems, each copy-on-write (`rootfs = "host"`).
    Host,
    /// The host's root, recursively bind-mounted and made read-only (`rootfs = "host-ro"`).
    HostReadOnly,
    /// A copy-on-write overlay: read-only layers (topmost first: the test's `copy` files, then
    /// the prepared fixture tree), a fresh tmpfs layer on top for the test's writes.
    Overlay { lowers: Vec<PathBuf> },
}

/// [`Root::Host`], encoded.
const HOST: &str = "host";

impl Root {
    /// The root as the runner hands it to the child in one environment variable: empty for
    /// the host read-only, [`HOST`] for the host copy-on-write, else the lower layers, one per
    /// line (topmost first; absolute paths, so never [`HOST`]).
    pub(crate) fn encode(&self) -> String {
        match self {
            Root::Host => HOST.to_string(),
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
        if text == HOST {
            return Root::Host;
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
    pub network: Network,
    /// Contents of the test's `/etc/hosts`.
    pub hosts: String,
    /// Contents of the test's `/etc/resolv.conf`.
    pub resolv_conf: String,
    pub binds: Vec<Bind>,
    /// `devices`: host device nodes (absolute paths under /dev) bound into the test's /dev.
    pub devices: Vec<PathBuf>,
    /// `privileged`: the test keeps the host's user namespace (and so acts on its kernel).
    pub privileged: bool,
}

impl Plan {
    /// The plan for `test`, on `root`, with `network`; `host_resolv_conf` is the host's
    /// `/etc/resolv.conf` (used with `net = "host"`).
    pub(crate) fn new(
        test: &TestDef,
        root: Root,
        network: Network,
        host_resolv_conf: Option<&str>,
    ) -> Plan {
        Plan {
            root,
            hostname: test.hostname.to_string(),
            hosts: hosts_file(test.hostname, &network),
            resolv_conf: network.resolv_conf(host_resolv_conf),
            network,
            binds: test
                .binds
                .iter()
                .map(|m| Bind {
                    source: Path::new(test.manifest_dir).join(m.source),
                    target: PathBuf::from(m.target),
                })
                .collect(),
            devices: test.devices.iter().map(PathBuf::from).collect(),
            privileged: test.privileged,
        }
    }
}

/// `localhost` resolves to loopback in every rootfs, and the test's hostname to the test.
fn hosts_file(hostname: &str, network: &Network) -> String {
    format!(
        "127.0.0.1\tlocalhost localhost.localdomain\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n{}",
        network.hosts_lines(hostname)
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
        for root in [Root::Host, Root::HostReadOnly, overlay] {
            assert_eq!(Root::decode(&root.encode()), root);
        }
    }

    #[test]
    fn hosts_file_maps_localhost_to_loopback_and_the_hostname_to_the_test() {
        let hosts = hosts_file("box", &Network::Loopback);
        assert!(hosts.contains("127.0.0.1\tlocalhost localhost.localdomain\n"));
        assert!(hosts.contains("::1\tlocalhost ip6-localhost ip6-loopback\n"));
        assert!(hosts.contains("127.0.1.1\tbox\n"));
        let veth = hosts_file("box", &Network::Veth(Veth::numbered(0)));
        assert!(
            veth.contains("10.213.0.2\tbox\n10.213.0.1\tisolated-host\n"),
            "{veth}"
        );
    }
}
