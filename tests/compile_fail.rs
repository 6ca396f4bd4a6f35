//! Pins the messages and spans of `#[isolated]`'s compile errors (see `tests/ui/`).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
