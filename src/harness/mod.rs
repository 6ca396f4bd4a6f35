//! A small libtest-compatible test harness: libtest's command line, output and exit codes, for
//! trials whose runner reports what they printed. `cargo test` and `cargo nextest` drive it like
//! a `#[test]` binary; the README's "Runner" section lists what is supported.

mod args;
mod format;
mod human;
mod json;
mod list;
mod run;
mod select;
mod trial;
mod usage;

pub(crate) use run::run;
pub(crate) use trial::{Outcome, Trial};
pub(crate) use usage::arguments_or_exit;
