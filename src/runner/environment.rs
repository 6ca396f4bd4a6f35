//! The environment a test body starts with: clean, predictable, the same on every machine.

use std::ffi::CString;

use crate::child::{CRATE_VAR, NET_VAR, ROOT_VAR, TEST_VAR};
use crate::registry::TestDef;

/// `PATH` in a fixture root: a distribution's usual directories.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Passed through from the runner's environment when set.
const PASSED_THROUGH: [&str; 2] = ["RUST_BACKTRACE", "RUST_LOG"];

/// The child's `envp`: markers for the child entry (which removes them), then what the body
/// sees. The attribute's `env` comes last and overrides the defaults.
pub(super) fn for_test(
    test: &TestDef,
    full_name: &str,
    root: &str,
    net: &str,
    crate_dir: &std::path::Path,
) -> Vec<CString> {
    let term = std::env::var("TERM").unwrap_or_else(|_| "dumb".to_string());
    // `<position>:<name>`: PID 1 looks the test up by position, and checks its name.
    let position = crate::registry::position(test).unwrap_or(usize::MAX);
    let mut vars: Vec<(String, String)> = vec![
        (TEST_VAR.into(), format!("{position}:{full_name}")),
        (ROOT_VAR.into(), root.into()),
        (NET_VAR.into(), net.into()),
        (CRATE_VAR.into(), crate_dir.to_string_lossy().into_owned()),
        ("PATH".into(), path(test.rootfs)),
        ("HOME".into(), "/root".into()),
        ("TERM".into(), term),
        ("HOSTNAME".into(), test.hostname.into()),
    ];
    for name in PASSED_THROUGH {
        if let Ok(value) = std::env::var(name) {
            vars.push((name.into(), value));
        }
    }
    for entry in test.env {
        let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
        vars.retain(|(k, _)| k != key);
        vars.push((key.into(), value.into()));
    }
    vars.into_iter()
        .filter_map(|(k, v)| CString::new(format!("{k}={v}")).ok())
        .collect()
}

/// On the host's root, the runner's own `PATH` (the tools of `cargo test`'s shell, `cargo`
/// itself in `~/.cargo/bin`, are where it says); in a fixture root, the usual directories.
fn path(rootfs: &str) -> String {
    match rootfs {
        "host" | "host-ro" => std::env::var("PATH").unwrap_or_else(|_| PATH.to_string()),
        _ => PATH.to_string(),
    }
}
