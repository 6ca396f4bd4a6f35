//! `examples/messages.rs`: a fixture search is listed once per run, then referred to; a
//! missing `copy` source names its entry.

mod common;

use common::failure;

#[test]
fn a_fixture_search_is_listed_once_then_referred_to() {
    let out = std::process::Command::new(common::example("messages"))
        .args(["needs_"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let tests = ["needs_a_missing_fixture", "needs_the_same_missing_fixture"];
    let messages = tests.map(|t| failure(&stdout, t));
    let full: Vec<usize> = (0..2)
        .filter(|&i| messages[i].contains("searched, in order:"))
        .collect();
    assert_eq!(full.len(), 1, "the search listed once:\n{stdout}");
    let (first, other) = (full[0], 1 - full[0]);
    assert!(messages[first].contains("fixture `no-such-fixture` not found"));
    assert!(
        messages[other].contains(&format!(
            "fixture `no-such-fixture` not found (in full in the failure of `{}`",
            tests[first]
        )),
        "{}",
        messages[other]
    );
    assert_eq!(
        messages[other].lines().filter(|l| !l.is_empty()).count(),
        1,
        "{}",
        messages[other]
    );
}

#[test]
fn a_missing_copy_source_names_the_copy_entry() {
    let out = std::process::Command::new(common::example("messages"))
        .args(["--exact", "copies_a_missing_file"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let message = failure(&stdout, "copies_a_missing_file");
    let entry =
        "the source of `copy = [\"tests/data/no-such-file.toml:/etc/app.toml\"]` cannot be read: ";
    assert!(message.contains(entry), "{message}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/no-such-file.toml");
    assert!(message.contains(path), "{message}");
    assert!(!message.contains("failed to read fixture"), "{message}");
}
