//! The `#[isolated]` attribute of the `isolated` test harness.
//!
//! This file is only the entry point; the work is split by stage:
//! `attr` parses and validates the keys, `signature` and `libtest_attrs` check the
//! function, and `expand` writes the registration. Errors are collected and reported together,
//! each at the token it is about, and the function is still emitted next to them so that
//! IDEs keep resolving it.
#![forbid(unsafe_code)]

mod attr;
mod duration;
mod errors;
mod expand;
mod keys;
mod libtest_attrs;
mod limits;
mod memory;
mod runtime;
mod signature;
mod validate;

use proc_macro::TokenStream;

/// Registers a function as a test that runs in its own container.
///
/// See the `isolated` crate for the keys and their defaults.
#[proc_macro_attribute]
pub fn isolated(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::isolated(args.into(), item.into()).into()
}
