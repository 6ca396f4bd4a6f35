use isolated::isolated;

#[isolated(timeout = "0s")]
fn t() {}

isolated::main!();
