//! `/etc/hosts` of the test and of every node: each node's name at its address, everywhere.
//!
//! Files are rewritten in place, never replaced: a node's `/etc/hosts` is a bind mount of one
//! file, and a new file at that path would not be the one mounted. The new contents always
//! start with the old ones (nodes are only ever added), so writing them over the old and then
//! setting the length never shows a reader a file with fewer names than before.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::unix::fs::FileExt;

/// Marks where our lines start in the test's own file.
const HEADER: &str = "# isolated::net: the test and its nodes\n";

/// What every node's file starts with: loopback names only, the node's own name comes below
/// at its address on the network.
const NODE_BASE: &str = "127.0.0.1\tlocalhost localhost.localdomain\n\
                         ::1\tlocalhost ip6-localhost ip6-loopback\n";

/// The names on the network: the test's hostname at the bridge's address, then every node.
#[derive(Debug, Clone)]
pub(super) struct Names {
    /// The test's own file as the sandbox wrote it; the network's lines go below.
    pub test_base: String,
    pub test_hostname: String,
    pub gateway: Ipv4Addr,
    /// Every node ever started, in address order (a restarted node keeps its address).
    pub nodes: Vec<(String, Ipv4Addr)>,
}

impl Names {
    fn lines(&self) -> String {
        let mut lines = format!("{HEADER}{}\t{}\n", self.gateway, self.test_hostname);
        for (name, addr) in &self.nodes {
            lines.push_str(&format!("{addr}\t{name}\n"));
        }
        lines
    }

    /// The test's `/etc/hosts`: what the sandbox put there (its hostname on loopback), then
    /// the network's names.
    pub(super) fn test_file(&self) -> String {
        format!("{}{}", self.test_base, self.lines())
    }

    /// A node's `/etc/hosts`: localhost, then the network's names, its own among them.
    pub(super) fn node_file(&self) -> String {
        format!("{NODE_BASE}{}", self.lines())
    }
}

/// Replaces the contents of `file` with `contents`, in place.
pub(super) fn rewrite(file: &File, contents: &str) -> std::io::Result<()> {
    file.write_all_at(contents.as_bytes(), 0)?;
    file.set_len(contents.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Names {
        Names {
            test_base: "127.0.0.1\tlocalhost box\n".into(),
            test_hostname: "box".into(),
            gateway: Ipv4Addr::new(10, 77, 0, 1),
            nodes: vec![
                ("a".into(), Ipv4Addr::new(10, 77, 0, 2)),
                ("b".into(), Ipv4Addr::new(10, 77, 0, 3)),
            ],
        }
    }

    #[test]
    fn every_file_lists_the_test_and_every_node() {
        let names = names();
        for file in [names.test_file(), names.node_file()] {
            assert!(file.contains("10.77.0.1\tbox\n"), "{file}");
            assert!(file.contains("10.77.0.2\ta\n10.77.0.3\tb\n"), "{file}");
        }
        assert!(names.test_file().starts_with("127.0.0.1\tlocalhost box\n"));
        assert!(names
            .node_file()
            .starts_with("127.0.0.1\tlocalhost localhost.localdomain\n"));
    }

    #[test]
    fn a_new_node_only_appends() {
        let mut names = names();
        let before = names.node_file();
        names.nodes.push(("c".into(), Ipv4Addr::new(10, 77, 0, 4)));
        assert!(names.node_file().starts_with(&before));
    }

    #[test]
    fn rewriting_in_place_keeps_the_file_and_sets_its_length() {
        let file = tempfile::tempfile().unwrap();
        rewrite(&file, "a longer first version\n").unwrap();
        rewrite(&file, "short\n").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut &file, &mut text).unwrap();
        assert_eq!(text, "short\n");
    }
}
