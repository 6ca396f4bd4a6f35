//! Writes the registration: the function itself, plus a `TestDef` submitted to `inventory`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::{Item, ItemFn};

use crate::attr::{self, Config};
use crate::errors::Errors;
use crate::libtest_attrs::{self, Ignore, Markers, ShouldPanic};
use crate::{runtime, signature};

/// The whole expansion of `#[isolated(args)] item`.
///
/// On errors the function is still emitted (without the libtest attributes) next to them,
/// so that a typo in the attribute does not turn every use of the function red.
pub(crate) fn isolated(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func = match syn::parse2::<ItemFn>(item.clone()) {
        Ok(func) => func,
        Err(_) => return not_a_function(item),
    };
    let mut errors = Errors::default();
    let config = attr::parse(args, &mut errors);
    let markers = libtest_attrs::take(&mut func.attrs, &mut errors);
    signature::check(&func.sig, &mut errors);
    let call = runtime::call(&func.sig, config.runtime.as_ref(), &mut errors);
    match errors.finish() {
        Ok(()) => registration(&func, &config, &markers, call),
        Err(all) => {
            let errors = all.to_compile_error();
            quote! { #errors #func }
        }
    }
}

/// The error for `#[isolated]` on a struct, a module or anything else that is not a `fn`.
fn not_a_function(item: TokenStream) -> TokenStream {
    let message = match syn::parse2::<Item>(item.clone()) {
        Ok(_) => "#[isolated] only applies to functions, like `#[isolated] fn my_test() {}`",
        // Let rustc report the syntax error itself, when it parses the item we hand back.
        Err(_) => return item,
    };
    let error = syn::Error::new(Span::call_site(), message).to_compile_error();
    quote! { #error #item }
}

/// The function followed by its `TestDef`; `call` runs the function and gives its value.
fn registration(
    func: &ItemFn,
    config: &Config,
    markers: &Markers,
    call: TokenStream,
) -> TokenStream {
    let ident = &func.sig.ident;
    let name = ident.unraw().to_string();
    // `line!()` spanned at the name reports the line of the `fn`, not of the attribute.
    let line = quote_spanned!(ident.span()=> ::core::line!());
    let Config {
        rootfs,
        hostname,
        timeout_ms,
        env,
        net,
        copy,
        bins,
        bind,
        memory,
        pids,
        cpu_millis,
        caps,
        privileged,
        devices,
        crate_dir,
        keep,
        runtime: _,
    } = config;
    let memory = limit(memory);
    let pids = limit(pids);
    let cpu_millis = match cpu_millis {
        Some(millis) => quote!(::core::option::Option::Some(#millis)),
        None => quote!(::core::option::Option::None),
    };
    let copies = copy
        .iter()
        .map(|(source, target)| mapping(quote!(#source), target, None));
    // A cargo-built binary: its path comes from cargo, at compile time.
    let bins = bins.iter().map(|(name, target)| {
        let var = format!("CARGO_BIN_EXE_{name}");
        let hint = format!(
            "`bins = [\"{name}\"]` needs a binary target `{name}` in this package \
             (cargo sets {var} when building integration tests)"
        );
        mapping(quote!(::core::env!(#var, #hint)), target, Some(name))
    });
    let net = match net.as_str() {
        "none" => quote!(::isolated::__private::Net::None),
        "host" => quote!(::isolated::__private::Net::Host),
        "veth" => quote!(::isolated::__private::Net::Veth),
        _ => quote!(::isolated::__private::Net::Loopback),
    };
    let binds = bind
        .iter()
        .map(|(source, target)| mapping(quote!(#source), target, None));
    let should_panic = should_panic(&markers.should_panic);
    let ignore = ignore(&markers.ignore);
    quote! {
        #func

        ::isolated::__private::inventory::submit! {
            ::isolated::__private::TestDef {
                name: #name,
                module_path: ::core::module_path!(),
                file: ::core::file!(),
                line: #line,
                rootfs: #rootfs,
                hostname: #hostname,
                timeout_ms: #timeout_ms,
                env: &[#(#env),*],
                net: #net,
                copies: &[#(#copies,)* #(#bins),*],
                binds: &[#(#binds),*],
                limits: ::isolated::__private::Limits {
                    memory: #memory,
                    pids: #pids,
                    cpu_millis: #cpu_millis,
                },
                caps: &[#(#caps),*],
                privileged: #privileged,
                devices: &[#(#devices),*],
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                crate_dir: #crate_dir,
                keep: #keep,
                should_panic: #should_panic,
                ignore: #ignore,
                body: {
                    fn __isolated_body() -> ::core::result::Result<(), ::std::string::String> {
                        ::isolated::__private::IntoVerdict::into_verdict(#call)
                    }
                    __isolated_body
                },
            }
        }
    }
}

/// A `Limit`: the default, none, or a maximum.
fn limit(value: &Option<Option<u64>>) -> TokenStream {
    match value {
        None => quote!(::isolated::__private::Limit::Default),
        Some(None) => quote!(::isolated::__private::Limit::Unlimited),
        Some(Some(max)) => quote!(::isolated::__private::Limit::Max(#max)),
    }
}

/// A `Mapping` from `source` (an expression giving a `&'static str`) to `target`.
fn mapping(source: TokenStream, target: &str, bin: Option<&str>) -> TokenStream {
    let bin = match bin {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    };
    quote!(::isolated::__private::Mapping { source: #source, target: #target, bin: #bin })
}

fn should_panic(marker: &ShouldPanic) -> TokenStream {
    match marker {
        ShouldPanic::No => quote!(::isolated::__private::ShouldPanic::No),
        ShouldPanic::Yes => quote!(::isolated::__private::ShouldPanic::Yes),
        ShouldPanic::WithMessage(text) => {
            quote!(::isolated::__private::ShouldPanic::WithMessage(#text))
        }
    }
}

fn ignore(marker: &Ignore) -> TokenStream {
    match marker {
        Ignore::No => quote!(::isolated::__private::Ignore::No),
        Ignore::Yes => quote!(::isolated::__private::Ignore::Yes),
        Ignore::WithReason(reason) => quote!(::isolated::__private::Ignore::WithReason(#reason)),
    }
}
