//! `async fn` tests: the runtime that runs the test's future to its end, in the test's own
//! environment (the body process, PID 2), chosen with `runtime = ...`.
//!
//! - none, on an `async fn`: tokio's current-thread runtime, with `isolated`'s `tokio` feature
//!   (this crate's `tokio` feature is turned on with it);
//! - `"tokio"`, `"tokio-multi"`: tokio's current-thread or multi-thread runtime;
//! - a path: any function that takes the future and returns its output, such as
//!   `futures::executor::block_on` or `smol::block_on`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Signature;

use crate::attr::Runtime;
use crate::errors::Errors;

/// What isolated's `tokio` feature turns on, for the messages.
const FEATURE: &str = "isolated = { version = \"0.1\", features = [\"tokio\"] }";

/// The expression that calls the test function and gives its value (awaited on its runtime,
/// for an `async fn`).
pub(crate) fn call(sig: &Signature, runtime: Option<&Runtime>, errors: &mut Errors) -> TokenStream {
    let ident = &sig.ident;
    let Some(asyncness) = &sig.asyncness else {
        if runtime.is_some() {
            errors.at(
                sig.fn_token,
                "`runtime` is for `async fn` tests, and this one is not async: drop the key, or \
                 make the test an `async fn`",
            );
        }
        return quote!(#ident());
    };
    let tokio = |builder: &str, span: proc_macro2::Span, errors: &mut Errors| {
        if !cfg!(feature = "tokio") {
            let message = format!(
                "async #[isolated] tests run on tokio with isolated's `tokio` feature: \
                 `{FEATURE}` in Cargo.toml; or name another runtime's block_on with \
                 `runtime = path::to::block_on`"
            );
            errors.push(syn::Error::new(span, message));
        }
        let builder = syn::Ident::new(builder, span);
        quote_spanned!(span=> ::isolated::__private::#builder(#ident()))
    };
    match runtime {
        None => tokio("tokio_current_thread", asyncness.span(), errors),
        Some(Runtime::Tokio) => tokio("tokio_current_thread", sig.ident.span(), errors),
        Some(Runtime::TokioMulti) => tokio("tokio_multi_thread", sig.ident.span(), errors),
        Some(Runtime::BlockOn(path)) => quote!(#path(#ident())),
        Some(Runtime::Invalid) => quote!(#ident()),
    }
}
