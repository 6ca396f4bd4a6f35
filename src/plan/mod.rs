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

/// A host path mounted read-only into the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Bind {
    /// On the host: absolute (relative sources are taken from the test crate's directory).
    pub source: PathBuf,
    /// Inside the test's root.
    pub target: PathBuf,
    pub kind: BindKind,
}

/// Why a path of the host is in the test: asked for, or there so the usual idioms work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BindKind {
    /// `bind = ["SRC:/DEST"]`.
    Requested,
    /// The test crate's directory at its own path: `env!("CARGO_MANIFEST_DIR")` and test data.
    CrateDir,
    /// The test's executable at its own path: a backtrace's symbolizer reads it there.
    Executable,
}

/// Host directories a root made of the host's filesystems replaces with fresh ones: what is
/// below them on the host is not in the test unless bound in.
const REPLACED_ON_HOST_ROOTS: [&str; 5] = ["/proc", "/sys", "/dev", "/tmp", "/run"];

impl Root {
    /// Whether the host's `path` is already at its own path in this root.
    fn shows_host_path(&self, path: &Path) -> bool {
        match self {
            Root::Overlay { .. } => false,
            Root::Host | Root::HostReadOnly => !REPLACED_ON_HOST_ROOTS
                .iter()
                .any(|dir| path.starts_with(dir)),
        }
    }
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
    /// Where the test starts: its crate's directory, as under `cargo test`; `/` with
    /// `crate_dir = false`.
    pub workdir: PathBuf,
}

impl Plan {
    /// The plan for `test`, on `root`, with `network`; `host_resolv_conf` is the host's
    /// `/etc/resolv.conf` (used with `net = "host"`). `paths` are where the test's crate
    /// and executable are on the host now.
    pub(crate) fn new(
        test: &TestDef,
        root: Root,
        network: Network,
        host_resolv_conf: Option<&str>,
        paths: &HostPaths,
    ) -> Plan {
        let requested = test.binds.iter().map(|m| Bind {
            source: paths.crate_dir.join(m.source),
            target: PathBuf::from(m.target),
            kind: BindKind::Requested,
        });
        let binds = implicit_binds(test, &root, paths)
            .chain(requested)
            .collect();
        Plan {
            root,
            hostname: test.hostname.to_string(),
            hosts: hosts_file(test.hostname, &network),
            resolv_conf: network.resolv_conf(host_resolv_conf),
            network,
            binds,
            devices: test.devices.iter().map(PathBuf::from).collect(),
            privileged: test.privileged,
            workdir: match test.crate_dir {
                true => paths.crate_dir.clone(),
                false => PathBuf::from("/"),
            },
        }
    }
}

/// Where a test's crate and executable are on the host, as the run found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPaths {
    /// The test crate's directory now: relative `bind` sources start here.
    pub crate_dir: PathBuf,
    /// Where the crate was when the test was compiled (`env!("CARGO_MANIFEST_DIR")`), if
    /// elsewhere (an archive run from another directory).
    pub compiled_crate_dir: Option<PathBuf>,
    /// The test binary.
    pub executable: PathBuf,
}

/// The crate's directory (unless `crate_dir = false`) at its own path, and at its compile-time
/// path when it moved; the executable at its own path unless already inside. Only where the
/// root does not show them already: a fixture root, or a host root's replaced directories.
fn implicit_binds<'a>(
    test: &TestDef,
    root: &'a Root,
    paths: &'a HostPaths,
) -> impl Iterator<Item = Bind> + 'a {
    let bind = |source: &Path, target: &Path, kind| Bind {
        source: source.to_path_buf(),
        target: target.to_path_buf(),
        kind,
    };
    let mut binds = Vec::new();
    let mut shown: Vec<&Path> = Vec::new();
    if test.crate_dir {
        let dir = &paths.crate_dir;
        let compiled = paths.compiled_crate_dir.as_deref();
        for target in std::iter::once(dir.as_path()).chain(compiled) {
            if !root.shows_host_path(target) {
                binds.push(bind(dir, target, BindKind::CrateDir));
            }
        }
        shown.push(dir);
    }
    let exe = &paths.executable;
    if !root.shows_host_path(exe) && !shown.iter().any(|d| exe.starts_with(d)) {
        binds.push(bind(exe, exe, BindKind::Executable));
    }
    binds.into_iter()
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
