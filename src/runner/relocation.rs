//! Where the tests' crates are now, when that is not where they were compiled: `cargo nextest
//! archive` builds on one machine, and `cargo nextest run --archive-file … --workspace-remap DIR`
//! runs the tests from another directory. Paths fixed at compile time (`CARGO_MANIFEST_DIR`,
//! `CARGO_BIN_EXE_<name>`) are then found again from what the run sets.

use std::path::{Path, PathBuf};

/// The workspace as compiled (`from`) and as found now (`to`); the same when nothing moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Relocation {
    from: PathBuf,
    to: PathBuf,
}

impl Relocation {
    /// From the test binary's compile-time manifest directory and the `CARGO_MANIFEST_DIR` the
    /// run sets (cargo and nextest both do; nextest's is remapped), if that holds a crate.
    pub(super) fn detect(compiled: &Path) -> Relocation {
        let actual = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && dir.join("Cargo.toml").is_file());
        match actual {
            Some(actual) => Relocation::between(compiled, &actual),
            None => Relocation::between(compiled, compiled),
        }
    }

    /// `compiled` → `actual`, reduced to the directories that differ: their common trailing
    /// components (the crate's place in the workspace) are left out, so the move applies to
    /// every path of the workspace (other members, the target directory inside it).
    fn between(compiled: &Path, actual: &Path) -> Relocation {
        let (mut from, mut to) = (compiled.to_path_buf(), actual.to_path_buf());
        while from != to && from.file_name().is_some() && from.file_name() == to.file_name() {
            from.pop();
            to.pop();
        }
        Relocation { from, to }
    }

    /// `path` where it is now: moved with the workspace when it was inside it.
    pub(super) fn path(&self, path: &Path) -> PathBuf {
        match path.strip_prefix(&self.from) {
            Ok(rest) if self.from != self.to => self.to.join(rest),
            _ => path.to_path_buf(),
        }
    }

    /// The cargo binary `name`, compiled at `compiled`: where nextest says it is now
    /// (`NEXTEST_BIN_EXE_<name>`, also with `-` as `_`), else moved with the workspace.
    pub(super) fn bin(&self, name: &str, compiled: &Path) -> PathBuf {
        let names = [name.to_string(), name.replace('-', "_")];
        names
            .iter()
            .find_map(|n| std::env::var_os(format!("NEXTEST_BIN_EXE_{n}")))
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| self.path(compiled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_moved_workspace_moves_every_path_inside_it() {
        let moved = Relocation::between(
            Path::new("/build/ws/crates/app"),
            Path::new("/run/here/crates/app"),
        );
        assert_eq!(
            moved,
            Relocation {
                from: "/build/ws".into(),
                to: "/run/here".into()
            }
        );
        assert_eq!(
            moved.path(Path::new("/build/ws/target/debug/tool")),
            Path::new("/run/here/target/debug/tool")
        );
        assert_eq!(
            moved.path(Path::new("/build/ws/crates/app/fixtures/x.tar")),
            Path::new("/run/here/crates/app/fixtures/x.tar")
        );
        assert_eq!(moved.path(Path::new("/etc/hosts")), Path::new("/etc/hosts"));
    }

    #[test]
    fn nothing_moves_when_nothing_moved() {
        let same = Relocation::between(Path::new("/ws/app"), Path::new("/ws/app"));
        assert_eq!(same.path(Path::new("/ws/app/x")), Path::new("/ws/app/x"));
    }

    #[test]
    fn a_renamed_crate_directory_moves_the_directory_itself() {
        let moved = Relocation::between(Path::new("/a/old"), Path::new("/b/new"));
        assert_eq!(moved.path(Path::new("/a/old/f")), Path::new("/b/new/f"));
    }
}
