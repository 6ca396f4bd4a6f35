//! What a kept environment holds — its processes, addresses, mounts and the files it changed
//! in its root — told by its PID 1, from inside it, for the failure message and the record.

use std::fmt::Write;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Entries of one list shown before "… and N more".
const SHOWN: usize = 20;

/// What PID 1 takes before the body starts, while the paths are still ours (the test may
/// mount over `/proc` or `/run` later), and what the harness made, to tell the test's own apart.
#[derive(Debug)]
pub(crate) struct Snapshot {
    proc: Option<OwnedFd>,
    /// The root's writable layer (see `sandbox::LAYERS`); `None` for a read-only root.
    upper: Option<OwnedFd>,
    /// The mounts the harness made.
    harness_mounts: Vec<String>,
    /// What the harness wrote in the writable layer (mount points of its own).
    harness_changes: Vec<String>,
}

impl Snapshot {
    /// Opens `/proc` and, if the root has one, its writable layer at `upper`.
    pub(crate) fn prepare(upper: Option<&Path>) -> Snapshot {
        let open = |path: &Path| File::open(path).ok().map(OwnedFd::from);
        let mut snapshot = Snapshot {
            proc: open(Path::new("/proc")),
            upper: upper.and_then(open),
            harness_mounts: Vec::new(),
            harness_changes: Vec::new(),
        };
        snapshot.harness_mounts = snapshot
            .proc
            .as_ref()
            .map_or_else(Vec::new, |p| mounts(&fd_path(p)));
        snapshot.harness_changes = snapshot
            .upper
            .as_ref()
            .map_or_else(Vec::new, |u| changes(&fd_path(u)));
        snapshot
    }

    /// The description, a few indented lines: what the test made, not the harness.
    pub(crate) fn describe(&self) -> String {
        let mut text = String::new();
        if let Some(proc) = &self.proc {
            let proc = fd_path(proc);
            let _ = writeln!(text, "  processes:{}", list(&processes(&proc), "\n    "));
            let made = new_since(mounts(&proc), &self.harness_mounts);
            let _ = writeln!(
                text,
                "  mounts it made (besides the harness's {}):{}",
                self.harness_mounts.len(),
                list(&made, "\n    ")
            );
        }
        let _ = writeln!(text, "  addresses: {}", addresses());
        let changed = match &self.upper {
            Some(upper) => {
                let changed = new_since(changes(&fd_path(upper)), &self.harness_changes);
                list(&changed, "\n    ")
            }
            None => " none: the root is read-only".to_string(),
        };
        let _ = write!(text, "  files it changed in its root:{changed}");
        text
    }
}

/// What is in `now` and was not in `before`.
fn new_since(now: Vec<String>, before: &[String]) -> Vec<String> {
    now.into_iter()
        .filter(|item| !before.contains(item))
        .collect()
}

/// The path that reaches what `fd` is open on, from this process.
fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// `items`, each after `separator`, the first [`SHOWN`] of them.
fn list(items: &[String], separator: &str) -> String {
    if items.is_empty() {
        return " none".to_string();
    }
    let mut text: String = items
        .iter()
        .take(SHOWN)
        .map(|item| format!("{separator}{item}"))
        .collect();
    if items.len() > SHOWN {
        let _ = write!(text, "{separator}… and {} more", items.len() - SHOWN);
    }
    text
}

/// `PID  command line` of every process, PID 1 named as ours.
fn processes(proc: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(proc) else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.iter()
        .map(|pid| {
            let command = match pid {
                1 => "(isolated's init)".to_string(),
                _ => command(&proc.join(pid.to_string())),
            };
            format!("{pid:>5}  {command}")
        })
        .collect()
}

fn command(process: &Path) -> String {
    let line = std::fs::read(process.join("cmdline")).unwrap_or_default();
    let words: Vec<String> = line
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    match words.is_empty() {
        true => std::fs::read_to_string(process.join("comm"))
            .map(|c| format!("[{}]", c.trim()))
            .unwrap_or_default(),
        false => words.join(" "),
    }
}

/// `MOUNT POINT  TYPE` of every mount PID 1 sees: the test's mount namespace.
fn mounts(proc: &Path) -> Vec<String> {
    let info = std::fs::read_to_string(proc.join("self/mountinfo")).unwrap_or_default();
    info.lines()
        .filter_map(|line| {
            let (before, after) = line.split_once(" - ")?;
            let point = before.split(' ').nth(4)?;
            let fstype = after.split(' ').next()?;
            Some(format!(
                "{}  {fstype}",
                crate::sys::unescape_mountinfo(point)
            ))
        })
        .collect()
}

/// `lo 127.0.0.1/8 ::1/128; eth0 …`: every interface with its addresses.
fn addresses() -> String {
    let each: Vec<String> = crate::sys::interface_addresses()
        .into_iter()
        .map(|(name, ips)| match ips.is_empty() {
            true => name,
            false => format!("{name} {}", ips.join(" ")),
        })
        .collect();
    match each.is_empty() {
        true => "none".to_string(),
        false => each.join("; "),
    }
}

/// The paths the test wrote (made, changed or deleted), from the root's writable layer.
fn changes(upper: &Path) -> Vec<String> {
    let mut found = Vec::new();
    walk(upper, Path::new("/"), &mut found);
    found
}

fn walk(dir: &Path, inside: &Path, found: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = inside.join(entry.file_name());
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            let before = found.len();
            walk(&entry.path(), &path, found);
            if found.len() == before {
                // A directory made (or only touched) and left empty.
                found.push(format!("{}/", path.display()));
            }
        } else if kind.is_char_device() && whiteout(&entry.path()) {
            found.push(format!("{} (deleted)", path.display()));
        } else {
            found.push(path.display().to_string());
        }
    }
}

/// overlayfs marks a deleted file with a character device 0:0 in the writable layer.
fn whiteout(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.rdev() == 0)
}
