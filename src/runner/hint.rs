//! One more line for a failure that looks like the sandbox said no: when a failed test's output
//! or reason mentions `EPERM`, it names what the test's sandbox withholds and the key that
//! grants it, so "Operation not permitted" does not read as a bug in the code under test.

use crate::child::{privileges, syscall_filter};
use crate::registry::TestDef;
use crate::sys::{self, CapSet};

/// How a refused call reads in the output of the usual tools and languages.
const MARKERS: [&str; 4] = [
    "EPERM",
    "Operation not permitted",
    "PermissionDenied",
    "os error 1)",
];

/// The hint for a failure of `test` whose output and reason are `text`; `None` when `text`
/// shows no refused call.
pub(super) fn withheld(test: &TestDef, text: &str) -> Option<String> {
    if !MARKERS.iter().any(|m| text.contains(m)) {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(filtered) = filtered_call(test, text) {
        parts.push(filtered);
    }
    let dropped = dropped(privileges::wanted_by(test));
    if !dropped.is_empty() {
        let grants = match test.privileged {
            true => "`caps` drops them",
            false => {
                "`caps = [\"+NAME\"]` adds one; a host-wide one acts on the host only with \
                 `privileged = true`"
            }
        };
        parts.push(format!("it runs without {} ({grants})", dropped.join(", ")));
    }
    if !test.privileged {
        parts.push(
            "its capabilities act in its own user namespace only: host-wide sysctls, block \
             devices, kernel keyrings, BPF and the clock need `privileged = true`, and host \
             devices need `devices = [\"/dev/...\"]`"
                .to_string(),
        );
    }
    (!parts.is_empty()).then(|| {
        format!(
            "note: the sandbox may have refused this: {}",
            parts.join("; ")
        )
    })
}

/// What the seccomp filter says about a call the text names (`keyctl`), if it refuses it.
fn filtered_call(test: &TestDef, text: &str) -> Option<String> {
    if test.privileged {
        return None;
    }
    syscall_filter::TABLE
        .iter()
        // Obsolete calls have names that are common words (`sysfs`): nothing calls them.
        .filter(|entry| !entry.obsolete() && names_call(text, entry.name))
        .find_map(|entry| syscall_filter::describe(entry.name))
}

/// Whether `text` has `name` as a whole word (`keyctl`, not `keyctl_x`).
fn names_call(text: &str, name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The names of the capabilities a test without `kept` lacks.
fn dropped(kept: CapSet) -> Vec<&'static str> {
    (0..sys::NAMES.len() as u32)
        .filter(|&cap| !kept.contains(cap))
        .map(|cap| sys::NAMES[cap as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Net;

    fn test(privileged: bool, caps: &'static [&'static str]) -> TestDef {
        TestDef {
            privileged,
            caps,
            net: Net::Loopback,
            ..TestDef::for_tests("hint")
        }
    }

    #[test]
    fn only_for_refused_calls() {
        assert_eq!(
            withheld(&test(false, &[]), "assertion failed: 1 == 2"),
            None
        );
        let hint = withheld(&test(false, &[]), "Operation not permitted (os error 1)").unwrap();
        assert!(
            hint.starts_with("note: the sandbox may have refused this: "),
            "{hint}"
        );
        assert!(
            hint.contains("SYS_MODULE") && hint.contains("privileged = true"),
            "{hint}"
        );
        assert!(!hint.contains("SYS_ADMIN,"), "SYS_ADMIN is kept: {hint}");
    }

    #[test]
    fn names_the_filtered_call_and_what_privileged_changes() {
        let hint = withheld(&test(false, &[]), "keyctl: EPERM").unwrap();
        assert!(hint.contains("seccomp blocks keyctl"), "{hint}");
        assert!(!withheld(&test(false, &[]), "keyctl_x: EPERM")
            .unwrap()
            .contains("seccomp"));
        assert_eq!(
            withheld(&test(true, &["+SYS_TIME"]), "EPERM"),
            None,
            "a privileged test holds all"
        );
        let privileged = withheld(&test(true, &["-SYS_TIME"]), "EPERM").unwrap();
        assert!(!privileged.contains("seccomp") && !privileged.contains("own user namespace"));
        assert!(
            privileged.contains("without SYS_TIME (`caps` drops them)"),
            "{privileged}"
        );
        let mount = withheld(&test(false, &[]), "mount(sysfs)(/sys) => EPERM").unwrap();
        assert!(!mount.contains("seccomp"), "{mount}");
    }
}
