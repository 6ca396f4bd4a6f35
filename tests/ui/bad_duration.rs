use isolated::isolated;

#[isolated(timeout = "10 parsecs")]
fn t() {}

isolated::main!();
