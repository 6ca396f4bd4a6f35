use isolated::isolated;

#[isolated(env = ["OK=1", "NO_EQUALS", "=empty", "1ST=x"])]
fn t() {}

isolated::main!();
