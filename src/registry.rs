//! The tests that `#[isolated]` registers, collected at startup.

/// What `#[should_panic]` below `#[isolated]` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShouldPanic {
    /// The test must not panic.
    No,
    /// The test must panic, with any message.
    Yes,
    /// The test must panic with a message containing this text.
    WithMessage(&'static str),
}

/// What `#[ignore]` below `#[isolated]` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignore {
    /// Run normally.
    No,
    /// `#[ignore]`: run only with `--ignored` or `--include-ignored`.
    Yes,
    /// `#[ignore = "reason"]`.
    WithReason(&'static str),
}

/// `net = "..."`: the network a test gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// Its own network namespace with only `lo`, up (the default).
    Loopback,
    /// Its own network namespace, with not even `lo` up.
    None,
    /// The host's network namespace: no network isolation at all.
    Host,
    /// Its own network namespace, plus a veth pair to the host with addresses of its own.
    Veth,
}

/// One resource limit of a test: the harness's default, none at all, or a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The harness's default for this resource (see the README).
    Default,
    /// `"none"`: no limit.
    Unlimited,
    /// At most this many (bytes, or processes).
    Max(u64),
}

/// `memory`, `pids` and `cpu`: what the test's cgroup allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `memory = "256M"`: bytes of memory (and no swap).
    pub memory: Limit,
    /// `pids = 64`: processes and threads at once.
    pub pids: Limit,
    /// `cpu = 0.5`: thousandths of a CPU; `None`, no limit.
    pub cpu_millis: Option<u32>,
}

impl Limits {
    /// What a test gets when it asks for nothing.
    pub const DEFAULT: Limits = Limits {
        memory: Limit::Default,
        pids: Limit::Default,
        cpu_millis: None,
    };
}

/// A host path and where it appears inside the test: a `copy`, `bins` or `bind` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mapping {
    /// A host path: absolute, or relative to the test crate's manifest directory.
    pub source: &'static str,
    /// An absolute path inside the test's root filesystem.
    pub target: &'static str,
    /// For a `bins` entry, the cargo binary's name: found again at run time where the tests
    /// run from an archive (`NEXTEST_BIN_EXE_<name>`).
    pub bin: Option<&'static str>,
}

/// One `#[isolated]` test, as the attribute wrote it down at compile time.
///
/// Built by the macro; not meant to be constructed by hand.
#[derive(Debug)]
pub struct TestDef {
    /// The function's name.
    pub name: &'static str,
    /// `module_path!()` where the function is defined (starts with the crate name).
    pub module_path: &'static str,
    /// Source file and line of the function, for messages.
    pub file: &'static str,
    /// Line of the function.
    pub line: u32,
    /// `rootfs = "..."`, default `"host"`.
    pub rootfs: &'static str,
    /// `hostname = "..."`, default `"isolated"`.
    pub hostname: &'static str,
    /// `timeout = "..."` in milliseconds, default 60 000.
    pub timeout_ms: u64,
    /// `env = ["K=V", ...]`, each already checked to contain `=` with a non-empty key.
    pub env: &'static [&'static str],
    /// `net = "..."`.
    pub net: Net,
    /// `copy` and `bins`: files put into the test's root filesystem.
    pub copies: &'static [Mapping],
    /// `bind`: host paths mounted read-only into the test.
    pub binds: &'static [Mapping],
    /// `memory`, `pids`, `cpu`.
    pub limits: Limits,
    /// `caps = ["+NAME", "-NAME"]`: changes to the test's default capability set.
    pub caps: &'static [&'static str],
    /// `privileged = true`: no user namespace and no syscall filter; the test acts on the
    /// host's kernel (see the README's threat model).
    pub privileged: bool,
    /// `devices = ["/dev/net/tun"]`: host device nodes bound into the test's `/dev`.
    pub devices: &'static [&'static str],
    /// The test crate's manifest directory: relative `copy` and `bind` sources start there.
    pub manifest_dir: &'static str,
    /// `crate_dir = false` turns off the crate's directory, read-only at its own path.
    pub crate_dir: bool,
    /// `keep = true`: a failure leaves the test's environment running, to be entered.
    pub keep: bool,
    /// `#[should_panic]`.
    pub should_panic: ShouldPanic,
    /// `#[ignore]`.
    pub ignore: Ignore,
    /// The test body, wrapped so that `()` and `Result<(), E>` both become a `Result`.
    pub body: fn() -> Result<(), String>,
}

impl TestDef {
    /// The name libtest would print: the module path without the crate name, plus the function.
    pub fn full_name(&self) -> String {
        match self.path_in_crate() {
            Some(path) => format!("{path}::{}", self.name),
            None => self.name.to_string(),
        }
    }

    /// Whether [`full_name`](Self::full_name) is `full_name`.
    pub(crate) fn is_named(&self, full_name: &str) -> bool {
        match (self.path_in_crate(), full_name.rsplit_once("::")) {
            (Some(path), Some((full_path, name))) => path == full_path && name == self.name,
            (None, None) => full_name == self.name,
            _ => false,
        }
    }

    fn path_in_crate(&self) -> Option<&'static str> {
        self.module_path.split_once("::").map(|(_crate, path)| path)
    }
}

#[cfg(test)]
impl TestDef {
    /// A test of the crate `tests` with every key at its default, for unit tests.
    pub(crate) fn for_tests(name: &'static str) -> TestDef {
        TestDef {
            name,
            module_path: "tests",
            file: "",
            line: 0,
            rootfs: "host",
            hostname: "isolated",
            timeout_ms: 1,
            env: &[],
            net: Net::Loopback,
            copies: &[],
            binds: &[],
            limits: Limits::DEFAULT,
            caps: &[],
            privileged: false,
            devices: &[],
            manifest_dir: "/",
            crate_dir: true,
            keep: false,
            should_panic: ShouldPanic::No,
            ignore: Ignore::No,
            body: || Ok(()),
        }
    }
}

inventory::collect!(TestDef);

/// Every registered test, sorted by full name (libtest's order).
pub(crate) fn all() -> Vec<&'static TestDef> {
    let mut tests: Vec<&'static TestDef> = inventory::iter::<TestDef>.into_iter().collect();
    tests.sort_by_key(|t| t.full_name());
    tests
}

/// The test with this full name, if registered. Allocates nothing: every test's PID 1 runs it.
pub(crate) fn find(full_name: &str) -> Option<&'static TestDef> {
    inventory::iter::<TestDef>
        .into_iter()
        .find(|t| t.is_named(full_name))
}

/// Where `test` is in the registry's own order, the same in every process of this binary: a
/// test's PID 1 finds it again with [`find_at`], without comparing every name.
pub(crate) fn position(test: &TestDef) -> Option<usize> {
    inventory::iter::<TestDef>
        .into_iter()
        .position(|t| std::ptr::eq(t, test))
}

/// The test at `position` if it has this full name; else found by name.
pub(crate) fn find_at(position: usize, full_name: &str) -> Option<&'static TestDef> {
    inventory::iter::<TestDef>
        .into_iter()
        .nth(position)
        .filter(|t| t.is_named(full_name))
        .or_else(|| find(full_name))
}

/// Turns a test function's return value into the body's verdict, like libtest's `Termination`.
pub trait IntoVerdict {
    /// `Ok(())` for success; `Err(text)` for a failure to report.
    fn into_verdict(self) -> Result<(), String>;
}

impl IntoVerdict for () {
    fn into_verdict(self) -> Result<(), String> {
        Ok(())
    }
}

impl<E: std::fmt::Debug> IntoVerdict for Result<(), E> {
    fn into_verdict(self) -> Result<(), String> {
        self.map_err(|e| format!("Error: {e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(module_path: &'static str, name: &'static str) -> TestDef {
        TestDef {
            module_path,
            ..TestDef::for_tests(name)
        }
    }

    #[test]
    fn names_are_libtests_and_match_without_allocating() {
        let top = def("mycrate", "works");
        let nested = def("mycrate::a::b", "works");
        assert_eq!(top.full_name(), "works");
        assert_eq!(nested.full_name(), "a::b::works");
        for t in [&top, &nested] {
            assert!(t.is_named(&t.full_name()));
        }
        assert!(!top.is_named("a::b::works"));
        assert!(!nested.is_named("works"));
        assert!(!nested.is_named("a::works"));
        assert!(!nested.is_named("a::b::work"));
    }
}
