use isolated::isolated;

#[isolated]
#[test]
fn t() {}

isolated::main!();
