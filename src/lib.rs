//! placeholder
mod registry;
pub use isolated_macros::isolated;

#[doc(hidden)]
pub mod __private {
    pub use crate::registry::{Ignore, IntoVerdict, ShouldPanic, TestDef};
    pub use inventory;
    pub fn main(_manifest_dir: &'static str) {}
}

#[macro_export]
macro_rules! main {
    () => {
        fn main() {
            $crate::__private::main(env!("CARGO_MANIFEST_DIR"))
        }
    };
}
