//! Which mode a run here takes, root or rootless, and, rootless, where its limits go: the
//! cgroup delegated to this user, or none (and how to get one).

use std::path::{Path, PathBuf};

use super::{Check, Status};
use crate::sys::cgroup::{Controller, Layout, Missing, Placement};

/// What rootless limits find here: the delegated groups with their controllers, and why the
/// others are not enforced.
#[derive(Debug, Default)]
pub(super) struct Delegation {
    pub places: Vec<(PathBuf, Vec<Controller>)>,
    pub refused: Vec<Missing>,
    /// Why no cgroup could be looked at at all (none mounted).
    pub unusable: Option<String>,
}

impl Delegation {
    /// Plans, without making anything, where a rootless run's tests' groups would go.
    pub(super) fn of_this_user() -> Delegation {
        match Layout::plan(Placement::Delegated) {
            Ok(layout) => Delegation {
                places: layout
                    .places()
                    .filter(|(_, controllers)| !controllers.is_empty())
                    .map(|(dir, controllers)| (dir.to_path_buf(), controllers.to_vec()))
                    .collect(),
                refused: layout
                    .missing()
                    .iter()
                    .filter(|m| m.delegation_fix().is_some())
                    .cloned()
                    .collect(),
                unusable: None,
            },
            Err(e) => Delegation {
                unusable: Some(e.to_string()),
                ..Delegation::default()
            },
        }
    }
}

const DISABLES: &str = "rootless limits: a test that sets `memory`, `pids` or `cpu` fails, the \
                        default limits are not enforced";

/// `root`: real root with CAP_SYS_ADMIN; `user_namespaces`: the rootless mode is allowed.
pub(super) fn mode(root: bool, user_namespaces: bool, delegation: &Delegation) -> Check {
    let check = |ok: bool, found: String, fix: &str| Check {
        name: "mode",
        status: if ok { Status::Ok } else { Status::Missing },
        found,
        disables: DISABLES,
        fix: if ok { String::new() } else { fix.to_string() },
        required: false,
    };
    if root {
        return check(
            true,
            "root: everything, the tests' cgroups in isolated/ at each hierarchy's root".into(),
            "",
        );
    }
    if !user_namespaces {
        return Check {
            disables: "every test",
            ..check(
                false,
                "neither root nor rootless (user namespaces are blocked)".into(),
                "see `root` and `user namespaces`",
            )
        };
    }
    let limited = match delegation.places.as_slice() {
        [] => None,
        [(dir, _)] => Some(format!("the delegated cgroup {}", dir.display())),
        places => Some(format!("the delegated cgroups {}", listed(places))),
    };
    let refused = delegation.refused.first();
    let why = match (refused, &delegation.unusable) {
        (Some(Missing::NotDelegated { why, .. }), _) => why.clone(),
        (_, Some(unusable)) => unusable.clone(),
        _ => String::new(),
    };
    let fix = refused
        .and_then(Missing::delegation_fix)
        .unwrap_or("see `cgroups`");
    match (limited, refused) {
        (Some(limited), None) => check(
            true,
            format!("rootless: no veth, limits through {limited}"),
            "",
        ),
        (Some(limited), Some(_)) => {
            let names: Vec<&str> = delegation
                .refused
                .iter()
                .map(|m| m.controller().name())
                .collect();
            let found = format!(
                "rootless: no veth, limits through {limited}; no {} limits ({why})",
                names.join(", ")
            );
            check(false, found, fix)
        }
        (None, Some(_)) => check(
            false,
            format!("rootless: no veth, no limits (no delegated cgroup: {why})"),
            fix,
        ),
        (None, None) => {
            let why = if why.is_empty() {
                "no cgroup controllers here".into()
            } else {
                why
            };
            check(false, format!("rootless: no veth, no limits ({why})"), fix)
        }
    }
}

/// `/a (memory), /b (pids, cpu)`.
fn listed(places: &[(PathBuf, Vec<Controller>)]) -> String {
    let one = |(dir, controllers): &(PathBuf, Vec<Controller>)| {
        let names: Vec<&str> = controllers.iter().map(|c| c.name()).collect();
        format!("{} ({})", Path::new(dir).display(), names.join(", "))
    };
    places.iter().map(one).collect::<Vec<_>>().join(", ")
}
