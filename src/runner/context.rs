//! What is worked out once per run and shared by every test: the executable to start, the
//! prepared fixtures, whether we may create namespaces at all.

use std::ffi::CString;
use std::os::fd::OwnedFd;

use nix::errno::Errno;
use std::path::{Path, PathBuf};

use super::memo::Memo;
use super::privileges::Privileges;
use crate::fixtures::{self, Addition, Rootfs};
use crate::plan::Root;
use crate::registry::{Mapping, TestDef};
use crate::sys;
use crate::sys::cgroup::Placement;

pub(super) struct RunContext {
    pub exe: CString,
    /// The test's `argv`: the test binary's path (for `ps`, and `std::env::args()` in a test),
    /// then the marker of a re-executed child.
    pub argv: [CString; 2],
    /// Tests start from a zygote per runner thread (else each by an exec of its own).
    pub zygotes: bool,
    devnull: Result<OwnedFd, String>,
    pub nocapture: bool,
    manifest_dir: PathBuf,
    /// Where the crates are now, if not where they were compiled.
    pub relocation: super::relocation::Relocation,
    privileges: Result<Privileges, String>,
    /// Each fixture, prepared once; a failure with the test that met it first.
    fixtures: Memo<&'static str, Result<Rootfs, FirstFailure>>,
    additions: Memo<(PathBuf, &'static [Mapping]), Result<PathBuf, String>>,
    /// Cgroups for the tests' limits, detected once per run; `Err`: why there are none.
    pub cgroups: Result<crate::sys::cgroup::Cgroups, String>,
    /// Physical memory, for the default memory limit.
    pub physical_memory: u64,
    /// `isolated run`: the keys of its one test, which PID 1 makes again.
    pub adhoc: Option<crate::adhoc::Spec>,
}

impl RunContext {
    /// `nocapture`: the tests' output goes straight to the runner's stdout and stderr.
    pub(super) fn new(manifest_dir: &str, nocapture: bool) -> RunContext {
        let privileges = Privileges::check();
        let cgroups = match &privileges {
            Ok(Privileges::Root) => super::limits::cgroups_for_run(Placement::Root),
            // Rootless: in the user's own cgroup, where it is delegated to them.
            Ok(Privileges::Rootless(_)) => super::limits::cgroups_for_run(Placement::Delegated),
            Err(e) => Err(e.clone()),
        };
        let relocation = super::relocation::Relocation::detect(Path::new(manifest_dir));
        RunContext {
            exe: CString::new("/proc/self/exe").expect("no NUL in a literal"),
            argv: [
                std::env::current_exe()
                    .ok()
                    .and_then(|p| CString::new(p.into_os_string().into_encoded_bytes()).ok())
                    .unwrap_or_else(|| c"/proc/self/exe".into()),
                c"--isolated-child".into(),
            ],
            zygotes: crate::zygote::enabled(),
            devnull: sys::open_devnull().map_err(|e| format!("failed to open /dev/null: {e}")),
            nocapture,
            manifest_dir: relocation.path(Path::new(manifest_dir)),
            relocation,
            privileges,
            cgroups,
            physical_memory: super::limits::physical(),
            fixtures: Memo::new(),
            additions: Memo::new(),
            adhoc: None,
        }
    }

    /// `/dev/null`, every test's stdin.
    pub(super) fn devnull(&self) -> sys::SysResult<&OwnedFd> {
        self.devnull
            .as_ref()
            .map_err(|_| sys::SysError::at("open", "/dev/null", Errno::ENOENT))
    }

    /// Whether this process can create the namespaces and mounts a test needs.
    pub(super) fn privileges(&self) -> Result<&Privileges, String> {
        self.privileges.as_ref().map_err(Clone::clone)
    }

    /// The root filesystem `test` runs on, every layer of it prepared (once per run: tests
    /// that need the same fixture wait for the first one preparing it, and a failure is
    /// reported by every test that needed it).
    pub(super) fn root_for(&self, test: &'static TestDef) -> Result<Root, String> {
        let rootfs = self
            .fixtures
            .get_or_init(test.rootfs, || {
                prepare(test.rootfs, &self.manifest_dir).map_err(|message| FirstFailure {
                    message,
                    test: test.full_name(),
                })
            })
            .map_err(|failure| failure.told_to(test))?;
        match (rootfs, test.copies) {
            (Rootfs::Host, []) => Ok(Root::Host),
            (Rootfs::HostReadOnly, []) => Ok(Root::HostReadOnly),
            (Rootfs::Host | Rootfs::HostReadOnly, _) => Err("`copy` and `bins` need a fixture \
                 root filesystem: rootfs = \"host\" is the host's; use a fixture, or `bind`"
                .to_string()),
            (Rootfs::Tree(tree), []) => Ok(Root::Overlay { lowers: vec![tree] }),
            (Rootfs::Tree(tree), copies) => {
                let layer = self.additions.get_or_init((tree.clone(), copies), || {
                    let additions = self.additions_of(copies);
                    fixtures::additions_layer(&tree, &additions).map_err(|e| error_chain(&e))
                })?;
                Ok(Root::Overlay {
                    lowers: vec![layer, tree],
                })
            }
        }
    }

    fn additions_of(&self, copies: &[Mapping]) -> Vec<Addition> {
        let absolute = |m: &Mapping| Addition {
            source: match m.bin {
                Some(name) => self.relocation.bin(name, Path::new(m.source)),
                None => self.relocation.path(&self.manifest_dir.join(m.source)),
            },
            target: PathBuf::from(m.target),
            entry: match m.bin {
                Some(name) if m.target == format!("/usr/local/bin/{name}") => {
                    format!("bins = [\"{name}\"]")
                }
                Some(name) => format!("bins = [\"{name}:{}\"]", m.target),
                None => format!("copy = [\"{}:{}\"]", m.source, m.target),
            },
        };
        copies.iter().map(absolute).collect()
    }
}

/// A failure shared by the tests that need the same thing, told in full to the first of them.
#[derive(Debug, Clone)]
struct FirstFailure {
    message: String,
    /// The full name of the test that met it first.
    test: String,
}

impl FirstFailure {
    /// The whole message for the first test; for the others, a long message (a fixture search
    /// lists every place it looked) shortened to its first line and a pointer to the first.
    fn told_to(self, test: &TestDef) -> String {
        let Some((first_line, _)) = self.message.split_once('\n') else {
            return self.message;
        };
        if test.full_name() == self.test {
            return self.message;
        }
        let first_line = first_line.trim_end_matches(':');
        let first_line = first_line.split("; searched").next().unwrap_or(first_line);
        format!(
            "{first_line} (in full in the failure of `{}`, the first test that needed it)",
            self.test
        )
    }
}

fn prepare(name: &str, manifest_dir: &Path) -> Result<Rootfs, String> {
    fixtures::prepare(name, manifest_dir).map_err(|e| error_chain(&e))
}

/// "what we were doing: cause: cause's cause", each part once.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
