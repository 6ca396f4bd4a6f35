//! Run every integration test in its own freshly made Linux container.
//!
//! See the README for the user guide.

mod child;
mod doctor;
pub(crate) mod fixtures;
mod harness;
pub mod net;
mod plan;
mod registry;
mod report;
mod runner;
mod sandbox;
mod sys;

pub use doctor::{doctor, Check, Report, Status};
pub use isolated_macros::isolated;

/// Support for the code `#[isolated]` and `main!()` generate. Not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::child::run_if_child;
    pub use crate::registry::{
        Ignore, IntoVerdict, Limit, Limits, Mapping, Net, ShouldPanic, TestDef,
    };
    pub use crate::runner::main;
    pub use inventory;
}

/// The test binary's `main`: runs the `#[isolated]` tests with libtest's command line.
///
/// Use it once, at the top level of a test target that has `harness = false`.
#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::__private::main(env!("CARGO_MANIFEST_DIR"))
        }
    };
}
