//! The `isolated` command: into kept environments and fresh ones, by hand.
//!
//! ```text
//! isolated enter ID|TEST [-- CMD...]   a shell (or CMD) in a kept environment
//! isolated run [KEY=VALUE...] [-- CMD...]  a fresh environment, with #[isolated]'s keys
//! isolated list [-v]                   the kept environments
//! isolated clean                       end and remove them all
//! ```
//!
//! The `isolated` binary of this crate runs it, and so does every test binary made with
//! `isolated::main!()`, as `TEST-BINARY --isolated enter ID`: the command a kept test's
//! failure message prints works where the tests ran, installed or not.

mod enter;
mod list;
mod run;

/// What a test binary takes before the command's words.
const IN_A_TEST_BINARY: &str = "--isolated";

const USAGE: &str = "\
usage: isolated enter ID|TEST [-- CMD...]    a shell (or CMD) in a kept environment
       isolated run [KEY=VALUE...] [-- CMD...]  a fresh environment: #[isolated]'s keys,
                                                  like rootfs=alpine net=veth hostname=box
       isolated list [-v]                      the kept environments (ISOLATED_KEEP=failed),
                                                  -v: with what each held when kept
       isolated clean                          end and remove every kept environment
In a test binary made with isolated::main!(), the same after --isolated.";

/// The `isolated` binary's `main`.
pub fn main() -> ! {
    // `isolated run` starts its environment's PID 1 from this binary too.
    crate::child::run_if_child();
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(dispatch(&args))
}

/// In a test binary: `--isolated ...` runs the command, and the binary exits with its code.
pub(crate) fn run_if_asked() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(IN_A_TEST_BINARY) {
        std::process::exit(dispatch(&args[1..]))
    }
}

/// Runs one command; its exit code.
fn dispatch(args: &[String]) -> i32 {
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return 2;
        }
    };
    let result = match command {
        "enter" => enter_command(rest),
        "run" => run::run(rest),
        "list" => list::list(rest.iter().any(|a| a == "-v" || a == "--verbose")),
        "clean" => list::clean(),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(0)
        }
        other => {
            eprintln!("isolated: unknown command `{other}`\n{USAGE}");
            return 2;
        }
    };
    result.unwrap_or_else(|e| {
        eprintln!("isolated: {e}");
        1
    })
}

/// `enter ID|TEST [--] [CMD...]`.
fn enter_command(args: &[String]) -> Result<i32, String> {
    let Some((what, rest)) = args.split_first() else {
        return Err(format!(
            "enter needs the kept environment's id or test name\n{USAGE}"
        ));
    };
    let command = match rest.first().map(String::as_str) {
        Some("--") => &rest[1..],
        _ => rest,
    };
    let record = crate::kept::Records::here().find(what)?;
    enter::enter(&record, command, None)
}

/// Splits `args` at `--`: (before, after).
fn split_at_dashes(args: &[String]) -> (&[String], &[String]) {
    match args.iter().position(|a| a == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[]),
    }
}
