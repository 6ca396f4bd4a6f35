use isolated::isolated;

#[isolated]
#[ignore(reason = "slow")]
fn t() {}

isolated::main!();
