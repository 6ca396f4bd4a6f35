use crate::sys::SysError;

/// A step of building the sandbox failed.
#[derive(Debug, thiserror::Error)]
#[error("failed to {step}")]
pub(crate) struct SetupError {
    pub step: &'static str,
    #[source]
    pub source: SysError,
}

/// Names the step a syscall failure happened in.
pub(crate) trait Step<T> {
    fn step(self, step: &'static str) -> Result<T, SetupError>;
}

impl<T> Step<T> for Result<T, SysError> {
    fn step(self, step: &'static str) -> Result<T, SetupError> {
        self.map_err(|source| SetupError { step, source })
    }
}
