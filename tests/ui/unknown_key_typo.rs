use isolated::isolated;

#[isolated(rootf = "alpine")]
fn t() {}

isolated::main!();
