use isolated::isolated;

#[isolated]
async fn t() {}

isolated::main!();
