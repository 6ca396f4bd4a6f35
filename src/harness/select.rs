//! Which trials a command line selects, libtest's way: positional filters (any may match),
//! then `--skip`, then `--exclude-should-panic`, then `--ignored`.

use super::args::Arguments;
use super::trial::Trial;

/// A trial left after filtering, and whether it runs or is reported ignored.
pub(super) struct Selected {
    pub trial: Trial,
    pub runs: bool,
}

/// The trials `args` selects, in name order, and how many were filtered out.
pub(super) fn select(args: &Arguments, mut trials: Vec<Trial>) -> (Vec<Selected>, usize) {
    let total = trials.len();
    let matches = |trial: &Trial, filter: &str| match args.exact {
        true => trial.name == filter,
        false => trial.name.contains(filter),
    };
    trials.retain(|t| args.filters.is_empty() || args.filters.iter().any(|f| matches(t, f)));
    trials.retain(|t| !args.skip.iter().any(|f| matches(t, f)));
    trials.retain(|t| !(args.exclude_should_panic && t.should_panic));
    trials.retain(|t| !args.ignored || t.ignored.is_some());
    trials.sort_by(|a, b| a.name.cmp(&b.name));
    let filtered_out = total - trials.len();
    let selected = trials
        .into_iter()
        .map(|trial| {
            let wanted = trial.ignored.is_none() || args.ignored || args.include_ignored;
            Selected {
                runs: wanted && !args.bench_only,
                trial,
            }
        })
        .collect();
    (selected, filtered_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Outcome;

    fn trials() -> Vec<Trial> {
        let passed = || Outcome::Passed {
            output: String::new(),
        };
        vec![
            Trial::test("b::two", passed),
            Trial::test("a::one", passed),
            Trial::test("a::one_ignored", passed).ignored(Some("slow")),
            Trial::test("c::panics", passed).should_panic(true),
        ]
    }

    fn names(args: &[&str]) -> (Vec<(String, bool)>, usize) {
        let args = Arguments::parse(args.iter().copied(), |_| None).unwrap();
        let (selected, out) = select(&args, trials());
        let names = selected
            .into_iter()
            .map(|s| (s.trial.name, s.runs))
            .collect();
        (names, out)
    }

    fn running(args: &[&str]) -> Vec<String> {
        let (names, _) = names(args);
        names
            .into_iter()
            .filter(|(_, r)| *r)
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn a_test_runs_if_any_filter_matches() {
        assert_eq!(running(&["two", "panics"]), ["b::two", "c::panics"]);
        assert_eq!(names(&["two", "panics"]).1, 2);
        assert_eq!(running(&["--exact", "a::one", "two"]), ["a::one"]);
    }

    #[test]
    fn skip_should_panic_and_ignored() {
        assert_eq!(running(&["--skip", "a::", "--skip", "b"]), ["c::panics"]);
        assert_eq!(running(&["--exclude-should-panic"]), ["a::one", "b::two"]);
        assert_eq!(running(&["--ignored"]), ["a::one_ignored"]);
        assert_eq!(names(&["--ignored"]).1, 3);
        assert_eq!(running(&["--include-ignored"]).len(), 4);
        let (all, out) = names(&[]);
        assert_eq!(out, 0);
        assert_eq!(all[1], ("a::one_ignored".to_string(), false));
    }

    #[test]
    fn bench_mode_ignores_every_test() {
        assert!(running(&["--bench"]).is_empty());
        assert_eq!(names(&["--bench"]).0.len(), 4);
    }
}
