//! `#[should_panic]` and `#[ignore]` below `#[isolated]`: read, then taken off the function,
//! because the runner, not libtest, acts on them.

use syn::{Attribute, Expr, LitStr, Meta};

use crate::attr;
use crate::errors::Errors;

/// What `#[should_panic]` asked for.
pub(crate) enum ShouldPanic {
    No,
    Yes,
    WithMessage(LitStr),
}

/// What `#[ignore]` asked for.
pub(crate) enum Ignore {
    No,
    Yes,
    WithReason(LitStr),
}

/// The libtest-style attributes found on the function.
pub(crate) struct Markers {
    pub(crate) should_panic: ShouldPanic,
    pub(crate) ignore: Ignore,
}

const SHOULD_PANIC_FORMS: &str = "expected #[should_panic], #[should_panic = \"message\"] \
                                  or #[should_panic(expected = \"message\")]";
const IGNORE_FORMS: &str = "expected #[ignore] or #[ignore = \"reason\"]";

/// Removes `#[should_panic]`, `#[ignore]`, a second `#[isolated]` and `#[test]` from `attrs`,
/// returning what the first two asked for; the other attributes stay on the function.
pub(crate) fn take(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Markers {
    let mut markers = Markers {
        should_panic: ShouldPanic::No,
        ignore: Ignore::No,
    };
    attrs.retain(|attr| {
        let path = attr.path();
        if path.is_ident("should_panic") {
            read_should_panic(attr, &mut markers.should_panic, errors);
        } else if path.is_ident("ignore") {
            read_ignore(attr, &mut markers.ignore, errors);
        } else if path.segments.last().is_some_and(|s| s.ident == "isolated") {
            errors.at(attr, "#[isolated] is applied more than once; keep one");
        } else if path.is_ident("test") {
            errors.at(
                attr,
                "remove #[test]: #[isolated] already registers the test",
            );
        } else {
            return true;
        }
        false
    });
    markers
}

fn read_should_panic(attr: &Attribute, slot: &mut ShouldPanic, errors: &mut Errors) {
    if !matches!(slot, ShouldPanic::No) {
        return errors.at(attr, "duplicate #[should_panic]");
    }
    let parsed = match &attr.meta {
        Meta::Path(_) => Some(ShouldPanic::Yes),
        Meta::NameValue(pair) => string_literal(&pair.value).map(ShouldPanic::WithMessage),
        Meta::List(list) => list
            .parse_args::<Meta>()
            .ok()
            .and_then(|inner| match inner {
                Meta::NameValue(pair) if pair.path.is_ident("expected") => {
                    string_literal(&pair.value).map(ShouldPanic::WithMessage)
                }
                _ => None,
            }),
    };
    match parsed {
        Some(found) => *slot = found,
        None => errors.at(
            attr,
            format!("invalid #[should_panic]: {SHOULD_PANIC_FORMS}"),
        ),
    }
}

fn read_ignore(attr: &Attribute, slot: &mut Ignore, errors: &mut Errors) {
    if !matches!(slot, Ignore::No) {
        return errors.at(attr, "duplicate #[ignore]");
    }
    let parsed = match &attr.meta {
        Meta::Path(_) => Some(Ignore::Yes),
        Meta::NameValue(pair) => string_literal(&pair.value).map(Ignore::WithReason),
        Meta::List(_) => None,
    };
    match parsed {
        Some(found) => *slot = found,
        None => errors.at(attr, format!("invalid #[ignore]: {IGNORE_FORMS}")),
    }
}

fn string_literal(value: &Expr) -> Option<LitStr> {
    attr::string_literal(value).cloned()
}
