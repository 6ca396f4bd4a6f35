//! A trial: one test as the harness sees it, a name and a runner that says how it went.

/// How a trial's run went, with everything it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It passed; `output` is shown with `--show-output`.
    Passed {
        /// What the test printed (empty when it was not captured).
        output: String,
    },
    /// It failed: `output` and then `reason` are shown in the failures section.
    Failed {
        /// What the test printed (empty when it was not captured).
        output: String,
        /// Why it failed, one or more lines (`timed out after 1s`).
        reason: String,
    },
}

/// One test: its name, whether it is ignored, and the runner that runs it.
pub struct Trial {
    pub(super) name: String,
    /// `Some(reason)`: `#[ignore]` (`reason` from `#[ignore = "..."]`).
    pub(super) ignored: Option<Option<String>>,
    pub(super) should_panic: bool,
    pub(super) runner: Box<dyn FnOnce() -> Outcome + Send>,
}

impl Trial {
    /// A test named `name` (as `--list` prints it and filters match it), run by `runner`.
    pub fn test(
        name: impl Into<String>,
        runner: impl FnOnce() -> Outcome + Send + 'static,
    ) -> Self {
        Trial {
            name: name.into(),
            ignored: None,
            should_panic: false,
            runner: Box::new(runner),
        }
    }

    /// Marks the test `#[ignore]`d, with `#[ignore = "reason"]`'s reason if there is one.
    pub fn ignored(mut self, reason: Option<&str>) -> Self {
        self.ignored = Some(reason.map(str::to_string));
        self
    }

    /// Marks the test `#[should_panic]` (for `--exclude-should-panic`).
    pub fn should_panic(mut self, should_panic: bool) -> Self {
        self.should_panic = should_panic;
        self
    }

    /// The name, as listed and matched.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `#[ignore = "reason"]`'s reason.
    pub(super) fn ignore_message(&self) -> Option<&str> {
        self.ignored.as_ref().and_then(|r| r.as_deref())
    }
}
