//! What is worked out once per run and shared by every test: the executable to start, the
//! prepared fixtures, whether we may create namespaces at all.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use libtest_mimic::Arguments;

use crate::fixtures::{self, Rootfs};
use crate::sys;

type Prepared = Arc<OnceLock<Result<Rootfs, String>>>;

pub(super) struct RunContext {
    pub exe: CString,
    pub devnull: Result<OwnedFd, String>,
    pub nocapture: bool,
    manifest_dir: PathBuf,
    privileges: Result<(), String>,
    fixtures: Mutex<HashMap<&'static str, Prepared>>,
}

impl RunContext {
    pub(super) fn new(manifest_dir: &str, args: &Arguments) -> RunContext {
        RunContext {
            exe: CString::new("/proc/self/exe").expect("no NUL in a literal"),
            devnull: sys::open_devnull().map_err(|e| format!("failed to open /dev/null: {e}")),
            nocapture: args.nocapture,
            manifest_dir: PathBuf::from(manifest_dir),
            privileges: check_privileges(),
            fixtures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this process can create the namespaces and mounts a test needs.
    pub(super) fn privileges(&self) -> Result<(), String> {
        self.privileges.clone()
    }

    /// The prepared root filesystem called `name`, prepared on first use and shared after.
    ///
    /// Tests that need the same fixture wait for the first one preparing it; a failure is
    /// remembered and reported by every test using that fixture.
    pub(super) fn rootfs(&self, name: &'static str) -> Result<Rootfs, String> {
        let slot = {
            let mut map = self.fixtures.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(map.entry(name).or_default())
        };
        slot.get_or_init(|| prepare(name, &self.manifest_dir))
            .clone()
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

fn check_privileges() -> Result<(), String> {
    if sys::geteuid_is_root() {
        if sys::has_cap_sys_admin() {
            return Ok(());
        }
        return Err(
            "isolated tests need CAP_SYS_ADMIN to create namespaces and mounts, and this \
                    runs as root without it (in a container started without --privileged or \
                    --cap-add SYS_ADMIN?): grant it, or run the tests outside the container"
                .to_string(),
        );
    }
    Err(format!(
        "isolated tests need root to create namespaces and mounts, and this runs as uid {}: \
         run them with `sudo -E cargo test` (or as root in CI)",
        nix::unistd::geteuid()
    ))
}
