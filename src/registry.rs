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
        match self.module_path.split_once("::") {
            Some((_crate, path)) => format!("{path}::{}", self.name),
            None => self.name.to_string(),
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

/// The test with this full name, if registered.
pub(crate) fn find(full_name: &str) -> Option<&'static TestDef> {
    inventory::iter::<TestDef>
        .into_iter()
        .find(|t| t.full_name() == full_name)
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
