//! The rustdoc is the manual: every key `#[isolated]` accepts is documented on the attribute
//! (src/lib.rs) and in the README's table, which is also the crate's front page.

#[test]
fn every_key_is_documented_on_the_attribute_and_in_the_readme() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let attr = read("macros/src/keys.rs");
    let list = attr
        .split_once("const KEYS")
        .and_then(|(_, rest)| rest.split_once("];"))
        .map(|(list, _)| list)
        .expect("KEYS in macros/src/keys.rs");
    let keys: Vec<&str> = list.split('"').skip(1).step_by(2).collect();
    assert!(keys.len() >= 15, "{keys:?}");
    let (readme, lib) = (read("README.md"), read("src/lib.rs"));
    assert!(lib.contains("#![doc = include_str!(\"../README.md\")]"));
    for key in keys {
        assert!(
            readme.contains(&format!("| `{key}` |")),
            "{key} missing from the README's table"
        );
        assert!(
            lib.contains(&format!("/// - `{key} ")),
            "{key} missing from #[isolated]'s docs"
        );
    }
}
