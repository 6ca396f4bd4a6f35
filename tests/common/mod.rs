//! Shared by the tests that run the sample suites in `examples/`.
// Each test binary includes this module and uses some of it.
#![allow(dead_code)]

use std::path::PathBuf;

/// A sample suite built by cargo next to the running test binary
/// (`target/<profile>/examples/NAME`), checked to be newer than its source.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        path.exists() && modified(&path) >= modified(&source),
        "{} is missing or older than its source: the whole `cargo test` builds examples/; \
         with `--test` or nextest, run `cargo build --examples` first",
        path.display()
    );
    path
}

/// `ISOLATED_FIXTURES_PATH` with its relative entries made absolute against this test's
/// directory, for a suite run from elsewhere (a copy in a temporary directory).
pub fn fixtures_path() -> std::ffi::OsString {
    let value = std::env::var_os("ISOLATED_FIXTURES_PATH").unwrap_or_default();
    let cwd = std::env::current_dir().unwrap();
    std::env::join_paths(
        std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| cwd.join(p)),
    )
    .unwrap()
}

/// The failure section libtest prints for `test`: everything after `---- test stdout ----` up
/// to the next section.
pub fn failure<'a>(stdout: &'a str, test: &str) -> &'a str {
    let header = format!("---- {test} stdout ----\n");
    let start = stdout
        .find(&header)
        .unwrap_or_else(|| panic!("no failure for {test}:\n{stdout}"));
    let rest = &stdout[start + header.len()..];
    let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The line libtest prints for `test` (`test NAME ... ok`).
pub fn line_for<'a>(stdout: &'a str, test: &str) -> &'a str {
    let prefix = format!("test {test} ");
    stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no result line for {test}:\n{stdout}"))
}

/// The host's mount table as a run could change it: each mount point with its options and its
/// filesystem (ids, which the kernel may renumber, left out). A remount shows up here.
pub fn host_mounts() -> Vec<String> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .map(|l| {
            let fields: Vec<&str> = l.split(' ').collect();
            let fs = l.split(" - ").nth(1).unwrap_or("");
            format!("{} {} {fs}", fields[4], fields[5])
        })
        .collect()
}

/// A pseudo-terminal: (master, slave), 24 rows of 80 columns.
pub fn openpty() -> (std::os::fd::OwnedFd, std::os::fd::OwnedFd) {
    use std::os::fd::FromRawFd;
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the integers; the other pointers are null
    // or a winsize it only reads.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: openpty returned two new descriptors nothing else owns.
    unsafe {
        (
            std::os::fd::OwnedFd::from_raw_fd(master),
            std::os::fd::OwnedFd::from_raw_fd(slave),
        )
    }
}

/// What a program on a pseudo-terminal shows, read as it comes, and the keys typed at it.
pub struct Screen {
    seen: std::sync::Arc<std::sync::Mutex<String>>,
    keys: std::fs::File,
}

impl Screen {
    /// Reads `master` from now on.
    pub fn read(master: &std::os::fd::OwnedFd) -> Screen {
        use std::io::Read;
        let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let mut from = std::fs::File::from(master.try_clone().unwrap());
        let into = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = from.read(&mut buf) {
                if n == 0 {
                    break;
                }
                into.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Screen {
            seen,
            keys: std::fs::File::from(master.try_clone().unwrap()),
        }
    }

    /// Waits (30 s at most) until `text` has been shown.
    pub fn wait_for(&self, text: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !self.seen.lock().unwrap().contains(text) {
            assert!(
                std::time::Instant::now() < deadline,
                "no {text:?} on the screen:\n{}",
                self.text()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Types `keys`.
    pub fn type_in(&self, keys: &[u8]) {
        use std::io::Write;
        (&self.keys).write_all(keys).unwrap();
    }

    /// Everything shown so far.
    pub fn text(&self) -> String {
        self.seen.lock().unwrap().clone()
    }
}

/// Starts `command` with a pseudo-terminal as its stdin, stdout and stderr, as from a
/// person's terminal; what it shows, and the keys to type at it.
pub fn on_a_terminal(command: &mut std::process::Command) -> (std::process::Child, Screen) {
    let (master, terminal) = openpty();
    let end = |fd: &std::os::fd::OwnedFd| std::process::Stdio::from(fd.try_clone().unwrap());
    let child = command
        .stdin(end(&terminal))
        .stdout(end(&terminal))
        .stderr(end(&terminal))
        .spawn()
        .unwrap();
    (child, Screen::read(&master))
}
