//! `isolated`: enter a kept test environment, start one by hand, list and clean them.
//! `isolated help` says how.

fn main() {
    isolated::__private::cli_main()
}
