use std::fmt;
use std::path::PathBuf;

pub(crate) use nix::errno::Errno;

/// A failed system call: which call, on which path, and the errno it returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SysError {
    pub op: &'static str,
    pub path: Option<PathBuf>,
    pub errno: Errno,
}

pub(crate) type SysResult<T> = Result<T, SysError>;

impl SysError {
    pub(crate) fn new(op: &'static str, errno: Errno) -> Self {
        SysError {
            op,
            path: None,
            errno,
        }
    }

    pub(crate) fn at(op: &'static str, path: impl Into<PathBuf>, errno: Errno) -> Self {
        SysError {
            op,
            path: Some(path.into()),
            errno,
        }
    }
}

impl fmt::Display for SysError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}({})", self.op, path.display())?,
            None => write!(f, "{}", self.op)?,
        }
        write!(f, " => {}", self.errno)
    }
}

impl std::error::Error for SysError {}

/// Adds the operation and path to a `nix` result.
pub(crate) trait Context<T> {
    fn op(self, op: &'static str) -> SysResult<T>;
    fn op_at(self, op: &'static str, path: impl Into<PathBuf>) -> SysResult<T>;
}

impl<T> Context<T> for nix::Result<T> {
    fn op(self, op: &'static str) -> SysResult<T> {
        self.map_err(|errno| SysError::new(op, errno))
    }

    fn op_at(self, op: &'static str, path: impl Into<PathBuf>) -> SysResult<T> {
        self.map_err(|errno| SysError::at(op, path, errno))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_call_path_and_errno() {
        let e = SysError::at("pivot_root", "/newroot", Errno::EINVAL);
        assert_eq!(
            e.to_string(),
            "pivot_root(/newroot) => EINVAL: Invalid argument"
        );
    }
}
