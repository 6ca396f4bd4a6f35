use isolated::isolated;

#[isolated(hostname = "my box")]
fn t() {}

isolated::main!();
