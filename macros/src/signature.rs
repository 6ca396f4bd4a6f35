//! The function's signature: a plain `fn NAME() -> R` (or `async fn`, see `runtime.rs`) that
//! the runner can call.

use syn::Signature;

use crate::errors::Errors;

/// Rejects what the runner cannot call, each at its own token.
pub(crate) fn check(sig: &Signature, errors: &mut Errors) {
    if let Some(token) = &sig.constness {
        errors.at(token, "#[isolated] test functions cannot be `const fn`");
    }
    if let Some(token) = &sig.unsafety {
        errors.at(token, "#[isolated] test functions cannot be `unsafe fn`");
    }
    if let Some(abi) = &sig.abi {
        errors.at(abi, "#[isolated] test functions cannot be `extern`");
    }
    if !sig.generics.params.is_empty() {
        errors.at(
            &sig.generics,
            "#[isolated] test functions cannot be generic",
        );
    }
    if let Some(clause) = &sig.generics.where_clause {
        errors.at(
            clause,
            "#[isolated] test functions cannot have a where clause",
        );
    }
    let no_params = "#[isolated] test functions take no parameters";
    if let Some(receiver) = sig.receiver() {
        errors.at(
            receiver,
            "#[isolated] needs a free function, not a method: a test takes no `self`; write \
             the test as a `fn` outside the `impl` block (it may call the method)",
        );
    } else if !sig.inputs.is_empty() {
        errors.at(&sig.inputs, no_params);
    } else if let Some(variadic) = &sig.variadic {
        errors.at(variadic, no_params);
    }
}
