//! What is on disk about a kept environment: a directory per environment, named by its id
//! (PID 1's pid on the host), under `/run/isolated/kept/` (rootless: the user's runtime
//! directory), holding `info` (one `key=value` per line), `environ` (the test's environment,
//! NUL-separated), `snapshot` (what it held when kept) and `output` (what it printed).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One kept environment, as its record says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    /// PID 1's pid on the host: the environment's id.
    pub pid: i32,
    /// PID 1's start time (`/proc/PID/stat`'s 22nd field): tells a reused pid apart.
    pub start: u64,
    /// The test's full name.
    pub test: String,
    /// The test binary.
    pub binary: PathBuf,
    /// The runner that kept it.
    pub runner: i32,
    /// When it ends by itself (seconds since the epoch); `None`: with the runner.
    pub until: Option<u64>,
    /// Where the test ran.
    pub cwd: PathBuf,
    /// Whether the test was `privileged`: no user namespace of its own.
    pub privileged: bool,
    /// The test's cgroup directories (those that hold its limits), one per hierarchy.
    pub cgroups: Vec<PathBuf>,
    /// The test's environment variables, `KEY=value`.
    pub environ: Vec<String>,
}

impl Record {
    /// The environment's id, as `isolated enter` takes it.
    pub(crate) fn id(&self) -> String {
        self.pid.to_string()
    }

    /// Whether the environment is still there: its PID 1 alive, and the same process.
    pub(crate) fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }

    /// Whether it has outlived its `ISOLATED_KEEP_FOR`, or the runner it ended with.
    pub(crate) fn expired(&self) -> bool {
        match self.until {
            Some(until) => now() >= until,
            None => start_time(self.runner).is_none(),
        }
    }

    /// The directory the record is in, below `root`.
    pub(crate) fn dir(&self, root: &Path) -> PathBuf {
        root.join(self.id())
    }

    /// Where the environment's output goes, once kept.
    pub(crate) fn output(&self, root: &Path) -> PathBuf {
        self.dir(root).join("output")
    }

    fn encode_info(&self) -> String {
        let cgroups: Vec<String> = self
            .cgroups
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        [
            ("pid", self.pid.to_string()),
            ("start", self.start.to_string()),
            ("test", self.test.clone()),
            ("binary", self.binary.to_string_lossy().into_owned()),
            ("runner", self.runner.to_string()),
            ("until", self.until.map_or(String::new(), |u| u.to_string())),
            ("cwd", self.cwd.to_string_lossy().into_owned()),
            ("privileged", u8::from(self.privileged).to_string()),
            ("cgroups", cgroups.join(":")),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}\n", v.replace('\n', " ")))
        .collect()
    }

    fn decode(info: &str, environ: &[u8]) -> Option<Record> {
        let field = |key: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Record {
            pid: field("pid")?.parse().ok()?,
            start: field("start")?.parse().ok()?,
            test: field("test")?.to_string(),
            binary: field("binary")?.into(),
            runner: field("runner")?.parse().ok()?,
            until: field("until").and_then(|u| u.parse().ok()),
            cwd: field("cwd")?.into(),
            privileged: field("privileged") == Some("1"),
            cgroups: field("cgroups")?
                .split(':')
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect(),
            environ: environ
                .split(|&b| b == 0)
                .filter(|v| !v.is_empty())
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect(),
        })
    }
}

/// The records of this user's kept environments.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    root: PathBuf,
}

impl Records {
    /// Where this user's records are: `/run/isolated/kept` for root, else
    /// `$XDG_RUNTIME_DIR/isolated/kept`, else `/tmp/isolated-UID/kept`.
    pub(crate) fn here() -> Records {
        let uid = crate::sys::geteuid();
        let root = match (uid, std::env::var_os("XDG_RUNTIME_DIR")) {
            (0, _) => PathBuf::from("/run/isolated/kept"),
            (_, Some(dir)) if !dir.is_empty() => PathBuf::from(dir).join("isolated/kept"),
            _ => PathBuf::from(format!("/tmp/isolated-{uid}/kept")),
        };
        Records { root }
    }

    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `record`, with its `snapshot`; the directory is the user's alone.
    pub(crate) fn write(&self, record: &Record, snapshot: &str) -> std::io::Result<PathBuf> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.root)?;
        let dir = record.dir(&self.root);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        std::fs::write(dir.join("environ"), record.environ.join("\0"))?;
        std::fs::write(dir.join("snapshot"), snapshot)?;
        // Last: a record without `info` is not read (one being written, or half-removed).
        std::fs::write(dir.join("info"), record.encode_info())?;
        Ok(dir)
    }

    /// Every record, in id order; unreadable ones are skipped.
    pub(crate) fn all(&self) -> Vec<Record> {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut records: Vec<Record> = entries
            .flatten()
            .filter_map(|e| self.read(&e.path()))
            .collect();
        records.sort_by_key(|r| r.pid);
        records
    }

    fn read(&self, dir: &Path) -> Option<Record> {
        let info = std::fs::read_to_string(dir.join("info")).ok()?;
        let environ = std::fs::read(dir.join("environ")).unwrap_or_default();
        Record::decode(&info, &environ)
    }

    /// The snapshot taken when `record` was kept.
    pub(crate) fn snapshot(&self, record: &Record) -> String {
        std::fs::read_to_string(record.dir(&self.root).join("snapshot")).unwrap_or_default()
    }

    /// The record `what` names: an id, a test's full name, or a part of one that names a
    /// single kept environment. The error lists what there is.
    pub(crate) fn find(&self, what: &str) -> Result<Record, String> {
        let all: Vec<Record> = self.all().into_iter().filter(Record::alive).collect();
        if let Some(record) = all.iter().find(|r| r.id() == what || r.test == what) {
            return Ok(record.clone());
        }
        let matching: Vec<&Record> = all.iter().filter(|r| r.test.contains(what)).collect();
        match matching.as_slice() {
            [one] => Ok((*one).clone()),
            [] if all.is_empty() => Err(format!(
                "no kept environment named `{what}`: none is kept (run the tests with \
                 ISOLATED_KEEP=failed to keep a failed test's)"
            )),
            [] => Err(format!(
                "no kept environment named `{what}`; kept: {}",
                describe(&all.iter().collect::<Vec<_>>())
            )),
            many => Err(format!(
                "`{what}` names {} kept environments: {}; give its id",
                many.len(),
                describe(many)
            )),
        }
    }

    /// Removes `record`'s directory, and the records' own when it was the last: nothing of
    /// ours stays on the host.
    pub(crate) fn remove(&self, record: &Record) {
        let _ = std::fs::remove_dir_all(record.dir(&self.root));
        if std::fs::remove_dir(&self.root).is_ok() {
            // `/run/isolated`, `…/isolated`: ours too, if nothing else of ours is in it.
            if let Some(parent) = self.root.parent() {
                let _ = std::fs::remove_dir(parent);
            }
        }
    }
}

fn describe(records: &[&Record]) -> String {
    let each: Vec<String> = records
        .iter()
        .map(|r| format!("{} ({})", r.id(), r.test))
        .collect();
    each.join(", ")
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// The start time of process `pid` (`/proc/PID/stat`'s 22nd field), if it exists and is not
/// a zombie.
pub(crate) fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (the state).
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(22 - 3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record {
        Record {
            pid: 4242,
            start: 99,
            test: "net::serves".into(),
            binary: "/t/deps/system-1".into(),
            runner: 1,
            until: Some(123),
            cwd: "/src/app".into(),
            privileged: false,
            cgroups: vec!["/sys/fs/cgroup/isolated/1-2".into()],
            environ: vec!["PATH=/bin".into(), "MULTI=a\nb".into()],
        }
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let records = Records {
            root: dir.path().join("kept"),
        };
        let kept = record();
        records.write(&kept, "snapshot text").unwrap();
        assert_eq!(records.all(), vec![kept.clone()]);
        assert_eq!(records.snapshot(&kept), "snapshot text");
        records.remove(&kept);
        assert!(records.all().is_empty());
    }

    #[test]
    fn this_process_is_alive_and_a_dead_pid_is_not() {
        let me = std::process::id() as i32;
        let start = start_time(me).unwrap();
        let alive = Record {
            pid: me,
            start,
            ..record()
        };
        assert!(alive.alive());
        assert!(!Record {
            start: start + 1,
            ..alive.clone()
        }
        .alive());
        assert!(!Record {
            pid: i32::MAX,
            ..alive
        }
        .alive());
    }
}
